"""Issue 14, first slice: the live source routes with the real binary. Two synthetic sources
stream to the file sink; through the API a third is added (POST), one is changed (PUT),
stopped and started, and the added one is removed (DELETE ?spool=drain). The untouched
source's records show no gap and no duplicate (synthetic `seq`), the changed one resumes,
/api/status agrees with /api/sources, and bad requests get the documented errors."""
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from harness import api_call as call  # noqa: E402

BINARY = os.environ["UC_BINARY"]

CONFIG = """
connector: {{name: api-edge, data_dir: {data}}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {port}}}
sources:
  - {{name: steady, protocol: synthetic, equipment: e1, interval_ms: 10, tags: [{{name: n, generator: counter}}]}}
  - {{name: changing, protocol: synthetic, equipment: e2, interval_ms: 10, tags: [{{name: n, generator: counter}}]}}
sinks:
  file: {{enabled: true, directory: {data}/records, rotate_s: 0, batch: {{max_records: 100, linger_ms: 10}}}}
backpressure:
  disk_spool: {{enabled: true, directory: {data}/spool, fsync: never}}
"""


def received(port, name):
    return call(port, "GET", f"/api/sources/{name}")[1]["counters"]["records_received"]


class ApiSources(unittest.TestCase):
    def assert_error(self, answer, status, code):
        self.assertEqual(answer[0], status, answer)
        self.assertEqual(set(answer[1]["error"]), {"code", "message", "details"}, answer)
        self.assertEqual(answer[1]["error"]["code"], code, answer)
        return answer[1]["error"]

    def test_add_change_stop_start_remove_while_others_stream(self):
        wd = harness.Workdir("uc_api_sources_")
        data = os.path.join(wd.path, "data")
        port = harness.free_port()
        cfg = wd.write("config.yaml", CONFIG.format(data=data, port=port))
        os.environ["UC_TEST_SECRET"] = "hunter2-env-value"  # inherited by the connector
        proc = harness.start(BINARY, "run", "--config", cfg, cwd=wd.path)
        try:
            harness.wait_for(lambda: received(port, "steady") > 20 and received(port, "changing") > 20, 30, "streaming")
            code, body = call(port, "GET", "/api/sources")
            self.assertEqual(code, 200)
            self.assertEqual([s["name"] for s in body["sources"]], ["steady", "changing"])
            self.assertEqual(body["sources"][0]["config"]["interval_ms"], 10)

            added = {"name": "added", "protocol": "synthetic", "equipment": "e3", "interval_ms": 10,
                     "tags": [{"name": "n", "generator": "counter"}]}
            code, view = call(port, "POST", "/api/sources", added)
            self.assertEqual(code, 201, view)
            self.assertEqual(view["config"], added)
            harness.wait_for(lambda: received(port, "added") > 10, 30, "the added source")

            # Errors: duplicate, field errors with pointers and the YAML text, malformed JSON,
            # oversized body, unknown names, routes and methods.
            self.assert_error(call(port, "POST", "/api/sources", added), 409, "already_exists")
            bad = dict(added, name="bad", interval_ms="often", colour="red")
            e = self.assert_error(call(port, "POST", "/api/sources", bad), 400, "invalid_source")
            self.assertIn({"pointer": "/interval_ms", "message": "expected an integer, got \"often\""},
                          e["details"]["errors"])
            self.assertIn("/colour", [x["pointer"] for x in e["details"]["errors"]])
            self.assert_error(call(port, "POST", "/api/sources", raw=b"{\"name\": "), 400, "malformed_json")
            # A body cannot read the connector's environment back through an error message.
            leak = dict(added, name="leak", equipment="${env:UC_TEST_SECRET}", interval_ms="${env:UC_TEST_SECRET}")
            code, body = call(port, "POST", "/api/sources", leak)
            self.assertEqual(code, 400, body)
            self.assertNotIn("hunter2-env-value", json.dumps(body))
            self.assert_error(call(port, "POST", "/api/sources", raw=b"x" * (1024 * 1024 + 1)), 413, "body_too_large")
            self.assert_error(call(port, "GET", "/api/sources/nope"), 404, "not_found")
            self.assert_error(call(port, "POST", "/api/sources/nope/stop"), 404, "not_found")
            self.assert_error(call(port, "GET", "/api/sourcez"), 404, "not_found")
            self.assert_error(call(port, "PATCH", "/api/sources/steady", {}), 405, "method_not_allowed")
            renamed = dict(added, name="other")
            e = self.assert_error(call(port, "PUT", "/api/sources/added", renamed), 400, "invalid_source")
            self.assertEqual(e["details"]["errors"][0]["pointer"], "/name")

            # Change one: a second tag; it keeps its counters.
            before = received(port, "changing")
            changed = {"name": "changing", "protocol": "synthetic", "equipment": "e2", "interval_ms": 10,
                       "tags": [{"name": "n", "generator": "counter"}, {"name": "m", "generator": "sine"}]}
            code, view = call(port, "PUT", "/api/sources/changing", changed)
            self.assertEqual(code, 200, view)
            self.assertGreaterEqual(view["counters"]["records_received"], before)
            self.assertEqual(len(view["config"]["tags"]), 2)

            # Stop and start it; while stopped, /api/status and /api/sources agree.
            code, view = call(port, "POST", "/api/sources/changing/stop")
            self.assertEqual((code, view["state"]), (200, "stopped"))
            status = call(port, "GET", "/api/status")[1]
            by_name = {s["name"]: s for s in status["sources"]}
            self.assertEqual(by_name["changing"]["records_received"], received(port, "changing"))
            self.assertEqual(by_name["changing"]["state"], "stopped")
            stopped_at = received(port, "changing")
            self.assertEqual(call(port, "POST", "/api/sources/changing/start")[0], 200)
            harness.wait_for(lambda: received(port, "changing") > stopped_at + 10, 30, "the restarted source")

            # Remove the added one, waiting for its records to be durable.
            code, body = call(port, "DELETE", "/api/sources/added?spool=drain")
            self.assertEqual((code, body), (200, {"removed": "added", "spool": "drain", "drained": True, "saved": True}))
            self.assert_error(call(port, "GET", "/api/sources/added"), 404, "not_found")
            status = call(port, "GET", "/api/status")[1]
            self.assertEqual(sorted(s["name"] for s in status["sources"]), ["changing", "steady"])
            names = [s["name"] for s in call(port, "GET", "/api/sources")[1]["sources"]]
            self.assertEqual(names, ["steady", "changing"])
            time.sleep(0.2)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)

        records = harness.read_jsonl_dir(os.path.join(data, "records", "default"))
        seqs = {}
        for r in records:
            seqs.setdefault((r["source_name"], r["tag_name"]), []).append(int(r["metadata"]["seq"]))
        steady = sorted(seqs[("steady", "n")])
        self.assertEqual(steady, list(range(0, len(steady))), "steady: a gap or a duplicate")
        self.assertGreater(len(seqs[("added", "n")]), 10)
        self.assertIn(("changing", "m"), seqs)


if __name__ == "__main__":
    unittest.main()

"""Issue 14: GET /api/tags and /api/tags/{path} with the real binary. Two synthetic sources
stream; the latest values change over time, the filters and paging select what they say,
malformed query values answer 400 with the standard error shape, one tag is read with its
path as is and %2F-encoded, and a source removed through the API takes its tags along."""
import os
import signal
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from harness import api_call as call  # noqa: E402

BINARY = os.environ["UC_BINARY"]

CONFIG = """
connector: {{name: tags-edge, data_dir: {data}}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {port}}}
sources:
  - name: alpha
    protocol: synthetic
    site: plant
    equipment: oven
    interval_ms: 20
    tags:
      - {{name: n, generator: counter}}
      - {{name: temp, generator: sine, unit: degC, min: 10, max: 90, period_s: 5}}
      - {{name: running, generator: bool}}
      - {{name: mode, generator: string}}
  - {{name: beta, protocol: synthetic, site: plant, equipment: press, interval_ms: 20,
      tags: [{{name: n, generator: counter}}, {{name: m, generator: counter}}]}}
sinks:
  file: {{enabled: true, directory: {data}/records, rotate_s: 0, batch: {{max_records: 100, linger_ms: 10}}}}
"""


def tags(port, query=""):
    code, body = call(port, "GET", "/api/tags" + query)
    assert code == 200, (code, body)
    return body


class ApiTags(unittest.TestCase):
    def assert_error(self, answer, status, code):
        self.assertEqual(answer[0], status, answer)
        self.assertEqual(set(answer[1]["error"]), {"code", "message", "details"}, answer)
        self.assertEqual(answer[1]["error"]["code"], code, answer)
        return answer[1]["error"]

    def test_latest_values_filters_errors_and_removal(self):
        wd = harness.Workdir("uc_api_tags_")
        data = os.path.join(wd.path, "data")
        port = harness.free_port()
        cfg = wd.write("config.yaml", CONFIG.format(data=data, port=port))
        proc = harness.start(BINARY, "run", "--config", cfg, cwd=wd.path)
        try:
            harness.wait_for(lambda: tags(port)["total"] == 6, 30, "six tags")
            body = tags(port)
            self.assertEqual((body["offset"], body["limit"]), (0, 100))
            paths = [t["path"] for t in body["tags"]]
            self.assertEqual(paths, sorted(paths))
            by_name = {(t["source"], t["path"].rsplit("/", 1)[1]): t for t in body["tags"]}
            self.assertEqual(set(by_name), {("alpha", "n"), ("alpha", "temp"), ("alpha", "running"),
                                            ("alpha", "mode"), ("beta", "n"), ("beta", "m")})
            temp = by_name[("alpha", "temp")]
            self.assertEqual(temp["unit"], "degC")
            self.assertIsInstance(temp["value"], float)
            self.assertIn(temp["quality"], ("good", "uncertain", "bad"))
            self.assertIsInstance(by_name[("alpha", "running")]["value"], bool)
            self.assertIsInstance(by_name[("alpha", "mode")]["value"], str)
            self.assertNotIn("unit", by_name[("alpha", "n")])
            for t in body["tags"]:
                self.assertTrue(t["path"].startswith("plant/"), t)
                self.assertGreaterEqual(t["age_ms"], 0)
                self.assertTrue(t["receive_time"].endswith("Z"), t)
                self.assertGreater(t["receive_time_us"], 0)

            # One tag, its path as is and %2F-encoded; its counter moves on.
            counter = by_name[("alpha", "n")]["path"]
            code, first = call(port, "GET", "/api/tags/" + counter)
            self.assertEqual(code, 200, first)
            self.assertEqual(first["path"], counter)
            harness.wait_for(lambda: call(port, "GET", "/api/tags/" + urllib.parse.quote(counter, safe=""))[1]
                             ["value"] > first["value"] + 5, 30, "the counter to move on")
            code, again = call(port, "GET", "/api/tags/" + urllib.parse.quote(counter, safe=""))
            self.assertGreater(again["updates"], first["updates"])
            self.assertGreaterEqual(again["receive_time_us"], first["receive_time_us"])
            e = self.assert_error(call(port, "GET", "/api/tags/plant/nothing/here"), 404, "not_found")
            self.assertEqual(e["details"]["path"], "plant/nothing/here")

            # Filters and paging.
            self.assertEqual({t["source"] for t in tags(port, "?source=beta")["tags"]}, {"beta"})
            self.assertEqual(tags(port, "?source=beta")["total"], 2)
            self.assertEqual(tags(port, "?source=nobody")["total"], 0)
            prefix = counter.rsplit("/", 1)[0] + "/"
            self.assertTrue(all(t["path"].startswith(prefix) for t in tags(port, "?prefix=" + prefix)["tags"]))
            globbed = tags(port, "?glob=" + urllib.parse.quote("**/n"))
            self.assertEqual(globbed["total"], 2)
            self.assertEqual({t["source"] for t in globbed["tags"]}, {"alpha", "beta"})
            self.assertEqual(tags(port, "?glob=" + urllib.parse.quote("plant/*/n"))["total"], 0)
            page = tags(port, "?offset=2&limit=3")
            self.assertEqual((page["total"], page["offset"], page["limit"]), (6, 2, 3))
            self.assertEqual([t["path"] for t in page["tags"]], paths[2:5])
            self.assertEqual(tags(port, "?offset=6")["tags"], [])

            # Malformed query values.
            for query, parameter in (("limit=abc", "limit"), ("limit=1001", "limit"), ("limit=", "limit"),
                                     ("offset=-1", "offset"), ("offset=1.5", "offset"), ("glob=a**", "glob"),
                                     ("glob=", "glob"), ("glob=a//b", "glob"), ("sources=beta", "sources")):
                e = self.assert_error(call(port, "GET", "/api/tags?" + query), 400, "invalid_query")
                self.assertEqual(e["details"]["parameter"], parameter, query)
            self.assert_error(call(port, "POST", "/api/tags"), 405, "method_not_allowed")

            # A removed source's tags go away; the other's stay and keep changing.
            code, body = call(port, "DELETE", "/api/sources/beta")
            self.assertEqual(code, 200, body)
            self.assertEqual(tags(port, "?source=beta")["total"], 0)
            self.assertEqual(tags(port)["total"], 4)
            self.assert_error(call(port, "GET", "/api/tags/" + by_name[("beta", "n")]["path"]), 404, "not_found")
            time.sleep(0.3)
            self.assertEqual(tags(port, "?source=beta")["total"], 0)
            code, doc = call(port, "GET", "/api/openapi.json")
            self.assertIn("/api/tags/{path}", doc["paths"])
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)


if __name__ == "__main__":
    unittest.main()

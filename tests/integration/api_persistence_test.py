"""Issue 14: API changes survive a restart (the managed file beside the config, ADR 0008),
SIGHUP and POST /api/config/reload apply the file's difference, and a broken file changes
nothing. Three synthetic sources stream with per-tag sequence numbers; the untouched one
must show no gap and no duplicate through every change, reload and the restart."""
import os
import signal
import stat
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from harness import api_call as call  # noqa: E402

BINARY = os.environ["UC_BINARY"]

HEAD = """
connector: {{name: persist, data_dir: {data}}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {port}}}
sinks:
  file: {{enabled: true, directory: {data}/records, rotate_s: 0, batch: {{max_records: 100, linger_ms: 10}}}}
backpressure:
  disk_spool: {{enabled: true, directory: {data}/spool, fsync: never}}
sources:
"""


def synthetic(name, equipment, tags=("n",)):
    tag_list = ", ".join(f"{{name: {t}, generator: counter}}" for t in tags)
    return f"  - {{name: {name}, protocol: synthetic, equipment: {equipment}, interval_ms: 10, tags: [{tag_list}]}}\n"


def names(port):
    return [s["name"] for s in call(port, "GET", "/api/sources")[1]["sources"]]


def received(port, name):
    return call(port, "GET", f"/api/sources/{name}")[1]["counters"]["records_received"]


class Persistence(unittest.TestCase):
    def test_api_changes_survive_a_restart_and_reload_applies_the_file(self):
        wd = harness.Workdir("uc_api_persist_")
        data = os.path.join(wd.path, "data")
        port = harness.free_port()
        head = HEAD.format(data=data, port=port)
        base = synthetic("steady", "e1") + synthetic("changing", "e2") + synthetic("doomed", "e3")
        cfg = wd.write("config.yaml", head + base)
        managed = os.path.join(wd.path, "config.api.yaml")
        proc = harness.start(BINARY, "run", "--config", cfg, cwd=wd.path)
        try:
            harness.wait_for(lambda: received(port, "steady") > 20, 30, "streaming")
            added = {"name": "added", "protocol": "synthetic", "equipment": "e4", "interval_ms": 10,
                     "tags": [{"name": "n", "generator": "counter"}]}
            code, view = call(port, "POST", "/api/sources", added)
            self.assertEqual((code, view["saved"]), (201, True), view)
            changed = dict(added, name="changing", equipment="e2-changed")
            code, view = call(port, "PUT", "/api/sources/changing", changed)
            self.assertEqual((code, view["saved"]), (200, True), view)
            code, body = call(port, "DELETE", "/api/sources/doomed")
            self.assertEqual((code, body["saved"]), (200, True), body)
            self.assertEqual(stat.S_IMODE(os.stat(managed).st_mode), 0o600)
            with open(cfg) as f:
                self.assertEqual(f.read(), head + base, "the user's file is never written")
            v = subprocess.run([BINARY, "validate", "--config", cfg], capture_output=True, text=True)
            self.assertEqual(v.returncode, 0, v.stderr)
            self.assertIn("ok (3 sources)", v.stdout)

            # SIGHUP with an edited file: a source added in the file appears; the API's
            # changes stay on top; nothing else is touched.
            with open(cfg, "w") as f:
                f.write(head + base + synthetic("fromfile", "e5"))
            before = received(port, "steady")
            proc.send_signal(signal.SIGHUP)
            harness.wait_for(lambda: "fromfile" in names(port), 30, "the reloaded source")
            # The file's sources in its order, then those the API added.
            self.assertEqual(names(port), ["steady", "changing", "fromfile", "added"])
            self.assertEqual(call(port, "GET", "/api/sources/changing")[1]["config"]["equipment"], "e2-changed")
            harness.wait_for(lambda: received(port, "steady") > before, 10, "steady to keep streaming")

            # The same through the API: nothing differs now.
            code, r = call(port, "POST", "/api/config/reload")
            self.assertEqual(code, 200, r)
            self.assertEqual((r["added"], r["changed"], r["removed"], r["unchanged"]), ([], [], [], 4), r)
            self.assertEqual(r["restart_required"], [])

            # A broken file changes nothing and says where it is broken.
            with open(cfg, "w") as f:
                f.write(head + base + "  - {name: bad, protocol: synthetic, interval_ms: often}\n")
            code, r = call(port, "POST", "/api/config/reload")
            self.assertEqual(code, 400, r)
            self.assertEqual(r["error"]["code"], "invalid_config")
            self.assertTrue(any("config.yaml:" in e and "interval_ms" in e for e in r["error"]["details"]["errors"]),
                            r)
            proc.send_signal(signal.SIGHUP)
            time.sleep(0.5)
            self.assertIsNone(proc.poll(), "SIGHUP with a broken file must not stop the connector")
            self.assertEqual(names(port), ["steady", "changing", "fromfile", "added"])

            # A changed sink section is reported as needing a restart.
            with open(cfg, "w") as f:
                f.write(head.replace("max_records: 100", "max_records: 50") + base + synthetic("fromfile", "e5"))
            code, r = call(port, "POST", "/api/config/reload")
            self.assertEqual((code, r["restart_required"]), (200, ["sinks"]), r)
        finally:
            harness.stop_process(proc)
        self.assertEqual(proc.returncode, 0, proc.stderr.read()[-3000:])

        # After a restart the API's changes are still there.
        proc = harness.start(BINARY, "run", "--config", cfg, cwd=wd.path)
        try:
            harness.wait_for(lambda: received(port, "added") > 10, 30, "the restarted connector")
            self.assertEqual(names(port), ["steady", "changing", "fromfile", "added"])
            self.assertEqual(call(port, "GET", "/api/sources/changing")[1]["config"]["equipment"], "e2-changed")
            harness.wait_for(lambda: received(port, "steady") > 20, 30, "steady after the restart")
        finally:
            harness.stop_process(proc)
        self.assertEqual(proc.returncode, 0)

        seqs = {}
        for r in harness.read_jsonl_dir(os.path.join(data, "records", "default")):
            seqs.setdefault((r["source_name"], r["tag_name"]), []).append(int(r["metadata"]["seq"]))
        # The synthetic source counts from 0 at each start of its process: one run each.
        steady = sorted(seqs[("steady", "n")])
        runs = [s for s in steady if s == 0]
        self.assertEqual(len(runs), 2, "steady ran once per process start, never restarted by a change")
        self.assertEqual(sorted(set(steady)), list(range(max(steady) + 1)), "steady: a gap")
        for value in set(steady):
            self.assertLessEqual(steady.count(value), 2, "steady: a duplicate within one run")


if __name__ == "__main__":
    unittest.main()

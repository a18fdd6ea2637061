"""Issue 14: `kill -9` during configuration writes never leaves a torn configuration.
Ten rounds: start the connector, change sources through the API as fast as it answers
(add, replace, delete: over 100 writes of the managed file in all), kill -9 it at a random
moment, then check that `validate` accepts the configuration, that the managed file is
one whole YAML document, and that the next start runs what it says."""
import os
import random
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from harness import api_call as call  # noqa: E402

BINARY = os.environ["UC_BINARY"]

CONFIG = """
connector: {{name: kill-config, data_dir: {data}}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {port}}}
sinks:
  file: {{enabled: true, directory: {data}/records, rotate_s: 0}}
backpressure:
  disk_spool: {{enabled: true, directory: {data}/spool, fsync: never}}
sources:
  - {{name: base, protocol: synthetic, equipment: e, interval_ms: 100, tags: [{{name: n, generator: counter}}]}}
"""


def source(i):
    return {"name": f"s{i % 7}", "protocol": "synthetic", "equipment": f"e{i}", "interval_ms": 100,
            "tags": [{"name": "n", "generator": "counter"}]}


class ConfigKill(unittest.TestCase):
    def test_kill_during_writes_leaves_a_whole_configuration(self):
        rnd = random.Random(14)
        wd = harness.Workdir("uc_config_kill_")
        port = harness.free_port()
        cfg = wd.write("config.yaml", CONFIG.format(data=os.path.join(wd.path, "data"), port=port))
        writes = 0
        for round_no in range(10):
            proc = harness.start(BINARY, "run", "--config", cfg, cwd=wd.path)
            try:
                harness.wait_for(lambda: call(port, "GET", "/api/sources")[0] == 200, 30, "the API")
                stop = threading.Event()
                done = []

                def write_loop():
                    i = round_no * 1000
                    while not stop.is_set():
                        i += 1
                        s = source(i)
                        try:
                            code, _ = call(port, "PUT", f"/api/sources/{s['name']}", s)
                            if code == 404:
                                code, _ = call(port, "POST", "/api/sources", s)
                            if i % 5 == 0:
                                call(port, "DELETE", f"/api/sources/{s['name']}")
                            done.append(code)
                        except Exception:  # the connector was killed mid-request
                            return
                t = threading.Thread(target=write_loop)
                t.start()
                time.sleep(rnd.uniform(0.2, 1.0))
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
                stop.set()
                t.join(timeout=30)
                writes += len(done)
            finally:
                harness.stop_process(proc)
            v = subprocess.run([BINARY, "validate", "--config", cfg], capture_output=True, text=True)
            self.assertEqual(v.returncode, 0, f"round {round_no}: {v.stdout}{v.stderr}")
            leftovers = [f for f in os.listdir(wd.path) if ".tmp-" in f]
            self.assertLessEqual(len(leftovers), 1, leftovers)  # at most the one being written
        print(f"{writes} configuration writes across 10 kills", flush=True)
        self.assertGreaterEqual(writes, 100)

        # The last state starts and runs what the files say.
        proc = harness.start(BINARY, "run", "--config", cfg, cwd=wd.path)
        try:
            harness.wait_for(lambda: call(port, "GET", "/api/sources")[0] == 200, 30, "the API")
            listed = [s["name"] for s in call(port, "GET", "/api/sources")[1]["sources"]]
            v = subprocess.run([BINARY, "validate", "--config", cfg], capture_output=True, text=True)
            self.assertIn(f"ok ({len(listed)} sources)", v.stdout)
        finally:
            harness.stop_process(proc)


if __name__ == "__main__":
    unittest.main()

"""Issue 6 proof: kill -9 the connector at random moments while its sink is down, then
bring the sink up; every record the spool accepted is delivered (per-tag sequence
numbers show no gaps), and duplicates (from a crash while delivering) are bounded and
counted by the spool's recovery report."""
import collections
import json
import os
import random
import signal
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

BINARY = os.environ["UC_BINARY"]

CONFIG = """
connector: {{name: crash-edge, log_level: info, data_dir: {data}}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {port}}}
sources:
  - {{name: gen, protocol: synthetic, equipment: press, tag_count: 20, interval_ms: 2}}
sinks:
  file: {{enabled: true, directory: {data}/records, rotate_mb: 64, rotate_s: 0,
          batch: {{max_records: 200, max_bytes: 1048576, linger_ms: 10}}}}
backpressure:
  max_queue_size: 5000
  drop_policy: block
  disk_spool: {{enabled: true, directory: {data}/spool, max_size_mb: 64, fsync: batch}}
  dlq: {{directory: {data}/dlq}}
  retry: {{initial_ms: 20, max_ms: 200}}
  circuit_breaker: {{failure_threshold: 1000, open_s: 1}}
"""


def status(port):
    _, _, body = harness.http_get(port, "/api/status")
    return json.loads(body)


class CrashRecovery(unittest.TestCase):
    def test_kill9_loses_nothing_the_spool_accepted(self):
        rng = random.Random(int(os.environ.get("UC_CRASH_SEED", "1234")))
        wd = harness.Workdir("uc_crash_")
        data = os.path.join(wd.path, "data")
        os.makedirs(data)
        port = harness.free_port()
        cfg = wd.write("config.yaml", CONFIG.format(data=data, port=port))
        blocker = os.path.join(data, "records")
        with open(blocker, "w") as f:  # a file where the sink's directory should be: the sink is down
            f.write("sink down")

        spooled_before_kill = []
        redelivered = 0
        for run in range(4):
            if run == 3:
                os.remove(blocker)  # the sink comes back; this run crashes while delivering
            proc = harness.start(BINARY, "run", "--config", cfg, cwd=wd.path)
            try:
                first = harness.wait_for(lambda: status(port), 30, "the API")
                redelivered += first["targets"][0]["spool"]["recovery"]["redelivered"]
                want = rng.randint(300, 3000)
                st = harness.wait_for(
                    lambda: (s := status(port))["targets"][0]["records_spooled"] >= want and s, 60, "records spooled")
                if run == 3:
                    harness.wait_for(lambda: status(port)["targets"][0]["records_delivered"] > 0, 60, "deliveries")
                    st = status(port)
                spooled_before_kill.append(st["targets"][0]["records_spooled"])
                self.assertEqual(st["targets"][0]["spool"]["enabled"], True)
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.communicate(timeout=30)

        # Final run: the sink is up; let it drain the spool, then stop gracefully.
        proc = harness.start(BINARY, "run", "--config", cfg, cwd=wd.path)
        try:
            first = harness.wait_for(lambda: status(port), 30, "the API")
            redelivered += first["targets"][0]["spool"]["recovery"]["redelivered"]
            harness.wait_for(lambda: status(port)["targets"][0]["spool"]["unacked_records"] < 500, 120,
                             "the spool to drain")
            code, _, body = harness.http_get(port, "/metrics")
            self.assertIn(b"uc_disk_spooled_bytes{target=", body)
            self.assertIn(b"uc_circuit_breaker_state{target=", body)
            self.assertIn(b'sink="file"', body)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)

        records = harness.read_jsonl_dir(os.path.join(data, "records", "default"))
        per_run = collections.defaultdict(lambda: collections.defaultdict(list))
        first_time = {}
        for r in records:
            run_id = r["metadata"]["run"]
            per_run[run_id][r["tag_path"]].append(int(r["metadata"]["seq"]))
            first_time[run_id] = min(first_time.get(run_id, r["event_time"]), r["event_time"])
        runs = sorted(per_run, key=lambda k: first_time[k])
        self.assertEqual(len(runs), 5, "every run's records reach the sink")
        duplicates = 0
        for i, run_id in enumerate(runs):
            distinct = 0
            for path, seqs in per_run[run_id].items():
                unique = sorted(set(seqs))
                self.assertEqual(unique, list(range(len(unique))), f"run {i} {path}: a gap in the sequence")
                duplicates += len(seqs) - len(unique)
                distinct += len(unique)
            if i < len(spooled_before_kill):
                self.assertGreaterEqual(distinct, spooled_before_kill[i],
                                        f"run {i}: fewer records delivered than the spool had accepted")
        # Duplicates only come from the crash while delivering, and the spool counts them.
        self.assertLessEqual(duplicates, redelivered)
        print(f"runs={len(runs)} records={len(records)} duplicates={duplicates} redelivered_reported={redelivered} "
              f"spooled_before_kill={spooled_before_kill}")


if __name__ == "__main__":
    unittest.main()

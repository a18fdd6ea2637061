"""End to end: run the binary on synthetic sources with the file sink, stop it with
SIGTERM, and prove that every generated record is in the files exactly once, in order
per tag, with the right paths, targets and qualities. Also checks /api/status and
validates /metrics with the prometheus_client parser."""
import os
import resource
import signal
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

BINARY = os.environ["UC_BINARY"]

CONFIG = """
connector: {{name: e2e-edge, log_level: info, data_dir: {data}}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {port}}}
normalization:
  default_context: {{site: plant9, area: production, line: line1, equipment: unknown}}
  mappings:
    - {{source: press, address: ram_pressure, eng_range: [0, 150]}}
sources:
  - name: press
    protocol: synthetic
    area: forming
    line: line3
    equipment: press1
    interval_ms: 5
    tags:
      - {{name: ram_pressure, generator: sine, unit: bar, min: 0, max: 200, period_s: 0.5}}
      - {{name: stroke_count, generator: counter}}
      - {{name: motor_current, generator: random_walk, unit: A, min: 0, max: 40, bad_every: 5}}
      - {{name: door_closed, generator: bool, period_s: 0.2}}
      - {{name: mode, generator: string, period_s: 0.3}}
  - name: bulk
    protocol: synthetic
    equipment: oven2
    tag_count: 200
    interval_ms: 2
sinks:
  file: {{enabled: true, directory: {data}/records, rotate_mb: 1, rotate_s: 3600,
          batch: {{max_records: 500, max_bytes: 1048576, linger_ms: 20}}}}
backpressure: {{max_queue_size: 2000, drop_policy: block, disk_spool: {{enabled: false}}}}
zerobus:
  enabled: false
  default_target: {{catalog: cat, schema: plant9, table: ot_bronze}}
  source_targets:
    bulk: {{catalog: cat, schema: plant9, table: bulk_bronze}}
"""


def low_file_limit():
    """Starts the connector with a soft descriptor limit far below the hard one."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))


def open_file_limits(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return soft, hard
    return None


class RunUntilSigterm(unittest.TestCase):
    def test_every_record_exactly_once(self):
        wd = harness.Workdir("uc_e2e_")
        port = harness.free_port()
        data = os.path.join(wd.path, "data")
        cfg = wd.write("config.yaml", CONFIG.format(data=data, port=port))
        proc = harness.start(BINARY, "run", "--config", cfg, cwd=wd.path, preexec_fn=low_file_limit)
        try:
            def enough():
                import json
                _, _, body = harness.http_get(port, "/api/status")
                st = json.loads(body)
                by = {s["name"]: s for s in st["sources"]}
                return by["press"]["records_received"] >= 2000 and by["bulk"]["records_received"] >= 40000 and st
            status = harness.wait_for(enough, 60, "records to flow")
            self.assertEqual({t["name"] for t in status["targets"]}, {"cat.plant9.ot_bronze", "cat.plant9.bulk_bronze"})
            code, headers, body = harness.http_get(port, "/metrics")
            self.assertEqual(code, 200)
            self.assertIn("text/plain", headers["Content-Type"])
            families = {f.name: f for f in text_string_to_metric_families(body.decode())}
            received = {s.labels["source"]: s.value for s in families["uc_records_received"].samples
                        if s.name == "uc_records_received_total"}
            self.assertGreaterEqual(received["press"], 2000)
            self.assertIn("uc_queue_capacity", families)
            states = {(s.labels["source"], s.labels["state"]): s.value for s in families["uc_source_state"].samples}
            self.assertEqual(states[("press", "connected")], 1)
            self.assertEqual(states[("press", "failed")], 0)
            dropped = [s for s in families["uc_records_dropped"].samples if s.name == "uc_records_dropped_total"]
            self.assertTrue(dropped and all(s.value == 0 for s in dropped))
            code, _, _ = harness.http_get(port, "/health")
            self.assertEqual(code, 200)
            code, _, body = harness.http_get(port, "/health/ready")
            self.assertEqual(code, 200, body)
            # Started with a soft descriptor limit of 256: raised to the hard limit.
            soft, hard = open_file_limits(proc.pid)
            self.assertEqual(soft, hard)
            # Counters print as whole numbers, never in exponent form (1e+05).
            self.assertNotRegex(body_text := harness.http_get(port, "/metrics")[2].decode(), r"_total(\{[^}]*\})? [0-9.]+e\+")
            self.assertIn("uc_records_received_total", body_text)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("0 records dropped", err)

        press = harness.read_jsonl_dir(os.path.join(data, "records", "cat.plant9.ot_bronze"))
        bulk_dir = os.path.join(data, "records", "cat.plant9.bulk_bronze")
        bulk = harness.read_jsonl_dir(bulk_dir)
        self.assertGreater(len(os.listdir(bulk_dir)), 1, "rotation by size should have made several files")
        self.assertTrue(all(r["source_name"] == "press" for r in press))
        self.assertTrue(all(r["source_name"] == "bulk" for r in bulk))
        self.check_complete(press, expected_tags=5)
        self.check_complete(bulk, expected_tags=200)

        by_tag = {}
        for r in press:
            by_tag.setdefault(r["tag_name"], []).append(r)
        self.assertEqual(by_tag["ram_pressure"][0]["tag_path"], "plant9/forming/line3/press1/pressure/ram_pressure")
        self.assertEqual(by_tag["motor_current"][0]["tag_path"], "plant9/forming/line3/press1/current/motor_current")
        self.assertEqual(by_tag["stroke_count"][0]["value_type"], "int64")
        self.assertEqual(by_tag["door_closed"][0]["value_type"], "bool")
        self.assertIn(by_tag["door_closed"][0]["value_bool"], (True, False))
        self.assertEqual(by_tag["mode"][0]["value_type"], "string")
        self.assertIsNone(by_tag["mode"][0]["value_num"])
        for r in by_tag["motor_current"]:
            seq = int(r["metadata"]["seq"])
            self.assertEqual(r["quality"], "bad" if seq % 5 == 4 else "good", r)
        outside = 0
        for r in by_tag["ram_pressure"]:
            expect = "uncertain" if r["value_num"] > 150 else "good"
            self.assertEqual(r["quality"], expect, r)
            outside += r["quality"] == "uncertain"
        self.assertGreater(outside, 0)
        for r in by_tag["stroke_count"]:
            self.assertEqual(int(r["value_str"]), int(r["metadata"]["seq"]))
            self.assertEqual(r["metadata"]["connector"], "e2e-edge")

    def check_complete(self, records, expected_tags):
        """Per tag: seq 0..n-1 each exactly once and in order; every tag has the same n."""
        seqs = {}
        for r in records:
            seqs.setdefault(r["tag_path"], []).append(int(r["metadata"]["seq"]))
        self.assertEqual(len(seqs), expected_tags)
        lengths = set()
        for path, s in seqs.items():
            self.assertEqual(s, list(range(len(s))), f"{path}: gaps, duplicates or reordering")
            lengths.add(len(s))
        self.assertEqual(len(lengths), 1, f"tags stopped at different ticks: {sorted(lengths)[:5]}")


if __name__ == "__main__":
    unittest.main()

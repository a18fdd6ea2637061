"""Issue 20, defect 3: a full disk shared by the spool and the file sink must recover when
space is freed. The spool and the file sink live on one 8 MB tmpfs (mounted by the test;
it runs as root, as CI does). A filler file takes most of it; a fast synthetic source
fills the rest: the sink fails with ENOSPC (no record dropped: policy block). Then the
filler is deleted. Delivery must resume within about one breaker period (open_s: 2).
On 00091a2 the spool writer took the freed space at once and the sink kept failing."""
import json
import os
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

BINARY = os.environ["UC_BINARY"]

CONFIG = """
connector: {{name: disk-full, data_dir: {data}}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {port}}}
sources:
  - name: fast
    protocol: synthetic
    equipment: e1
    interval_ms: 5
    tags: [{tags}]
sinks:
  file: {{enabled: true, directory: {disk}/records, rotate_s: 0, batch: {{max_records: 500, linger_ms: 20}}}}
backpressure:
  max_queue_size: 20000
  drop_policy: block
  disk_spool: {{enabled: true, directory: {disk}/spool, segment_mb: 1, max_size_mb: 64, fsync: never}}
  retry: {{initial_ms: 50, max_ms: 1000}}
  circuit_breaker: {{failure_threshold: 3, open_s: 2}}
"""


def target_status(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5) as r:
        return json.loads(r.read())["targets"][0]


class DiskFull(unittest.TestCase):
    def test_delivery_resumes_after_space_is_freed(self):
        wd = harness.Workdir("uc_disk_full_")
        disk = os.path.join(wd.path, "disk")
        os.makedirs(disk)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", disk],
                                 capture_output=True, text=True)
        self.assertEqual(mounted.returncode, 0, f"mounting a tmpfs needs root: {mounted.stderr}")
        proc = None
        try:
            filler = os.path.join(disk, "filler")
            with open(filler, "wb") as f:
                f.write(b"\0" * (6 * 1024 * 1024))
            port = harness.free_port()
            tags = ", ".join(f"{{name: t{i}, generator: counter}}" for i in range(100))
            cfg = wd.write("config.yaml", CONFIG.format(data=os.path.join(wd.path, "data"), disk=disk,
                                                        port=port, tags=tags))
            proc = harness.start(BINARY, "run", "--config", cfg, cwd=wd.path)
            harness.wait_for(lambda: "No space" in target_status(port)["last_error"], 60, "the sink to hit ENOSPC")
            # Let the failure settle: the breaker opens, the source is held back (block).
            harness.wait_for(lambda: target_status(port)["circuit_breaker"] == "open", 30, "the breaker to open")
            stalled = target_status(port)["records_delivered"]
            time.sleep(1)
            self.assertLess(target_status(port)["records_delivered"] - stalled, 1000, "delivery stalled on ENOSPC")

            os.remove(filler)
            freed_at = time.monotonic()
            harness.wait_for(lambda: target_status(port)["records_delivered"] > stalled + 1000, 15,
                             "delivery to resume after 6 MB were freed")
            print(f"delivery resumed {time.monotonic() - freed_at:.1f} s after space was freed", flush=True)
            st = target_status(port)
            self.assertEqual(sum(st["records_dropped"].values()), 0, st)
        finally:
            harness.stop_process(proc)
            subprocess.run(["umount", "-l", disk], check=False)


if __name__ == "__main__":
    unittest.main()

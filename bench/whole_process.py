"""Whole-process throughput: synthetic source at full speed -> normalize -> queue ->
file sink (JSON Lines on the local disk). Reports records/s delivered, CPU seconds per
million records and peak RSS, as the median of several runs.

usage: /usr/bin/python3 bench/whole_process.py BINARY [--tags 1000] [--seconds 10] [--runs 3]
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "lib"))
import harness  # noqa: E402

CONFIG = """
connector: {{name: bench, log_level: warn, data_dir: {data}}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {port}}}
sources:
  - {{name: bulk, protocol: synthetic, equipment: oven, tag_count: {tags}, interval_ms: 0}}
sinks:
  file: {{enabled: true, directory: {data}/records, rotate_mb: 256, rotate_s: 0,
          batch: {{max_records: 5000, max_bytes: 8388608, linger_ms: 50}}}}
backpressure: {{max_queue_size: 100000, drop_policy: block, disk_spool: {{enabled: false}}}}
"""



def delivered(port):
    _, _, body = harness.http_get(port, "/api/status")
    return sum(t["records_delivered"] for t in json.loads(body)["targets"])


def one_run(binary, tags, seconds):
    wd = tempfile.mkdtemp(prefix="uc_bench_")
    port = harness.free_port()
    cfg = os.path.join(wd, "c.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(data=os.path.join(wd, "data"), port=port, tags=tags))
    proc = subprocess.Popen([binary, "run", "--config", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        harness.wait_for(lambda: delivered(port) > 0, 30, "first delivery")
        time.sleep(1)  # warm-up
        n0, c0, t0 = delivered(port), harness.cpu_seconds(proc.pid), time.monotonic()
        time.sleep(seconds)
        n1, c1, t1 = delivered(port), harness.cpu_seconds(proc.pid), time.monotonic()
        rss = harness.peak_rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        shutil.rmtree(wd, ignore_errors=True)
    rate = (n1 - n0) / (t1 - t0)
    cpu = (c1 - c0) / (t1 - t0)
    return rate, cpu, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--tags", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    runs = [one_run(a.binary, a.tags, a.seconds) for _ in range(a.runs)]
    rates = [r[0] for r in runs]
    cpus = [r[1] for r in runs]
    rss = [r[2] for r in runs]
    med_rate = statistics.median(rates)
    med_cpu = statistics.median(cpus)
    print(f"whole process, synthetic({a.tags} tags, as fast as accepted) -> file sink, {a.runs} runs x {a.seconds}s")
    print(f"  records/s delivered: median {med_rate:,.0f}  (runs: {', '.join(f'{r:,.0f}' for r in rates)})")
    print(f"  CPU cores used:      median {med_cpu:.2f}")
    print(f"  CPU per 1M records:  {med_cpu / med_rate * 1e6:.2f} core-seconds")
    print(f"  peak RSS:            median {statistics.median(rss):.1f} MB")


if __name__ == "__main__":
    main()

"""Load on the API while the data path runs (issue 14): a synthetic source paced at about
100,000 values/s (1,000 tags every 10 ms) into the file sink; the values/s received are
measured for a window without API clients, then for a window with N concurrent clients
(default 200, each its own keep-alive connection on its own thread) polling GET /api/tags
and GET /api/status in turn as fast as answered. Reports the values/s with and without the
clients and the API latency (p50, p99, max) per route. Not a test: a benchmark whose
figures go to BENCHMARKS.md.

usage: /usr/bin/python3 bench/api_tags_load.py BINARY [--clients 200] [--seconds 10]
       [--tags 1000] [--interval-ms 10]
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "lib"))
import harness  # noqa: E402

CONFIG = """
connector: {{name: bench, log_level: warn, data_dir: {data}}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {port}}}
sources:
  - {{name: bulk, protocol: synthetic, equipment: oven, tag_count: {tags}, interval_ms: {interval}}}
sinks:
  file: {{enabled: true, directory: {data}/records, rotate_mb: 256, rotate_s: 0,
          batch: {{max_records: 5000, max_bytes: 8388608, linger_ms: 50}}}}
backpressure: {{max_queue_size: 100000, drop_policy: block, disk_spool: {{enabled: false}}}}
"""

ROUTES = ("/api/tags?limit=100", "/api/status")


def received(port):
    _, _, body = harness.http_get(port, "/api/status")
    return sum(s["records_received"] for s in json.loads(body)["sources"])


def rate_over(port, seconds):
    n0, t0 = received(port), time.monotonic()
    time.sleep(seconds)
    return (received(port) - n0) / (time.monotonic() - t0)


def client(port, stop, latencies, errors):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    i = 0
    while not stop.is_set():
        route = ROUTES[i % 2]
        i += 1
        t0 = time.perf_counter()
        try:
            conn.request("GET", route)
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                errors.append(r.status)
        except (OSError, http.client.HTTPException) as e:
            errors.append(type(e).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        latencies[route].append(time.perf_counter() - t0)
    conn.close()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] if values else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--tags", type=int, default=1000)
    ap.add_argument("--interval-ms", type=int, default=10)
    a = ap.parse_args()
    wd = tempfile.mkdtemp(prefix="uc_api_load_")
    port = harness.free_port()
    cfg = os.path.join(wd, "c.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(data=os.path.join(wd, "data"), port=port, tags=a.tags, interval=a.interval_ms))
    proc = subprocess.Popen([a.binary, "run", "--config", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        harness.wait_for(lambda: received(port) > 0, 30, "first values")
        time.sleep(2)  # warm-up
        c0 = harness.cpu_seconds(proc.pid)
        quiet = rate_over(port, a.seconds)
        quiet_cpu = (harness.cpu_seconds(proc.pid) - c0) / a.seconds
        stop = threading.Event()
        latencies = {r: [] for r in ROUTES}
        errors = []
        threads = [threading.Thread(target=client, args=(port, stop, latencies, errors), daemon=True)
                   for _ in range(a.clients)]
        for t in threads:
            t.start()
        time.sleep(2)  # every client connected and polling
        for r in ROUTES:
            latencies[r].clear()
        c0 = harness.cpu_seconds(proc.pid)
        loaded = rate_over(port, a.seconds)
        loaded_cpu = (harness.cpu_seconds(proc.pid) - c0) / a.seconds
        stop.set()
        for t in threads:
            t.join(timeout=60)
        after = rate_over(port, a.seconds / 2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        shutil.rmtree(wd, ignore_errors=True)
    print(f"synthetic {a.tags} tags every {a.interval_ms} ms -> file sink; {a.clients} API clients, {a.seconds}s windows")
    print(f"  values/s received without clients: {quiet:,.0f}  (connector CPU {quiet_cpu:.2f} cores)")
    print(f"  values/s received with clients:    {loaded:,.0f}  (connector CPU {loaded_cpu:.2f} cores)")
    print(f"  values/s received after clients:   {after:,.0f}")
    for r in ROUTES:
        ms = [x * 1000 for x in latencies[r]]
        print(f"  {r:22s} requests {len(ms):7d} ({len(ms) / a.seconds:,.0f}/s)  p50 {percentile(ms, 50):.1f} ms"
              f"  p99 {percentile(ms, 99):.1f} ms  max {max(ms) if ms else float('nan'):.1f} ms")
    print(f"  errors: {len(errors)} {sorted(set(map(str, errors)))[:5]}")
    if ms := [x for r in ROUTES for x in latencies[r]]:
        print(f"  all routes: median {statistics.median(ms) * 1000:.1f} ms")


if __name__ == "__main__":
    main()

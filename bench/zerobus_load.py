"""Zerobus sink throughput (issue 7): synthetic sources at full speed -> connector ->
the local Zerobus test server (tests/zerobus/zerobus_test_server.py --count-only: it
parses every request, counts records and bytes, and acks at once) over plaintext gRPC on
loopback. PROTO records (~250-300 B each), batches of --batch records, memory buffer
(no spool), drop_policy block.

For --streams 1 one source routes to one table (one stream); for --streams N, N sources
each route to their own table (N streams, N lanes). Per run: warm-up until records are
acked, then 2 s, then records/s and MB/s acked (from /api/status zerobus.targets[*]
records_acked/bytes_acked, the payload bytes of the records), ack latency p50/p99 (the
sink's last 1024 batches, send -> ack), CPU cores used by the connector and by the server.
Medians over --runs.

usage: /usr/bin/python3 bench/zerobus_load.py BINARY [--streams 1] [--batch 1000] [--seconds 10] [--runs 3]
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "zerobus"))
import zerobus_lib as zl  # noqa: E402
from zerobus_lib import harness  # noqa: E402


def totals(port):
    t = json.loads(harness.http_get(port, "/api/status", timeout=30)[2])["zerobus"]["targets"]
    return (sum(x["records_acked"] for x in t), sum(x["bytes_acked"] for x in t),
            statistics.median([x["ack_latency_p50_s"] for x in t]), max(x["ack_latency_p99_s"] for x in t))


def one_run(binary, streams, batch, seconds, tags):
    wd = tempfile.mkdtemp(prefix="uc_zbbench_")
    server = zl.TestServer(os.path.join(wd, "server"), "--count-only", "--workers", str(max(4, streams * 2)))
    proc = None
    try:
        sources = "".join(f"  - {{name: s{i}, protocol: synthetic, tag_count: {tags}, interval_ms: 0}}\n"
                          for i in range(streams))
        targets = "".join(f"    s{i}: {{catalog: bench, schema: zb, table: t{i}}}\n" for i in range(1, streams)) \
            or "    {}"
        api = harness.free_port()
        data = os.path.join(wd, "data")
        text = zl.zerobus_config(data, api, server, sources=sources, source_targets=targets, batch=batch,
                                 ack_timeout_ms=60000)
        text = text.replace("log_level: info", "log_level: warn").replace(
            "disk_spool: {enabled: true", "disk_spool: {enabled: false").replace(
            "max_bytes: 1048576", "max_bytes: 16777216")
        cfg = os.path.join(wd, "c.yaml")
        with open(cfg, "w") as f:
            f.write(text)
        proc = zl.start_connector(binary, cfg, os.path.join(wd, "connector.log"), wd)
        harness.wait_for(lambda: totals(api)[0] > 0, 30, "first ack")
        time.sleep(2)
        n0, b0, _, _ = totals(api)
        c0, s0, t0 = harness.cpu_seconds(proc.pid), harness.cpu_seconds(server.proc.pid), time.monotonic()
        time.sleep(seconds)
        n1, b1, p50, p99 = totals(api)
        c1, s1, t1 = harness.cpu_seconds(proc.pid), harness.cpu_seconds(server.proc.pid), time.monotonic()
        dt = t1 - t0
        return {"rate": (n1 - n0) / dt, "mbps": (b1 - b0) / dt / 1e6, "p50": p50, "p99": p99,
                "cpu": (c1 - c0) / dt, "server_cpu": (s1 - s0) / dt, "bytes_per_record": (b1 - b0) / max(1, n1 - n0)}
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
        server.stop()
        shutil.rmtree(wd, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--streams", type=int, default=1)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--tags", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    runs = [one_run(os.path.abspath(a.binary), a.streams, a.batch, a.seconds, a.tags) for _ in range(a.runs)]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"zerobus sink -> local test server (count-only), {a.streams} stream(s), batch {a.batch}, "
          f"{a.runs} runs x {a.seconds}s")
    per_run = ", ".join(f"{r['rate']:,.0f}" for r in runs)
    print(f"  records/s acked: median {med['rate']:,.0f}  (runs: {per_run})")
    print(f"  MB/s acked:      median {med['mbps']:.1f}  ({med['bytes_per_record']:.0f} B/record)")
    print(f"  ack latency:     p50 {med['p50'] * 1000:.2f} ms, p99 {med['p99'] * 1000:.2f} ms (medians of runs)")
    print(f"  CPU cores:       connector {med['cpu']:.2f}, test server {med['server_cpu']:.2f}")


if __name__ == "__main__":
    main()

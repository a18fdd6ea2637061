"""Whole-process benchmark: API latency while idle and slowloris connections are open.

Runs the connector (one synthetic source -> file sink, API on loopback), then measures
sequential GET /health and GET /api/status requests (each over a fresh connection,
timeout 10 s) in three phases: no extra connections; IDLE idle connections; IDLE idle
plus SLOW slowloris clients sending one header byte per second each. Prints p50, p99,
max and the count of requests that got no answer in time, per phase and route.

usage: /usr/bin/python3 bench/api_slow_clients.py BINARY [--idle 1000] [--slow 100] [--requests 100]
Give two binaries (before, after) to run them one after the other with the same load.
"""
import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

CONFIG = """
connector: {{name: api-bench, data_dir: {data}}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {port}}}
sources:
  - {{name: s, protocol: synthetic, equipment: e1, interval_ms: 10, tags: [{{name: n, generator: counter}}]}}
sinks:
  file: {{enabled: true, directory: {data}/records, rotate_s: 0}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request_ms(port, path, timeout):
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            r.read()
        return (time.monotonic() - t0) * 1000
    except Exception:
        return None


def summary(samples):
    ok = sorted(x for x in samples if x is not None)
    failed = len(samples) - len(ok)
    if not ok:
        return f"no answers ({failed} failed)"
    p = lambda q: ok[min(len(ok) - 1, int(len(ok) * q))]  # noqa: E731
    return f"p50 {p(0.5):7.1f} ms  p99 {p(0.99):7.1f} ms  max {ok[-1]:7.1f} ms  unanswered {failed}/{len(samples)}"


def connect_many(port, n):
    out = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            s.close()
            continue
        out.append(s)
    return out


def measure(port, n, timeout, label):
    for path in ("/health", "/api/status"):
        samples = [request_ms(port, path, timeout) for _ in range(n)]
        print(f"  {label:28s} {path:12s} {summary(samples)}", flush=True)


def run(binary, args):
    print(f"== {binary}", flush=True)
    with tempfile.TemporaryDirectory(prefix="uc_api_bench_") as wd:
        port = free_port()
        cfg = os.path.join(wd, "config.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(data=os.path.join(wd, "data"), port=port))
        proc = subprocess.Popen([binary, "run", "--config", cfg], cwd=wd, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        stop = threading.Event()
        sockets = []
        try:
            deadline = time.monotonic() + 30
            while request_ms(port, "/health", 1) is None:
                if time.monotonic() > deadline:
                    raise SystemExit("the connector did not start")
                time.sleep(0.1)
            measure(port, args.requests, args.timeout, "no extra connections")
            sockets += connect_many(port, args.idle)
            measure(port, args.requests, args.timeout, f"{args.idle} idle")
            slow = connect_many(port, args.slow)
            sockets += slow
            for s in slow:
                try:
                    s.sendall(b"GET /health HTTP/1.1\r\nX-Slow: ")
                except OSError:
                    pass

            def trickle():
                while not stop.wait(1.0):
                    for s in slow:
                        try:
                            s.sendall(b"a")
                        except OSError:
                            pass
            threading.Thread(target=trickle, daemon=True).start()
            measure(port, args.requests, args.timeout, f"{args.idle} idle + {args.slow} slowloris")
        finally:
            stop.set()
            for s in sockets:
                s.close()
            proc.terminate()
            proc.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--idle", type=int, default=1000)
    ap.add_argument("--slow", type=int, default=100)
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--timeout", type=float, default=10)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.idle + args.slow + 512)), hard))
    for binary in args.binaries:
        run(os.path.abspath(binary), args)


if __name__ == "__main__":
    sys.exit(main())

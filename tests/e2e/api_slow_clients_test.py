"""Issue 20, defect 1: idle and slowloris connections must not make the API unresponsive.
Against the real binary: 1,000 idle TCP connections and 100 slowloris clients (one header
byte per second each) are opened; /health must answer every time while they trickle, a
slowloris client gets 408 at its request deadline, the data path keeps flowing, and the
connector is still fine afterwards. On 00091a2 (8 workers, per-read timeout only) /health
timed out under 8 slow or 40 idle connections.

Latency under this load is printed for the record (bench/api_slow_clients.py measures it
for BENCHMARKS.md); the test asserts only that each /health answers within 2 s."""
import json
import os
import resource
import socket
import sys
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

BINARY = os.environ["UC_BINARY"]

CONFIG = """
connector: {{name: slow-clients, data_dir: {data}}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {port}}}
sources:
  - {{name: s, protocol: synthetic, equipment: e1, interval_ms: 10, tags: [{{name: n, generator: counter}}]}}
sinks:
  file: {{enabled: true, directory: {data}/records, rotate_s: 0, batch: {{max_records: 100, linger_ms: 10}}}}
backpressure:
  disk_spool: {{enabled: true, directory: {data}/spool, fsync: never}}
"""

IDLE = 1000
SLOW = 100


def raise_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))


def connect(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


def timed_health(port):
    t0 = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
        r.read()
        return r.status, time.monotonic() - t0


def records_received(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/sources/s", timeout=5) as r:
        return json.loads(r.read())["counters"]["records_received"]


class SlowClients(unittest.TestCase):
    def test_health_answers_under_idle_and_slowloris_connections(self):
        raise_fd_limit(IDLE + SLOW + 256)
        wd = harness.Workdir("uc_slow_clients_")
        data = os.path.join(wd.path, "data")
        port = harness.free_port()
        cfg = wd.write("config.yaml", CONFIG.format(data=data, port=port))
        proc = harness.start(BINARY, "run", "--config", cfg, cwd=wd.path)
        sockets = []
        stop = threading.Event()
        try:
            harness.wait_for(lambda: harness.http_get(port, "/health")[0] == 200, 30, "the API")
            idle = [connect(port) for _ in range(IDLE)]
            sockets += idle
            slow = [connect(port) for _ in range(SLOW)]
            sockets += slow
            for s in slow:
                s.sendall(b"GET /health HTTP/1.1\r\nX-Slow: ")

            def trickle():
                while not stop.wait(1.0):
                    for s in slow:
                        try:
                            s.sendall(b"a")
                        except OSError:
                            pass
            trickler = threading.Thread(target=trickle, daemon=True)
            trickler.start()

            latencies = []
            deadline = time.monotonic() + 12  # past the 10 s request deadline of the slow ones
            while time.monotonic() < deadline:
                status, seconds = timed_health(port)
                self.assertEqual(status, 200)
                latencies.append(seconds)
                time.sleep(0.2)
            latencies.sort()
            p50 = latencies[len(latencies) // 2] * 1000
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
            print(f"/health under {IDLE} idle + {SLOW} slowloris: n={len(latencies)} "
                  f"p50={p50:.1f} ms p99={p99:.1f} ms max={latencies[-1] * 1000:.1f} ms", flush=True)
            before = records_received(port)
            harness.wait_for(lambda: records_received(port) > before, 10, "the data path to keep flowing")

            # The slow clients met their request deadline: 408, then closed.
            stop.set()
            answered = 0
            for s in slow[:10]:
                s.settimeout(3)
                try:
                    reply = s.recv(4096)
                except OSError:
                    reply = b""
                if reply.startswith(b"HTTP/1.1 408 "):
                    answered += 1
            self.assertGreaterEqual(answered, 1, "a slowloris client gets 408 at its deadline")
        finally:
            stop.set()
            for s in sockets:
                s.close()
            harness.stop_process(proc)
        self.assertEqual(proc.returncode, 0, proc.stderr.read()[-2000:])


if __name__ == "__main__":
    unittest.main()

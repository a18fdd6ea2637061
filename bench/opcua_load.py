"""OPC UA whole-process load (issue 5): our simulator serving --items plant variables,
subscribed at 1 s (publishing and sampling interval) by a node-opcua 2.182.2 client
(tests/interop/opcua-js/load_client.js, one subscription, monitored items created 1000
per call — the simulator's MaxMonitoredItemsPerCall).

After every item exists and a --warmup, CPU (utime+stime from /proc/<pid>/stat) of the
client and of the simulator and the client's notification count are taken over
--seconds; peak RSS is VmHWM at the end. About 65 % of the plant variables change per
second (docs/simulator-opcua.md: step, toggle and text variables change more slowly),
so --items 100000 gives about 65,000 notifications/s.

usage: /usr/bin/python3 bench/opcua_load.py BINARY [--items 100000] [--seconds 20] [--warmup 5]
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import harness  # noqa: E402

JS = os.path.join(HERE, "..", "tests", "interop", "opcua-js")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--items", type=int, default=100000)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=5)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="uc-opcua-load-")
    port = harness.free_port()
    cfg = os.path.join(work, "sim.yaml")
    with open(cfg, "w") as f:
        f.write(f"connector: {{name: sim, log_level: warn}}\nsimulator:\n  enabled: true\n"
                f"  modbus: {{enabled: false}}\n  opcua: {{enabled: true, port: {port}, variables: {a.items}}}\n")
    sim = subprocess.Popen([a.binary, "simulate", "--config", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    client = None
    try:
        def up():
            import socket
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        harness.wait_for(up, 60, "the simulator")
        t0 = time.monotonic()
        client = subprocess.Popen(["node", os.path.join(JS, "load_client.js"), f"opc.tcp://127.0.0.1:{port}",
                                   str(a.items)], cwd=JS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        counts = []
        for line in client.stdout:
            if line.startswith("ready"):
                break
        else:
            raise SystemExit("load client failed: " + client.stderr.read()[-2000:])
        setup_s = time.monotonic() - t0
        time.sleep(a.warmup)

        def reader():  # keeps the latest count; the pipe never backs up
            for line in client.stdout:
                if line.startswith("count"):
                    counts.append(int(line.split()[1]))
        threading.Thread(target=reader, daemon=True).start()

        def last_count():
            seen = len(counts)
            harness.wait_for(lambda: len(counts) > seen, 10, "a count from the client")
            return counts[-1]
        c0, s0, n0, w0 = harness.cpu_seconds(client.pid), harness.cpu_seconds(sim.pid), last_count(), time.monotonic()
        time.sleep(a.seconds)
        n1 = last_count()
        c1, s1, w1 = harness.cpu_seconds(client.pid), harness.cpu_seconds(sim.pid), time.monotonic()
        wall = w1 - w0
        rate = (n1 - n0) / wall
        print(f"{a.items} monitored items at 1 s; setup {setup_s:.1f} s; window {wall:.1f} s")
        print(f"node-opcua client: {rate:,.0f} notifications/s, {(c1 - c0) / wall:.3f} cores, "
              f"{1e6 * (c1 - c0) / max(n1 - n0, 1):.2f} µs CPU per notification, "
              f"peak RSS {harness.peak_rss_mb(client.pid):.1f} MB")
        print(f"simulator (our server): {(s1 - s0) / wall:.3f} cores, peak RSS {harness.peak_rss_mb(sim.pid):.1f} MB")
    finally:
        for p in (client, sim):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()


if __name__ == "__main__":
    main()

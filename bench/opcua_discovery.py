"""OPC UA discovery time (issue 5): how long the connector takes to discover the N plant
variables of our simulator (`browse: {root: "Objects/1:Plant", pattern: "**"}`).

Starts `BINARY simulate` with N variables (docs/simulator-opcua.md: Plant/Site/Line/
Equipment/Variable, 100 per line), then for each run starts `BINARY run` (one polling
source, log_level info, file sink) and takes the time from the process start until it logs
"connected to ... N tags", i.e. connect + session + discovery. Several binaries (e.g. before
and after a change) are measured in the same run, alternating; medians are printed. With
--node, a node-opcua 2.182.2 client (bench/opcua_discover_nodeopcua.js) discovers the same
variables the same way (breadth-first, 1000 nodes per Browse, BrowseNext) in each run too:
its time from process start until it prints the result (so including Node's start-up and
loading node-opcua), and its own time from before connect.

usage: /usr/bin/python3 bench/opcua_discovery.py BINARY [BINARY...] [--items 100000] [--runs 3] [--node]
"""
import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import harness  # noqa: E402


def discover_once(binary, cfg, items):
    start = time.monotonic()
    proc = subprocess.Popen([binary, "run", "--config", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        for line in proc.stderr:
            m = re.search(r"connected to \S+: (\d+) tags", line)
            if m:
                elapsed = time.monotonic() - start
                if int(m.group(1)) != items:
                    raise AssertionError(f"{binary} discovered {m.group(1)} tags, expected {items}")
                return elapsed
        raise AssertionError(f"{binary} never connected")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def node_once(url, items):
    start = time.monotonic()
    r = subprocess.run(["node", os.path.join(HERE, "opcua_discover_nodeopcua.js"), url], capture_output=True,
                       text=True, timeout=900)
    elapsed = time.monotonic() - start
    m = re.search(r"DISCOVERED (\d+) (\S+)", r.stdout)
    if not m or int(m.group(1)) != items:
        raise AssertionError(f"node-opcua discovery failed: {r.stdout} {r.stderr}")
    return elapsed, float(m.group(2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--items", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--node", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="uc-opcua-discovery-")
    server = None
    try:
        port = harness.free_port()
        sim_cfg = os.path.join(tmp, "sim.yaml")
        with open(sim_cfg, "w") as f:
            f.write("connector: {name: sim, log_level: warn}\nsimulator:\n  enabled: true\n"
                    "  modbus: {enabled: false}\n  mqtt: {enabled: false}\n"
                    f"  opcua: {{enabled: true, port: {port}, variables: {a.items}}}\n")
        server = subprocess.Popen([a.binaries[0], "simulate", "--config", sim_cfg], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)

        def up():
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        harness.wait_for(up, 60, "the simulator")
        cfg = os.path.join(tmp, "c.yaml")
        with open(cfg, "w") as f:
            f.write(f'connector: {{name: disc, log_level: info, data_dir: "{tmp}/data"}}\n'
                    "web_ui: {enabled: false}\n"
                    f'sinks: {{file: {{enabled: true, directory: "{tmp}/records"}}}}\n'
                    "sources:\n"
                    f'  - {{name: ua, protocol: opcua, endpoint: "opc.tcp://127.0.0.1:{port}", mode: polling,\n'
                    "     polling_interval_ms: 60000, timeout_ms: 60000,\n"
                    f'     browse: [{{root: "Objects/1:Plant", pattern: "**", max_nodes: {a.items}}}]}}\n')
        times = {b: [] for b in a.binaries}
        node_times, node_inner = [], []
        for run in range(a.runs):
            for b in a.binaries:
                t = discover_once(b, cfg, a.items)
                times[b].append(t)
                print(f"run {run + 1}: {b}: {t:.2f} s", flush=True)
            if a.node:
                whole, inner = node_once(f"opc.tcp://127.0.0.1:{port}", a.items)
                node_times.append(whole)
                node_inner.append(inner)
                print(f"run {run + 1}: node-opcua: {whole:.2f} s (from connect: {inner:.2f} s)", flush=True)
        if a.node:
            print(f"node-opcua: median {statistics.median(node_times):.2f} s whole process, "
                  f"{statistics.median(node_inner):.2f} s from connect over {a.runs} runs")
        for b in a.binaries:
            print(f"{b}: median {statistics.median(times[b]):.2f} s over {a.runs} runs "
                  f"({', '.join(f'{t:.2f}' for t in times[b])})")
        if len(a.binaries) == 2:
            print(f"ratio {a.binaries[0]} / {a.binaries[1]}: "
                  f"{statistics.median(times[a.binaries[0]]) / statistics.median(times[a.binaries[1]]):.1f}")
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

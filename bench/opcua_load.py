"""OPC UA whole-process load (issue 5): N monitored items at 1 s, subscribed by the
connector and, in the same run one after the other, by a node-opcua client.

The server (--server) is our simulator (`simulate`, default: N plant variables, about 65 %
of which change each second, docs/simulator-opcua.md) or tests/interop/opcua-js/server.js
(`node`: node-opcua 2.182.2 with N Double variables that all change each second). For each
of --runs rounds:
1. connector: `unified-connector run`, one `opcua` source in subscription mode discovering
   the N variables by browse (publishing/sampling 1000 ms), file sink (JSON Lines), the disk
   spool on (the default: every record is spooled, read back and decoded before the sink),
   log_level warn. Warm-up until records arrive, then 3 s; then CPU (utime+stime from
   /proc) and records delivered (GET /api/status) over --seconds; peak RSS = VmHWM.
2. node-opcua: bench/opcua_client_nodeopcua.js, same subscription parameters, counting the
   values it receives (no sink). Same warm-up and measurement.
Medians over the runs. The server's own CPU is printed as context.

usage: /usr/bin/python3 bench/opcua_load.py BINARY [--server simulator|node] [--items 10000] [--seconds 20]
       [--runs 3] [--publish-requests 3]
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import harness  # noqa: E402

JS = os.path.join(HERE, "..", "tests", "interop", "opcua-js")


def delivered(api_port):
    status = json.loads(harness.http_get(api_port, "/api/status")[2])
    return sum(s.get("records_delivered", 0) for s in status.get("targets", []))


def measure(pid, count, seconds, server_pid):
    time.sleep(3)
    c0, n0, s0, t0 = harness.cpu_seconds(pid), count(), harness.cpu_seconds(server_pid), time.monotonic()
    time.sleep(seconds)
    c1, n1, s1, t1 = harness.cpu_seconds(pid), count(), harness.cpu_seconds(server_pid), time.monotonic()
    dt = t1 - t0
    return {"cpu_cores": (c1 - c0) / dt, "values_per_s": (n1 - n0) / dt, "rss_mb": harness.peak_rss_mb(pid),
            "server_cpu_cores": (s1 - s0) / dt}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--items", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--server", choices=["simulator", "node"], default="simulator")
    ap.add_argument("--publish-requests", type=int, default=3, help="the source's publish_requests")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="uc-opcua-load-")
    procs = []
    try:
        port = harness.free_port()
        if a.server == "node":
            server = subprocess.Popen(["node", os.path.join(JS, "server.js"), str(port), os.path.join(tmp, "pki"),
                                       str(a.items)], cwd=JS, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      text=True)
            procs.append(server)
            line = server.stdout.readline()
            while line and not line.startswith("READY"):
                line = server.stdout.readline()
            url = line.split()[1]
            browse, kind = f'{{root: "Objects/1:Interop/1:Scale", pattern: "*", max_nodes: {a.items}}}', "scale"
        else:
            sim_cfg = os.path.join(tmp, "sim.yaml")
            with open(sim_cfg, "w") as f:
                f.write("connector: {name: sim, log_level: warn}\nsimulator:\n  enabled: true\n"
                        "  modbus: {enabled: false}\n  mqtt: {enabled: false}\n"
                        f"  opcua: {{enabled: true, port: {port}, variables: {a.items}}}\n")
            server = subprocess.Popen([a.binary, "simulate", "--config", sim_cfg], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            procs.append(server)

            def up():
                import socket
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return True
            harness.wait_for(up, 60, "the simulator")
            url = f"opc.tcp://127.0.0.1:{port}"
            browse, kind = f'{{root: "Objects/1:Plant", pattern: "**", max_nodes: {a.items}}}', "plant"
        results = {"connector": [], "node-opcua": []}
        for run in range(a.runs):
            api = harness.free_port()
            cfg = os.path.join(tmp, f"c{run}.yaml")
            with open(cfg, "w") as f:
                f.write(f'connector: {{name: load, log_level: warn, data_dir: "{tmp}/data{run}"}}\n'
                        f"web_ui: {{enabled: true, port: {api}}}\n"
                        f'sinks: {{file: {{enabled: true, directory: "{tmp}/records{run}"}}}}\n'
                        "sources:\n"
                        f'  - {{name: ua, protocol: opcua, endpoint: "{url}", mode: subscription,\n'
                        "     publishing_interval_ms: 1000, sampling_interval_ms: 1000,\n"
                        f"     publish_requests: {a.publish_requests},\n"
                        f"     browse: [{browse}]}}\n")
            conn = subprocess.Popen([a.binary, "run", "--config", cfg], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            procs.append(conn)
            harness.wait_for(lambda: delivered(api) >= a.items, 120, "the connector's first values")
            results["connector"].append(measure(conn.pid, lambda: delivered(api), a.seconds, server.pid))
            conn.send_signal(signal.SIGTERM)
            conn.wait(timeout=30)
            count_file = os.path.join(tmp, f"count{run}")
            cli = subprocess.Popen(["node", os.path.join(HERE, "opcua_client_nodeopcua.js"), url, str(a.items),
                                    count_file, kind], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(cli)

            def count():
                # The client rewrites the file once a second: an empty read is a rewrite in
                # progress (counting it as 0 once gave a negative rate), so read again.
                for _ in range(50):
                    try:
                        with open(count_file) as f:
                            text = f.read().strip()
                    except FileNotFoundError:
                        return 0
                    if text:
                        return int(text)
                    time.sleep(0.01)
                return 0
            harness.wait_for(lambda: count() >= a.items, 120, "node-opcua's first values")
            results["node-opcua"].append(measure(cli.pid, count, a.seconds, server.pid))
            cli.send_signal(signal.SIGTERM)
            cli.wait(timeout=30)
            print(json.dumps({"run": run, "connector": results["connector"][-1],
                              "node-opcua": results["node-opcua"][-1]}), flush=True)
        summary = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in results.items()}
        c, n = summary["connector"], summary["node-opcua"]
        summary["ratio node-opcua/connector cpu per value"] = (
            (n["cpu_cores"] / n["values_per_s"]) / (c["cpu_cores"] / c["values_per_s"]))
        print(json.dumps(summary, indent=1))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

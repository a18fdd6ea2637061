"""Cost of many idle sources (issue 13's ADR: threads per source or an event loop): threads,
RSS and idle CPU of the whole connector process with N sources, N in --sources (1, 50, 500).

For each kind (--kind) and each N, for each of --runs rounds:
1. Generates a config into a temp dir: N sources, the file sink on, the disk spool on (the
   default), log_level warn, the API on 127.0.0.1 (a free port). Source kinds:
   - synthetic: `tag_count: 1`, `interval_ms: 1000` each (one value per source per second);
   - opcua: each source one subscription (publishing and sampling 1000 ms) of one plant
     variable (`...Count`, changes every second) of our OPC UA simulator. The simulators are
     separate `BINARY simulate` processes (one per --per-simulator sources, as the simulator
     takes at most 64 connections), so the measured process is only the connector.
2. Starts `BINARY run`, waits until every source is `connected` and records are delivered,
   then --warmup seconds; then measures over --seconds: CPU = utime+stime delta from
   /proc/<pid>/stat as % of one core, records/s delivered (GET /api/status; expected N).
   At the end of the window: threads (/proc/<pid>/task), VmRSS and VmHWM, open fds.
3. Stops the connector (SIGTERM; the time until it has exited is reported) and the
   simulators.
Prints one markdown table per kind (medians over the runs, the runs in brackets when more
than one), the machine, the load average before and after, and the exact command.

usage: /usr/bin/python3 bench/source_scale.py BINARY [--kind synthetic|opcua|both] [--sources 1,50,500]
       [--warmup 10] [--seconds 30] [--runs 1] [--per-simulator 50]

Uses only config keys that exist before and after issue 13 (no backoff_*), so the same
command measures both binaries. Processes and the temp dir are cleaned up on exit, on
error, on Ctrl-C and on SIGTERM; every wait is bounded.
"""
import argparse
import json
import os
import platform
import shlex
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

EQUIPMENT = ["Mixer", "Pump", "Oven", "Conveyor", "Filler", "Press", "Boiler", "Chiller", "Robot", "Tank"]


# ---------------------------------------------------------------- processes
def start_simulator(binary, wd, index, variables, procs):
    port = harness.free_port()
    cfg = os.path.join(wd, f"sim{index}.yaml")
    with open(cfg, "w") as f:
        f.write("connector: {name: sim, log_level: warn}\nsimulator:\n  enabled: true\n"
                "  modbus: {enabled: false}\n  mqtt: {enabled: false}\n"
                f"  opcua: {{enabled: true, port: {port}, variables: {variables}}}\n")
    log = open(os.path.join(wd, f"sim{index}.log"), "w")
    proc = subprocess.Popen([binary, "simulate", "--config", cfg, "--host", "127.0.0.1"], stdout=log,
                            stderr=subprocess.STDOUT)
    log.close()
    procs.append(proc)

    def up():
        if proc.poll() is not None:
            raise SystemExit(f"simulator {index} exited with {proc.returncode}; see {wd}/sim{index}.log")
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    harness.wait_for(up, 30, f"simulator {index}")
    return proc, port


# ---------------------------------------------------------------- config
def plant_count_node(j):
    """Node id of the Count variable of equipment j of the simulator's plant (counter: changes every second)."""
    line = j // 10
    site = line // 10
    return f"ns=1;s=Plant.Site{site + 1}.Line{line % 10 + 1}.{EQUIPMENT[j % 10]}{line % 10 + 1}.Count"


def synthetic_sources(n):
    return [f"  - {{name: s{i:03d}, protocol: synthetic, equipment: e{i:03d}, tag_count: 1, interval_ms: 1000}}\n"
            for i in range(n)]


def opcua_sources(n, ports, per_sim):
    out = []
    for i in range(n):
        port, j = ports[i // per_sim], i % per_sim
        out.append(f'  - {{name: ua{i:03d}, protocol: opcua, endpoint: "opc.tcp://127.0.0.1:{port}", '
                   f"equipment: e{i:03d}, mode: subscription,\n"
                   "     publishing_interval_ms: 1000, sampling_interval_ms: 1000,\n"
                   f'     nodes: [{{node_id: "{plant_count_node(j)}", tag_name: v}}]}}\n')
    return out


def write_config(wd, api_port, sources):
    data = os.path.join(wd, "data")
    path = os.path.join(wd, "connector.yaml")
    with open(path, "w") as f:
        f.write(f'connector: {{name: scale, log_level: warn, data_dir: "{data}"}}\n'
                f"web_ui: {{enabled: true, host: 127.0.0.1, port: {api_port}}}\n"
                f'sinks: {{file: {{enabled: true, directory: "{data}/records"}}}}\n'
                "sources:\n" + "".join(sources))
    return path


# ---------------------------------------------------------------- measurement
def status(port):
    return json.loads(harness.http_get(port, "/api/status")[2])


def delivered(s):
    return sum(t.get("records_delivered", 0) for t in s.get("targets", []))


def connected(s):
    return sum(1 for x in s.get("sources", []) if x.get("state") == "connected")


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0]) / 1024
    out["threads"] = len(os.listdir(f"/proc/{pid}/task"))
    out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return out


def one_run(a, kind, n, procs):
    wd = tempfile.mkdtemp(prefix="uc_source_scale_")
    sims, conn = [], None
    try:
        if kind == "opcua":
            groups = (n + a.per_simulator - 1) // a.per_simulator
            for g in range(groups):
                size = min(a.per_simulator, n - g * a.per_simulator)
                sims.append(start_simulator(a.binary, wd, g, max(10, 10 * size), procs))
            sources = opcua_sources(n, [p for _, p in sims], a.per_simulator)
        else:
            sources = synthetic_sources(n)
        api = harness.free_port()
        cfg = write_config(wd, api, sources)
        log = open(os.path.join(wd, "connector.log"), "w")
        conn = subprocess.Popen([a.binary, "run", "--config", cfg], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        procs.append(conn)

        def ready():
            if conn.poll() is not None:
                with open(os.path.join(wd, "connector.log")) as f:
                    tail = f.read()[-2000:]
                raise SystemExit(f"connector exited with {conn.returncode}:\n{tail}")
            s = status(api)
            return connected(s) == n and delivered(s) > 0
        harness.wait_for(ready, 60 + n * 0.2, f"{n} {kind} sources connected and a first delivery")
        time.sleep(a.warmup)
        sim_pids = [p.pid for p, _ in sims]
        s0, c0, k0, t0 = status(api), harness.cpu_seconds(conn.pid), sum(harness.cpu_seconds(p) for p in sim_pids), \
            time.monotonic()
        time.sleep(a.seconds)
        s1, c1, k1, t1 = status(api), harness.cpu_seconds(conn.pid), sum(harness.cpu_seconds(p) for p in sim_pids), \
            time.monotonic()
        ps = proc_status(conn.pid)
        t_stop = time.monotonic()
        harness.stop_process(conn, timeout=120)
        stop_s = time.monotonic() - t_stop
        dt = t1 - t0
        return {"stop_s": stop_s, "threads": ps["threads"], "fds": ps["fds"], "rss": ps["VmRSS"], "hwm": ps["VmHWM"],
                "cpu_pct": 100 * (c1 - c0) / dt, "rate": (delivered(s1) - delivered(s0)) / dt,
                "connected": connected(s1), "sim_cpu_pct": 100 * (k1 - k0) / dt if sims else None}
    finally:
        harness.stop_process(conn)
        for p, _ in sims:
            harness.stop_process(p)
        shutil.rmtree(wd, ignore_errors=True)


# ---------------------------------------------------------------- report
def fmt(runs, key, spec):
    vals = [r[key] for r in runs]
    med = format(statistics.median(vals), spec)
    return med if len(vals) == 1 else f"{med} ({', '.join(format(v, spec) for v in vals)})"


def table(kind, results):
    lines = [f"\n### {kind}: idle sources, whole connector process\n",
             "| sources | threads | VmRSS MB | VmHWM MB | CPU % of one core | records/s delivered (expected) "
             "| connected | fds | stop s |" + (" simulators' CPU % (context) |" if kind == "opcua" else ""),
             "|---|---|---|---|---|---|---|---|---|" + ("---|" if kind == "opcua" else "")]
    for n, runs in results:
        row = (f"| {n} | {fmt(runs, 'threads', 'd')} | {fmt(runs, 'rss', '.1f')} | {fmt(runs, 'hwm', '.1f')} "
               f"| {fmt(runs, 'cpu_pct', '.2f')} | {fmt(runs, 'rate', '.1f')} ({n}) "
               f"| {min(r['connected'] for r in runs)}/{n} | {fmt(runs, 'fds', 'd')} | {fmt(runs, 'stop_s', '.2f')} |")
        if kind == "opcua":
            row += f" {fmt(runs, 'sim_cpu_pct', '.2f')} |"
        lines.append(row)
    return "\n".join(lines)


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{platform.node()}: {os.cpu_count()} cores ({model}), {platform.platform()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("--kind", choices=["synthetic", "opcua", "both"], default="both")
    ap.add_argument("--sources", default="1,50,500", help="comma-separated source counts")
    ap.add_argument("--warmup", type=float, default=10, help="seconds after all sources are connected")
    ap.add_argument("--seconds", type=float, default=30, help="measuring window")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--per-simulator", type=int, default=50, help="opcua: sources per simulator process (<= 60)")
    a = ap.parse_args()
    a.binary = os.path.abspath(a.binary)
    counts = [int(x) for x in a.sources.split(",") if x]
    kinds = ["synthetic", "opcua"] if a.kind == "both" else [a.kind]
    command = "/usr/bin/python3 " + " ".join(shlex.quote(x) for x in sys.argv)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    procs = []
    load0 = os.getloadavg()
    try:
        out = []
        for kind in kinds:
            results = []
            for n in counts:
                runs = []
                for r in range(a.runs):
                    runs.append(one_run(a, kind, n, procs))
                    print(f"{kind} n={n} run {r + 1}: {json.dumps(runs[-1])}", flush=True)
                results.append((n, runs))
            out.append(table(kind, results))
    finally:
        for p in reversed(procs):
            harness.stop_process(p, timeout=10)
    load1 = os.getloadavg()
    print("\n".join(out))
    print(f"\nbinary: {a.binary}")
    print(f"machine: {machine()}")
    print(f"load average (1/5/15 min) at start {load0[0]:.2f}/{load0[1]:.2f}/{load0[2]:.2f}, "
          f"at end {load1[0]:.2f}/{load1[1]:.2f}/{load1[2]:.2f}")
    print(f"window: {a.warmup:g} s warm-up after all sources connected, then {a.seconds:g} s; {a.runs} run(s), "
          "medians; CPU = utime+stime of the connector over the window; threads, RSS and fds at its end")
    print(f"command: {command}")


if __name__ == "__main__":
    sys.exit(main())

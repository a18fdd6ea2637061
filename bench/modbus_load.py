"""Modbus whole-process load (issue 3): 100 devices x 200 registers at 1 s from our
simulator on loopback, the connector beside a pymodbus client script polling the same load.
--registers, --poll-ms and --spool change the load (e.g. issue 18's 10 units x 1,000
registers every 100 ms, spool on: --devices 10 --registers 1000 --poll-ms 100 --spool).

One run of this script starts ONE `unified-connector simulate` on a free loopback port and,
for each of --runs rounds, one after the other (never at the same time):

1. connector: `unified-connector run` with --devices modbus sources (one TCP connection
   each, unit 1) of --registers (200) uint16 tags at holding registers 200.. (the
   simulator's ramp area, 200..9999), poll_interval_ms --poll-ms (1000), coalesced by the
   source into requests of at most 125 registers (2 per poll for 200); file sink (JSON
   Lines) into a temp dir, disk spool disabled (enabled with --spool), log_level warn.
   Warm-up: every source `connected` and records delivered, then 3 s. Then CPU (cores
   used, from /proc/<pid>/stat utime+stime), records/s delivered (GET /api/status on the
   web_ui port) and source errors over --seconds; peak RSS = VmHWM at the end.
2. pymodbus: this same file in `--client` mode under /usr/bin/python3 (python3-pymodbus
   3.0, Debian): --devices synchronous pymodbus.client.ModbusTcpClient connections; every
   --poll-ms (fixed-rate ticks) each reads the same registers in the same requests (for
   200: holding 200..324 and 325..399) and decodes them as uint16 into one (tag name,
   value, timestamp) entry per register. One thread, devices in turn. It keeps no sink:
   no normalization, serialization or file writes (so the comparison favours it). Same
   warm-up (3 cycles, then 3 s) and the same CPU / VmHWM / values-per-second measurement.

The simulator's CPU during each window is printed as context. Expected rate:
devices x registers x 1000 / poll-ms values/s (20,000 for the defaults). Medians over the runs.

usage: /usr/bin/python3 bench/modbus_load.py BINARY [--devices 100] [--registers 200] [--poll-ms 1000]
       [--spool] [--seconds 20] [--runs 3]

Everything (processes, temp dir) is cleaned up on exit, on error, on Ctrl-C and on
SIGTERM; every wait is bounded.
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

FIRST = 200        # the simulator's ramp area: holding registers 200..9999
MAX_PER_REQUEST = 125
PYMODBUS_PYTHON = "/usr/bin/python3"


def chunks(count):
    """(address, count) of each read request for `count` registers from FIRST, as the source coalesces them."""
    return [(FIRST + off, min(MAX_PER_REQUEST, count - off)) for off in range(0, count, MAX_PER_REQUEST)]


# ---------------------------------------------------------------- pymodbus client mode
def client_main(port, devices, count, poll_s, status_path):
    from pymodbus.client import ModbusTcpClient

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    clients = []
    for _ in range(devices):
        c = ModbusTcpClient("127.0.0.1", port=port, timeout=3, retries=0)
        if not c.connect():
            raise SystemExit("pymodbus client: cannot connect")
        clients.append(c)
    names = [f"r{FIRST + i}" for i in range(count)]
    requests = chunks(count)
    cycles = values = errors = late = 0
    max_cycle = 0.0
    start = time.monotonic()
    tick = 0
    while True:
        t0 = time.monotonic()
        for c in clients:
            regs = []
            for addr, n in requests:
                rr = c.read_holding_registers(addr, n, slave=1)
                if rr.isError():
                    errors += 1
                    break
                regs.extend(rr.registers)
            if len(regs) != count:
                continue
            now = time.time()
            # uint16, byte order ABCD: the register word as is; one entry per tag
            decoded = [(names[i], regs[i] & 0xFFFF, now) for i in range(count)]
            values += len(decoded)
        cycle = time.monotonic() - t0
        max_cycle = max(max_cycle, cycle)
        cycles += 1
        tmp = status_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"cycles": cycles, "values": values, "errors": errors, "late": late,
                       "max_cycle_s": max_cycle}, f)
        os.replace(tmp, status_path)
        tick += 1
        next_t = start + tick * poll_s
        now = time.monotonic()
        if now >= next_t:  # behind: count the missed ticks, continue with the next one
            missed = int((now - next_t) / poll_s) + 1
            late += missed
            tick += missed
            next_t = start + tick * poll_s
        time.sleep(max(0.0, next_t - time.monotonic()))


# ---------------------------------------------------------------- measurement helpers
def connector_config(wd, sim_port, web_port, a):
    devices = a.devices
    regs = "\n".join(f"      - {{name: r{FIRST + i}, table: holding, address: {FIRST + i}, type: uint16}}"
                     for i in range(a.registers))
    srcs = []
    for d in range(devices):
        srcs.append(f"""  - name: dev{d:03d}
    protocol: modbus
    endpoint: "modbus://127.0.0.1:{sim_port}"
    equipment: dev{d:03d}
    unit_id: 1
    poll_interval_ms: {a.poll_ms}
    timeout_ms: 1000
    max_registers_per_request: {MAX_PER_REQUEST}
    registers:
{regs}
""")
    data = os.path.join(wd, "data")
    text = f"""connector: {{name: modbus-bench, log_level: warn, data_dir: "{data}"}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {web_port}}}
sinks:
  file: {{enabled: true, directory: "{data}/records", rotate_mb: 256, rotate_s: 0}}
backpressure: {{max_queue_size: 100000, drop_policy: block, disk_spool: {{enabled: {"true" if a.spool else "false"}}}}}
sources:
{"".join(srcs)}"""
    path = os.path.join(wd, "connector.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def api_status(harness, port):
    _, _, body = harness.http_get(port, "/api/status")
    return json.loads(body)


def connector_phase(harness, a, wd, sim, sim_port, procs):
    binary, devices, seconds = a.binary, a.devices, a.seconds
    web_port = harness.free_port()
    cfg = connector_config(wd, sim_port, web_port, a)
    log = open(os.path.join(wd, "connector.log"), "w")
    proc = subprocess.Popen([binary, "run", "--config", cfg], stdout=log, stderr=subprocess.STDOUT)
    procs.append(proc)
    try:
        def ready():
            if proc.poll() is not None:
                raise SystemExit(f"connector exited with {proc.returncode}; see {wd}/connector.log")
            s = api_status(harness, web_port)
            return (all(x["state"] == "connected" for x in s["sources"]) and len(s["sources"]) == devices
                    and sum(t["records_delivered"] for t in s["targets"]) > 0)
        harness.wait_for(ready, 60, "all modbus sources connected and first delivery")
        time.sleep(3)  # warm-up
        s0, c0, k0, t0 = api_status(harness, web_port), harness.cpu_seconds(proc.pid), harness.cpu_seconds(sim.pid), time.monotonic()
        time.sleep(seconds)
        s1, c1, k1, t1 = api_status(harness, web_port), harness.cpu_seconds(proc.pid), harness.cpu_seconds(sim.pid), time.monotonic()
        rss = harness.peak_rss_mb(proc.pid)
    finally:
        harness.stop_process(proc, timeout=60)
        log.close()
    dt = t1 - t0
    delivered = lambda s: sum(t["records_delivered"] for t in s["targets"])  # noqa: E731
    errors = lambda s: sum(x["errors"] for x in s["sources"])  # noqa: E731
    return {"rate": (delivered(s1) - delivered(s0)) / dt, "cpu": (c1 - c0) / dt, "rss": rss,
            "sim_cpu": (k1 - k0) / dt, "errors": errors(s1) - errors(s0),
            "connected": sum(x["state"] == "connected" for x in s1["sources"])}


def pymodbus_phase(harness, a, wd, sim, sim_port, procs):
    seconds = a.seconds
    status = os.path.join(wd, "pymodbus_status.json")
    log = open(os.path.join(wd, "pymodbus.log"), "w")
    proc = subprocess.Popen([PYMODBUS_PYTHON, os.path.abspath(__file__), "--client", "--port", str(sim_port),
                             "--devices", str(a.devices), "--registers", str(a.registers), "--poll-ms", str(a.poll_ms),
                             "--status", status], stdout=log, stderr=subprocess.STDOUT)
    procs.append(proc)

    def read_status():
        if proc.poll() is not None:
            raise SystemExit(f"pymodbus client exited with {proc.returncode}; see {wd}/pymodbus.log")
        with open(status) as f:
            return json.load(f)
    try:
        harness.wait_for(lambda: os.path.exists(status) and read_status()["cycles"] >= 3, 60, "3 pymodbus cycles")
        time.sleep(3)  # warm-up
        s0, c0, k0, t0 = read_status(), harness.cpu_seconds(proc.pid), harness.cpu_seconds(sim.pid), time.monotonic()
        time.sleep(seconds)
        s1, c1, k1, t1 = read_status(), harness.cpu_seconds(proc.pid), harness.cpu_seconds(sim.pid), time.monotonic()
        rss = harness.peak_rss_mb(proc.pid)
    finally:
        harness.stop_process(proc)
        log.close()
    dt = t1 - t0
    return {"rate": (s1["values"] - s0["values"]) / dt, "cpu": (c1 - c0) / dt, "rss": rss,
            "sim_cpu": (k1 - k0) / dt, "errors": s1["errors"] - s0["errors"], "late": s1["late"] - s0["late"],
            "max_cycle_s": s1["max_cycle_s"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary", nargs="?")
    ap.add_argument("--devices", type=int, default=100)
    ap.add_argument("--registers", type=int, default=200, help="uint16 tags per device, from holding 200 (<= 9800)")
    ap.add_argument("--poll-ms", type=int, default=1000, help="poll interval of the connector and the pymodbus loop")
    ap.add_argument("--spool", action="store_true", help="the connector's disk spool on (default: off)")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--status", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.client:
        return client_main(a.port, a.devices, a.registers, a.poll_ms / 1000, a.status)
    if not a.binary:
        ap.error("BINARY is required")
    import harness

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    wd = tempfile.mkdtemp(prefix="uc_modbus_load_")
    procs = []
    try:
        sim_port = harness.free_port()
        sim_cfg = os.path.join(wd, "sim.yaml")
        with open(sim_cfg, "w") as f:
            f.write("connector: {name: sim, log_level: warn}\nsimulator:\n  enabled: true\n"
                    f"  modbus: {{enabled: true, port: {sim_port}}}\n  opcua: {{enabled: false}}\n"
                    "  mqtt: {enabled: false}\n")
        sim_log = open(os.path.join(wd, "sim.log"), "w")
        sim = subprocess.Popen([a.binary, "simulate", "--config", sim_cfg, "--host", "127.0.0.1"],
                               stdout=sim_log, stderr=subprocess.STDOUT)
        procs.append(sim)

        def sim_up():
            if sim.poll() is not None:
                raise SystemExit(f"simulator exited with {sim.returncode}")
            import socket
            with socket.create_connection(("127.0.0.1", sim_port), timeout=1):
                return True
        harness.wait_for(sim_up, 20, "the simulator")

        conn, pym = [], []
        for i in range(a.runs):
            conn.append(connector_phase(harness, a, wd, sim, sim_port, procs))
            shutil.rmtree(os.path.join(wd, "data"), ignore_errors=True)
            pym.append(pymodbus_phase(harness, a, wd, sim, sim_port, procs))
            print(f"run {i + 1}: connector {conn[-1]['rate']:,.0f} rec/s, {conn[-1]['cpu']:.3f} cores, "
                  f"{conn[-1]['rss']:.1f} MB, errors {conn[-1]['errors']} | pymodbus {pym[-1]['rate']:,.0f} values/s, "
                  f"{pym[-1]['cpu']:.3f} cores, {pym[-1]['rss']:.1f} MB, errors {pym[-1]['errors']}, "
                  f"late ticks {pym[-1]['late']}, slowest cycle {pym[-1]['max_cycle_s']:.3f} s", flush=True)
    finally:
        for p in reversed(procs):
            harness.stop_process(p)
        shutil.rmtree(wd, ignore_errors=True)

    med = lambda xs, k: statistics.median(x[k] for x in xs)  # noqa: E731
    expected = a.devices * a.registers * 1000 / a.poll_ms
    requests = chunks(a.registers)
    cc, pc, cr, pr = med(conn, "cpu"), med(pym, "cpu"), med(conn, "rss"), med(pym, "rss")
    crate, prate = med(conn, "rate"), med(pym, "rate")
    print(f"\n{a.devices} devices x {a.registers} uint16 (holding {FIRST}..{FIRST + a.registers - 1}, "
          f"{len(requests)} requests/poll) every {a.poll_ms} ms, connector spool {'on' if a.spool else 'off'}, "
          f"loopback, one simulator; {a.runs} runs x {a.seconds:g} s, medians")
    print(f"| | connector (`run`, file sink) | pymodbus 3.0 script | ratio pymodbus / connector |")
    print(f"|---|---|---|---|")
    print(f"| CPU (cores used) | {cc:.3f} | {pc:.3f} | {pc / cc:.1f}x |")
    print(f"| peak RSS (VmHWM) | {cr:.1f} MB | {pr:.1f} MB | {pr / cr:.2f}x |")
    print(f"| values/s (expected {expected:,.0f}) | {crate:,.0f} | {prate:,.0f} | |")
    kept_c = abs(crate - expected) <= 0.02 * expected and all(x["errors"] == 0 for x in conn)
    kept_p = abs(prate - expected) <= 0.02 * expected and all(x["errors"] == 0 and x["late"] == 0 for x in pym)
    print(f"| kept up with {a.poll_ms} ms (within 2 %, no errors) | {'yes' if kept_c else 'NO'} | {'yes' if kept_p else 'NO'} | |")
    print(f"| simulator CPU meanwhile | {med(conn, 'sim_cpu'):.3f} | {med(pym, 'sim_cpu'):.3f} | |")
    print(f"\nconnector runs: " + ", ".join(f"{x['cpu']:.3f} cores/{x['rss']:.1f} MB/{x['rate']:,.0f}/s" for x in conn))
    print(f"pymodbus runs:  " + ", ".join(f"{x['cpu']:.3f} cores/{x['rss']:.1f} MB/{x['rate']:,.0f}/s, "
                                         f"slowest cycle {x['max_cycle_s']:.3f} s" for x in pym))


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Whole process: our simulator (Sparkplug B edge node at full rate) → Debian mosquitto →
connector (MQTT source, Sparkplug host, normalize, spool, file sink), all on loopback.
Reports per run: DDATA messages/s and records/s the connector received and delivered,
and the CPU (cores) of connector, simulator and mosquitto over the measured window.

usage: bench/mqtt_whole_process.py BINARY [--devices 10] [--seconds 10] [--runs 3]
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
import harness  # noqa: E402
import mosquitto  # noqa: E402

METRICS_PER_DEVICE = 6


def status(api):
    _, _, body = harness.http_get(api, "/api/status")
    return json.loads(body)


def one_run(binary, devices, seconds):
    with mosquitto.Broker() as broker:
        work = harness.Workdir("uc_mqtt_bench_")
        api = harness.free_port()
        cfg = work.write("run.yaml", f"""
connector: {{name: bench, log_level: warn, data_dir: "{work.path}/data"}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {api}}}
sinks:
  file: {{enabled: true, directory: "{work.path}/records", rotate_mb: 256}}
sources:
  - {{name: sp, protocol: mqtt, endpoint: "mqtt://127.0.0.1:{broker.port}", qos: 0, topics: ["spBv1.0/sim/#"]}}
""")
        sim_cfg = work.write("sim.yaml", f"""
connector: {{name: sim, log_level: warn}}
simulator:
  enabled: true
  modbus: {{enabled: false}}
  opcua: {{enabled: false}}
  mqtt: {{enabled: true, broker: "mqtt://127.0.0.1:{broker.port}", interval_ms: 0, json: false, devices: {devices}}}
""")
        conn = subprocess.Popen([binary, "run", "--config", cfg], cwd=work.path, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        sim = None
        try:
            harness.wait_for(lambda: status(api)["sources"][0]["state"] == "connected", 20, "connector up")
            sim = subprocess.Popen([binary, "simulate", "--config", sim_cfg], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            harness.wait_for(lambda: status(api)["sources"][0]["records_received"] > 10000, 30, "traffic")
            s0, t0 = status(api), time.monotonic()
            c0 = [harness.cpu_seconds(p.pid) for p in (conn, sim, broker.proc)]
            time.sleep(seconds)  # the measured window (a benchmark, not a test)
            s1, t1 = status(api), time.monotonic()
            c1 = [harness.cpu_seconds(p.pid) for p in (conn, sim, broker.proc)]
            dt = t1 - t0
            received = (s1["sources"][0]["records_received"] - s0["sources"][0]["records_received"]) / dt
            delivered = (s1["targets"][0]["records_delivered"] - s0["targets"][0]["records_delivered"]) / dt
            cpu = [(b - a) / dt for a, b in zip(c0, c1)]
            return {"records_received_per_s": round(received), "ddata_per_s": round(received / METRICS_PER_DEVICE),
                    "records_delivered_per_s": round(delivered), "cpu_connector": round(cpu[0], 2),
                    "cpu_simulator": round(cpu[1], 2), "cpu_mosquitto": round(cpu[2], 2),
                    "records_per_connector_cpu_s": round(received / cpu[0]) if cpu[0] else None,
                    "source_errors": s1["sources"][0]["errors"]}
        finally:
            for p in (sim, conn):
                if p and p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    try:
                        p.wait(timeout=60)
                    except subprocess.TimeoutExpired:
                        p.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--devices", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    runs = [one_run(a.binary, a.devices, a.seconds) for _ in range(a.runs)]
    for r in runs:
        print(json.dumps(r))
    print(json.dumps({k: statistics.median([r[k] for r in runs]) for k in runs[0] if runs[0][k] is not None},
                     ) + "  (medians)")


if __name__ == "__main__":
    main()

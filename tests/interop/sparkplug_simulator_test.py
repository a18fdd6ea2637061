"""Issue 4 proof 2: our simulator's Sparkplug B payloads decode with Eclipse Tahu's
`sparkplug-payload` (tests/interop/sparkplug-js/host_check.js checks births, aliases,
alias-only DDATA, seq wrap at 255 and the rebirth answer), and the connector reads the
simulator end to end (JSON and Sparkplug) through a real mosquitto."""
import json
import os
import shutil
import signal
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import harness  # noqa: E402
import mosquitto  # noqa: E402

BINARY = os.environ["UC_BINARY"]
JS = os.path.join(HERE, "sparkplug-js")
NODE = shutil.which("node") or "/usr/bin/node"


def sim_config(work, port, interval_ms, extra=""):
    return work.write("sim.yaml", f"""
connector: {{name: sim, data_dir: "{work.path}/data"}}
simulator:
  enabled: true
  modbus: {{enabled: false}}
  opcua: {{enabled: false}}
  mqtt: {{enabled: true, broker: "mqtt://127.0.0.1:{port}", interval_ms: {interval_ms}, devices: 2}}
{extra}""")


class SimulatorPayloads(unittest.TestCase):
    def test_tahu_decodes_our_simulator(self):
        with mosquitto.Broker() as broker:
            work = harness.Workdir("uc_sp_sim_")
            cfg = sim_config(work, broker.port, 1)
            checker = subprocess.Popen([NODE, os.path.join(JS, "host_check.js"), str(broker.port), "sim", "sim-edge"],
                                       cwd=JS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.assertEqual(checker.stdout.readline().strip(), "subscribed")  # before the simulator births
            sim = harness.start(BINARY, "simulate", "--config", cfg)
            try:
                out, err = checker.communicate(timeout=60)
                summary = json.loads(out.strip().splitlines()[-1])
                self.assertTrue(summary["ok"], (summary, err))
                self.assertGreaterEqual(summary["wraps"], 1)
                self.assertEqual(summary["aliases"], 1 + 2 * 6)
                self.assertEqual(summary["rebirthBdSeq"], summary["bdSeq"])
            finally:
                sim.send_signal(signal.SIGTERM)
                sim.communicate(timeout=30)

    def test_connector_reads_the_simulator(self):
        with mosquitto.Broker() as broker:
            work = harness.Workdir("uc_sp_sim_run_")
            api = harness.free_port()
            rec_dir = os.path.join(work.path, "records")
            cfg = sim_config(work, broker.port, 50, extra=f"""
web_ui: {{enabled: true, host: 127.0.0.1, port: {api}}}
normalization:
  rules:
    - {{protocol: mqtt, topic: "factory/(?P<line>[^/]+)/(?P<equipment>[^/]+)/(?P<tag_name>.+)"}}
    - {{protocol: mqtt, topic: "spBv1.0/[^/]+/(?P<line>[^/]+)/(?P<equipment>[^/#]+)#(?P<tag_name>.+)"}}
sinks:
  file: {{enabled: true, directory: "{rec_dir}"}}
sources:
  - name: m
    protocol: mqtt
    endpoint: mqtt://127.0.0.1:{broker.port}
    topics: ["factory/#", "spBv1.0/sim/#"]
""")
            proc = harness.start(BINARY, "run", "--config", cfg, cwd=work.path)
            try:
                def paths():
                    return {r["tag_path"]: r for r in harness_records(rec_dir)}
                want = {"unknown/unknown/line1/press1/temperature/temperature",
                        "unknown/unknown/sim-edge/dev1/temperature/temperature"}
                got = harness.wait_for(lambda: (p := paths()) and want <= set(p) and p, 30, "JSON and Sparkplug records")
                spectrum = [r for k, r in got.items() if k.endswith("/spectrum")]
                self.assertEqual(spectrum[0]["value_type"], "array")
                self.assertEqual(len(json.loads(spectrum[0]["value_str"])), 8)
                self.assertTrue(all(r["quality"] == "good" for r in got.values()))
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.communicate(timeout=60)


def harness_records(directory):
    out = []
    for root, _, files in os.walk(directory):
        for name in sorted(files):
            if name.endswith(".jsonl"):
                with open(os.path.join(root, name)) as f:
                    out += [json.loads(line) for line in f if line.strip()]
    return out


if __name__ == "__main__":
    unittest.main()

"""config/demo.yaml as `make run` runs it: its in-process OPC UA, Modbus and MQTT simulators,
a private mosquitto in place of scripts/demo-broker.sh, and the connector. Only the ports
(free ones instead of 8080, 4840, 5020, 1883) and nothing else of the file change. Every
source of the demo must deliver good records to the file sink; the OPC UA source both its
configured Demo variables (subscription) and the Plant variables found by browsing, with
the ISA-95 paths the demo's rules give them. SIGTERM then stops it with exit code 0."""
import json
import os
import re
import signal
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
import mosquitto  # noqa: E402

BINARY = os.environ["UC_BINARY"]
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEMO = os.path.join(ROOT, "config", "demo.yaml")

# The demo's Plant browse: every variable of line 1's ten machines (docs/simulator-opcua.md).
MACHINES = ["Mixer1", "Pump1", "Oven1", "Conveyor1", "Filler1", "Press1", "Boiler1", "Chiller1", "Robot1", "Tank1"]


def records(data_dir):
    out = []
    top = os.path.join(data_dir, "records")
    for root, _, files in os.walk(top):
        for name in sorted(files):
            if name.endswith(".jsonl"):
                with open(os.path.join(root, name)) as f:
                    out += [json.loads(line) for line in f if line.endswith("\n")]
    return out


def demo_with_ports(api, opcua, modbus, mqtt):
    with open(DEMO) as f:
        text = f.read()
    for old, new in [("port: 8080", f"port: {api}"),
                     ("port: 4840", f"port: {opcua}"), ("opc.tcp://127.0.0.1:4840", f"opc.tcp://127.0.0.1:{opcua}"),
                     ("port: 5020", f"port: {modbus}"), ("modbus://127.0.0.1:5020", f"modbus://127.0.0.1:{modbus}"),
                     ("mqtt://127.0.0.1:1883", f"mqtt://127.0.0.1:{mqtt}")]:
        assert old in text, f"config/demo.yaml no longer has {old!r}; update this test"
        text = text.replace(old, new)
    return text


class Demo(unittest.TestCase):
    def test_every_source_of_the_demo_delivers(self):
        broker = mosquitto.Broker()
        self.addCleanup(broker.stop)
        wd = harness.Workdir("uc_demo_")
        api = harness.free_port()
        text = demo_with_ports(api, harness.free_port(), harness.free_port(), broker.port)
        sources = re.findall(r"^  - name: (\S+)", text, re.M)
        self.assertIn("assembly_opcua", sources)
        self.assertEqual(len(sources), 6, sources)
        cfg = wd.write("demo.yaml", text)
        data = os.path.join(wd.path, "data")  # the demo's ./data, relative to the working directory
        proc = harness.start(BINARY, "run", "--config", cfg, cwd=wd.path)
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.communicate(timeout=30)))

        plant = {f"ns=1;s=Plant.Site1.Line1.{m}.{v}" for m in MACHINES
                 for v in ["Temperature", "Pressure", "Speed", "Level", "Count", "Running", "State", "Energy",
                           "AlarmCode", "Setpoint"]}

        def complete():
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            recs = records(data)
            good = {r["source_name"] for r in recs if r["quality"] == "good"}
            opcua = {r["address"] for r in recs if r["source_name"] == "assembly_opcua"}
            if set(sources) <= good and plant <= opcua and len(opcua) >= 105:
                return recs
            return None

        recs = harness.wait_for(complete, 90, "good records from every source of the demo, 105 OPC UA variables")
        opcua = [r for r in recs if r["source_name"] == "assembly_opcua"]
        self.assertTrue(all(r["protocol"] == "opcua" for r in opcua))
        # The Plant variables that were not asked for are not read.
        self.assertEqual({r["address"] for r in opcua} - plant,
                         {f"nsu=urn:unified-connector:simulator;s=Demo.Dynamic.{n}"
                          for n in ["Sine", "Counter", "Toggle", "Text", "Status"]})

        # Demo variables: the source's context and the configured names.
        sine = next(r for r in opcua if r["address"].endswith("Demo.Dynamic.Sine"))
        self.assertEqual(sine["tag_path"], "plant1/assembly/test_bench/signal_panel/temperature/sine_temperature")
        self.assertEqual(sine["unit"], "degC")
        self.assertEqual(sine["quality"], "good")
        self.assertTrue(25.0 <= sine["value_num"] <= 75.0, sine)
        toggle = next(r for r in opcua if r["address"].endswith("Demo.Dynamic.Toggle"))
        self.assertIn(toggle["value_bool"], (True, False))
        self.assertEqual(toggle["tag_name"], "heater_on")

        # Plant variables: line and machine from the browse path through the demo's rule.
        temp = next(r for r in opcua if r["address"] == "ns=1;s=Plant.Site1.Line1.Oven1.Temperature")
        self.assertEqual((temp["site"], temp["area"], temp["line"], temp["equipment"]),
                         ("plant1", "assembly", "Line1", "Oven1"))
        self.assertEqual(temp["tag_path"], "plant1/assembly/line1/oven1/temperature/temperature")
        self.assertEqual(temp["quality"], "good")
        self.assertEqual(temp["metadata"]["data_type"], "Double")

        # Every source is connected; the OPC UA source has had no error.
        _, _, body = harness.http_get(api, "/api/status")
        status = {s["name"]: s for s in json.loads(body)["sources"]}
        self.assertEqual(set(status), set(sources))
        for name, s in status.items():
            self.assertEqual(s["state"], "connected", s)
        self.assertEqual(status["assembly_opcua"]["errors"], 0, status["assembly_opcua"])
        self.assertEqual(status["assembly_opcua"]["reconnections"], 0, status["assembly_opcua"])

        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err[-3000:])
        # A clean start: no warning about the demo's own setup (features missing, a browse
        # cut short by max_nodes, an OPC UA node that did not resolve).
        for line in err.splitlines():
            if " warning " in line or " error " in line:
                self.assertNotIn("not available yet", line)
                self.assertNotIn("assembly_opcua", line)
        self.assertIn("0 records dropped in total", err)


if __name__ == "__main__":
    unittest.main()

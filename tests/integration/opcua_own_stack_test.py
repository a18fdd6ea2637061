"""Our OPC UA client (the `opcua` source and `browse`) against our own OPC UA simulator:
both ends of the project's stack over loopback, at scale.

- subscription mode with 10,000 monitored items found by browsing Objects/Plant, plus the
  documented Demo variables by namespace URI: every item reports, the static values
  arrive exactly with their types, the counter rises and the status cycle reaches the
  records' quality. The simulator advertises MaxMonitoredItemsPerCall and MaxNodesPerRead
  of 1000 and enforces them, so the source must split its calls.
- the simulator is killed and restarted on the same port mid-run: data resumes without
  restarting the connector.
- `browse` lists the Demo folder with node ids and data types.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import harness  # noqa: E402

BINARY = os.environ.get("UC_BINARY", os.path.join(HERE, "..", "..", "build", "src", "app", "unified-connector"))
NS = "urn:unified-connector:simulator"
PLANT = 10000

# docs/simulator-opcua.md, Demo/Static: name -> (OPC UA type, record value_type, check)
STATIC = {
    "Boolean": ("Boolean", "bool", lambda r: r["value_bool"] is True),
    "SByte": ("SByte", "int64", lambda r: r["value_str"] == "-100"),
    "Byte": ("Byte", "uint64", lambda r: r["value_str"] == "200"),
    "Int16": ("Int16", "int64", lambda r: r["value_str"] == "-30000"),
    "UInt16": ("UInt16", "uint64", lambda r: r["value_str"] == "60000"),
    "Int32": ("Int32", "int64", lambda r: r["value_str"] == "-2000000000"),
    "UInt32": ("UInt32", "uint64", lambda r: r["value_str"] == "4000000000"),
    "Int64": ("Int64", "int64", lambda r: r["value_str"] == "-9000000000000000001"),
    "UInt64": ("UInt64", "uint64", lambda r: r["value_str"] == "18000000000000000001"),
    "Float": ("Float", "double", lambda r: r["value_num"] == 3.25),
    "Double": ("Double", "double", lambda r: r["value_num"] == -1234.5678),
    "String": ("String", "string", lambda r: r["value_str"] == "Grüße, Welt"),
    "DateTime": ("DateTime", "string", lambda r: r["value_str"] == "2024-01-02T03:04:05.678Z"),
    "ByteString": ("ByteString", "bytes", lambda r: r["value_str"] == "AAH+/w=="),
    "DoubleArray": ("Double", "array", lambda r: json.loads(r["value_str"]) == [1.5, -2.5, 3.5]),
    "Int32Array": ("Int32", "array", lambda r: json.loads(r["value_str"]) == [1, -2, 3]),
    "StringArray": ("String", "array", lambda r: json.loads(r["value_str"]) == ["a", "b"]),
}


class Simulator:
    def __init__(self, work, port):
        self.cfg = work.write("sim.yaml", f"""connector: {{name: sim, log_level: warn}}
simulator:
  enabled: true
  modbus: {{enabled: false}}
  mqtt: {{enabled: false}}
  opcua: {{enabled: true, port: {port}, variables: {PLANT}}}
""")
        self.port = port
        self.proc = None
        self.start()

    def start(self):
        self.proc = harness.start(BINARY, "simulate", "--config", self.cfg)

        def up():
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        harness.wait_for(up, 30, "the OPC UA simulator")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.communicate(timeout=30)


class OwnStackTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = harness.Workdir("uc-opcua-own-")
        cls.sim = Simulator(cls.work, harness.free_port())
        cls.url = f"opc.tcp://127.0.0.1:{cls.sim.port}"

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def records(self, d):
        return harness.read_jsonl_dir(d) if os.path.isdir(d) else []

    def test_subscription_at_10000_items_and_recovery_after_a_server_restart(self):
        records_dir = os.path.join(self.work.path, "records")
        out = os.path.join(records_dir, "default")  # the file sink writes <directory>/<target>/
        nodes = "".join(f'      - {{node_id: "nsu={NS};s=Demo.Static.{n}", tag_name: static_{n.lower()}}}\n'
                        for n in STATIC)
        nodes += f'      - {{node_id: "nsu={NS};s=Demo.Dynamic.Counter", tag_name: counter}}\n'
        nodes += f'      - {{node_id: "nsu={NS};s=Demo.Dynamic.Status", tag_name: status}}\n'
        api = harness.free_port()
        cfg = self.work.write("run.yaml", (
            f'connector: {{name: own, log_level: info, data_dir: "{self.work.path}/data"}}\n'
            f"web_ui: {{enabled: true, port: {api}}}\n"
            f'sinks: {{file: {{enabled: true, directory: "{records_dir}"}}}}\n'
            "backpressure: {max_queue_size: 200000}\n"
            "sources:\n  - name: ua\n    protocol: opcua\n"
            f"    endpoint: {self.url}\n    mode: subscription\n"
            "    publishing_interval_ms: 1000\n    sampling_interval_ms: 1000\n"
            "    backoff_initial_ms: 100\n    backoff_max_ms: 500\n    timeout_ms: 5000\n"
            "    nodes:\n" + nodes +
            f'    browse:\n      - {{root: "Objects/1:Plant", pattern: "**", max_nodes: {PLANT}}}\n'))
        # No site/line context here: the plant's equipment names repeat per line, so most of
        # the 10,000 tags collide. The log goes to a file anyway (info level).
        log = open(os.path.join(self.work.path, "run.log"), "w")
        run = subprocess.Popen([BINARY, "run", "--config", cfg], stdout=log, stderr=subprocess.STDOUT)
        try:
            def by_address():
                seen = {}
                for r in self.records(out):
                    seen.setdefault(r["address"], []).append(r)
                return seen
            harness.wait_for(lambda: len(by_address()) >= PLANT + len(STATIC) + 2, 90,
                             "a record of every monitored item")
            harness.wait_for(lambda: len([r for r in by_address().get(f"nsu={NS};s=Demo.Dynamic.Counter", [])
                                          if r["quality"] == "good"]) >= 4, 30, "the counter to change")
            seen = by_address()
            plant = [a for a in seen if "Plant." in a]
            self.assertEqual(len(plant), PLANT)
            for name, (dtype, vtype, check) in STATIC.items():
                with self.subTest(variable=name):
                    recs = [r for a, rs in seen.items() if a.endswith(f"Demo.Static.{name}") for r in rs]
                    self.assertTrue(recs, name)
                    r = recs[0]
                    self.assertEqual((r["quality"], r["value_type"], r["metadata"].get("data_type")),
                                     ("good", vtype, dtype), r)
                    self.assertTrue(check(r), r)
            counter = [int(r["value_str"]) for a, rs in seen.items() if a.endswith("Demo.Dynamic.Counter")
                       for r in rs if r["quality"] == "good"]
            self.assertEqual(counter, sorted(counter))
            self.assertGreater(counter[-1], counter[0])
            # The status cycle: Good, UncertainLastUsableValue, BadSensorFailure, 5 s each.
            harness.wait_for(lambda: {r["quality"] for a, rs in by_address().items()
                                      if a.endswith("Demo.Dynamic.Status") for r in rs} >= {"good", "uncertain"},
                             30, "the status variable's quality to change")

            # Path collisions: counted in the status and the metrics, logged as the first
            # three in full and summary lines (not one line per tag).
            suffixed = {a for a, rs in seen.items() if re.search(r"_[0-9a-f]{8}(_[0-9]+)?$", rs[0]["tag_path"])}
            self.assertGreater(len(suffixed), 1000)
            status = json.loads(harness.http_get(api, "/api/status")[2])
            self.assertEqual(status["sources"][0]["path_collisions"], len(suffixed))
            metrics = harness.http_get(api, "/metrics")[2].decode()
            self.assertIn(f'uc_tag_path_collisions{{source="ua"}} {len(suffixed)}\n', metrics)
            with open(log.name) as f:
                text = f.read()
            self.assertEqual(len(re.findall(r"source=ua tag path collision: ", text)), 3, text[-3000:])
            summaries = re.findall(r"source=ua ([0-9]+) tags share a tag path with another; first: tag path collision: ",
                                   text)
            self.assertTrue(summaries, text[-3000:])
            self.assertEqual(int(summaries[-1]), len(suffixed))
            self.assertLess(len(summaries), 50)

            # Kill the server: bad records with a cause, then data again after the restart.
            before = len(self.records(out))
            self.sim.kill()
            harness.wait_for(lambda: any(r["quality"] == "bad" and r["address"].endswith("Demo.Dynamic.Counter")
                                         for r in self.records(out)[before:]), 30, "bad records after the kill")
            self.sim.start()
            restarted = len(self.records(out))
            harness.wait_for(lambda: len([r for r in self.records(out)[restarted:]
                                          if r["address"].endswith("Demo.Dynamic.Counter")
                                          and r["quality"] == "good"]) >= 2, 60, "good data after the restart")
            self.assertIsNone(run.poll(), "the connector died")
        finally:
            run.send_signal(signal.SIGTERM)
            run.wait(timeout=60)
            log.close()
        with open(log.name) as f:
            self.assertEqual(run.returncode, 0, f.read()[-3000:])

    def test_browse_lists_the_demo_folder(self):
        r = subprocess.run([BINARY, "browse", self.url, "--root", "ns=1;s=Demo.Static", "--json"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        nodes = {x["browse_name"]: x for x in map(json.loads, r.stdout.splitlines()) if "node_id" in x}
        for name, (dtype, _, _) in STATIC.items():
            self.assertEqual(nodes["1:" + name]["data_type"], dtype, name)
            self.assertEqual(nodes["1:" + name]["node_id"], "ns=1;s=Demo.Static." + name)


if __name__ == "__main__":
    unittest.main()

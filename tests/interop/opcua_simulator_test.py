"""Our OPC UA simulator (`simulate`, our own stack) against a real node-opcua client
(tests/interop/opcua-js/sim_client.js): endpoints, browse, read of every documented
static value with its exact type, TranslateBrowsePathsToNodeIds, and a subscription
whose notifications carry the documented changing values and status codes. Then hostile
bytes on the wire: each connection is closed with an Error message and the server keeps
serving."""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import harness  # noqa: E402

BINARY = os.environ.get("UC_BINARY", os.path.join(HERE, "..", "..", "build", "src", "app", "unified-connector"))
JS = os.path.join(HERE, "opcua-js")

# docs/simulator-opcua.md, "Demo/Static"
STATIC = {
    "Boolean": ("Boolean", "true"), "SByte": ("SByte", "-100"), "Byte": ("Byte", "200"),
    "Int16": ("Int16", "-30000"), "UInt16": ("UInt16", "60000"), "Int32": ("Int32", "-2000000000"),
    "UInt32": ("UInt32", "4000000000"), "Int64": ("Int64", "-9000000000000000001"),
    "UInt64": ("UInt64", "18000000000000000001"), "Float": ("Float", "3.25"), "Double": ("Double", "-1234.5678"),
    "String": ("String", "Grüße, Welt"), "DateTime": ("DateTime", "2024-01-02T03:04:05.678Z"),
    "ByteString": ("ByteString", "0001feff"), "DoubleArray": ("Double", ["1.5", "-2.5", "3.5"]),
    "Int32Array": ("Int32", ["1", "-2", "3"]), "StringArray": ("String", ["a", "b"]),
}


def hello(url="opc.tcp://127.0.0.1:1", recv=65536, send=65536, max_msg=0, chunks=0):
    body = struct.pack("<IIIII", 0, recv, send, max_msg, chunks) + struct.pack("<i", len(url)) + url.encode()
    return b"HELF" + struct.pack("<I", 8 + len(body)) + body


class OpcUaSimulatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = harness.Workdir("uc-opcsim-")
        cls.port = harness.free_port()
        cfg = cls.work.write("sim.yaml", f"""connector: {{name: sim, log_level: warn}}
simulator:
  enabled: true
  modbus: {{enabled: false}}
  opcua: {{enabled: true, port: {cls.port}, variables: 100}}
""")
        cls.sim = harness.start(BINARY, "simulate", "--config", cfg)

        def up():
            with socket.create_connection(("127.0.0.1", cls.port), timeout=1):
                return True
        harness.wait_for(up, 20, "the OPC UA simulator to listen")
        cls.endpoint = f"opc.tcp://127.0.0.1:{cls.port}"

    @classmethod
    def tearDownClass(cls):
        cls.sim.send_signal(signal.SIGTERM)
        cls.sim.communicate(timeout=30)

    def node_client(self, seconds_subscribed):
        r = subprocess.run(["node", os.path.join(JS, "sim_client.js"), self.endpoint, str(seconds_subscribed * 1000)],
                           cwd=JS, capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        # node-opcua prints its own warnings on stdout too; the result is the RESULT line.
        lines = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")]
        self.assertEqual(len(lines), 1, r.stdout[-3000:])
        return json.loads(lines[0][len("RESULT "):])

    def test_a_node_opcua_client_browses_reads_and_subscribes(self):
        got = self.node_client(6)
        self.assertEqual(got["endpoints"], [{"url": self.endpoint,
                                             "policy": "http://opcfoundation.org/UA/SecurityPolicy#None"}])
        self.assertEqual(got["namespaces"], ["http://opcfoundation.org/UA/", "urn:unified-connector:simulator"])
        self.assertEqual([x["name"] for x in got["browse"]["ns=1;s=Demo.Static"]], [f"1:{n}" for n in STATIC])
        self.assertEqual({x["name"] for x in got["browse"]["i=85"]}, {"Server", "1:Demo", "1:Plant"})
        for name, (typ, value) in STATIC.items():
            with self.subTest(variable=name):
                r = got["read"][f"1:{name}"]
                self.assertEqual((r["type"], r["value"], r["status"]), (typ, value, "Good"))
                self.assertEqual(r["array"], isinstance(value, list))
                self.assertTrue(r["has_source_ts"])
        self.assertEqual(got["translate"], {"status": "Good",
                                            "targets": ["ns=1;s=Plant.Site1.Line1.Mixer1.Temperature"]})
        # The counter rises by one per second; the Status variable cycles Good ->
        # UncertainLastUsableValue -> BadSensorFailure every five seconds.
        counter = [int(n["value"]) for n in got["notifications"]["Counter"]]
        self.assertGreaterEqual(len(counter), 5, counter)
        self.assertEqual(counter, list(range(counter[0], counter[0] + len(counter))))
        statuses = [n["status"] for n in got["notifications"]["Status"]]
        self.assertGreaterEqual(len(set(statuses)), 2, statuses)
        self.assertTrue(set(statuses) <= {"Good", "UncertainLastUsableValue", "BadSensorFailure"}, statuses)
        for n in got["notifications"]["Status"]:
            phase = (int(n["value"]) // 5) % 3
            self.assertEqual(n["status"], ["Good", "UncertainLastUsableValue", "BadSensorFailure"][phase], n)
        self.assertTrue(all(n["source"] for n in got["notifications"]["Sine"]))

    def raw(self, payload, expect_error=True):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(payload)
            data = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except socket.timeout:
                self.fail("the server kept a hostile connection open")
        if expect_error:  # the last frame the server sent is an Error, then it closed
            at = data.rfind(b"ERRF")
            self.assertGreaterEqual(at, 0, data[:64])
            self.assertEqual(struct.unpack("<I", data[at + 4:at + 8])[0], len(data) - at, data[at:])
        return data

    def test_hostile_bytes_close_the_connection_with_an_error_and_the_server_lives(self):
        self.raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")                     # not OPC UA at all
        self.raw(b"MSGF" + struct.pack("<I", 24) + b"\0" * 16)                 # a message before Hello
        self.raw(b"HELF" + struct.pack("<I", 0x7FFFFFFF) + b"\0" * 32)        # a frame size beyond the limit
        self.raw(hello() + b"OPNF" + struct.pack("<I", 12) + b"\0" * 4)       # a truncated OpenSecureChannel
        # A Hello with a truncated endpoint URL length: an Error, never a crash.
        bad = hello()
        self.raw(bad[:-5] + b"\xff\xff\xff\x7f" + bad[-1:])
        # Still serving: a good client completes a whole session afterwards.
        got = self.node_client(1)
        self.assertEqual(got["read"]["1:Double"]["value"], "-1234.5678")
        self.assertIsNone(self.sim.poll(), "the simulator died")


if __name__ == "__main__":
    unittest.main()

"""Issue 4 proof 1 and 2 (STATE part): the connector as Sparkplug B host against an edge
node written with Eclipse Tahu's `sparkplug-payload` (npm) and the `mqtt` client, through
a real mosquitto on loopback.

- births with aliases, every scalar type, a DataSet, every array type; data by alias:
  every value decoded exactly (compared as the record's value_str);
- a deliberate seq gap: the rebirth NCMD reaches the node, which births again, and its
  new data arrives;
- the node dies (SIGKILL → the broker publishes its NDEATH will): every metric of the
  node and its device gets a bad-quality record;
- mosquitto_sub sees our retained STATE online, and offline after a graceful stop."""
import json
import os
import re
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

CONFIG = """
connector: {{name: sp-host, log_level: info, data_dir: "{data}"}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {api}}}
sinks:
  file: {{enabled: true, directory: "{records}", batch: {{max_records: 200, max_bytes: 1048576, linger_ms: 10}}}}
sources:
  - name: sp
    protocol: mqtt
    endpoint: mqtt://127.0.0.1:{port}
    qos: 1
    topics: ["spBv1.0/tahu/#"]
    sparkplug: {{host_id: uc-host, rebirth_interval_ms: 5000}}
"""


def records(directory):
    out = []
    for root, _, files in os.walk(directory):
        for name in sorted(files):
            if name.endswith(".jsonl"):
                with open(os.path.join(root, name)) as f:
                    out += [json.loads(line) for line in f if line.strip()]
    return out


def events(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def metric(api, name):
    _, _, body = harness.http_get(api, "/metrics")
    m = re.search(r'^%s\{source="sp"\} (\S+)$' % name, body.decode(), re.M)
    return float(m.group(1)) if m else 0.0


def varint(v):
    out = b""
    while True:
        b, v = v & 0x7F, v >> 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def huge_array_birth():
    """NBIRTH (seq 0) with one Int8Array metric of 1 048 577 items (1 more than the limit)."""
    data = b"\x00" * (1048576 + 1)
    m = b"\x0a\x03big" + b"\x20" + varint(22) + b"\x82\x01" + varint(len(data)) + data  # name, datatype, bytes_value
    return b"\x12" + varint(len(m)) + m + b"\x18\x00"  # metrics, seq 0


def state_message(port):
    r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", "spBv1.0/STATE/uc-host",
                        "-C", "1", "-W", "5", "-v"], capture_output=True, text=True, timeout=15)
    topic, _, payload = r.stdout.strip().partition(" ")
    return topic, json.loads(payload) if payload else None


class TahuEdgeNode(unittest.TestCase):
    def test_births_data_gap_rebirth_death_and_state(self):
        self.assertTrue(os.path.isdir(os.path.join(JS, "node_modules")), "run scripts/install-deps.sh (npm ci)")
        with mosquitto.Broker() as broker:
            work = harness.Workdir("uc_sp_tahu_")
            api = harness.free_port()
            rec_dir = os.path.join(work.path, "records")
            cfg = work.write("config.yaml", CONFIG.format(data=os.path.join(work.path, "data"), records=rec_dir,
                                                          api=api, port=broker.port))
            conn = harness.start(BINARY, "run", "--config", cfg, cwd=work.path)
            edge = None
            try:
                harness.wait_for(lambda: state_message(broker.port)[1], 20, "our STATE")
                topic, state = state_message(broker.port)
                self.assertEqual(topic, "spBv1.0/STATE/uc-host")
                self.assertEqual(state["online"], True)
                self.assertIsInstance(state["timestamp"], int)

                ev_path = os.path.join(work.path, "events.jsonl")
                edge = subprocess.Popen([NODE, os.path.join(JS, "edge_node.js"), str(broker.port), ev_path], cwd=JS,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                harness.wait_for(lambda: any(e["kind"] == "done" for e in events(ev_path)), 30,
                                 "the rebirth NCMD to reach the node and its second birth")
                ev = events(ev_path)
                ncmds = [e for e in ev if e["kind"] == "ncmd"]
                self.assertEqual(ncmds[0]["topic"], "spBv1.0/tahu/NCMD/edge1")
                self.assertEqual(ncmds[0]["rebirth"], True)
                self.assertGreaterEqual(metric(api, "uc_source_errors_total"), 1)  # the gap, counted
                self.assertGreaterEqual(metric(api, "uc_sparkplug_seq_gaps_total"), 1)
                self.assertEqual(metric(api, "uc_sparkplug_rebirth_requests_total"), len(ncmds))

                expected = [e for e in ev if e["kind"] == "value"]

                def all_values_seen():
                    have = {(r["address"], r["value_str"]) for r in records(rec_dir)}
                    return all((e["address"], e["str"]) in have or self.same_json(e, have) for e in expected)
                harness.wait_for(all_values_seen, 30, "every value the edge node sent")
                recs = records(rec_dir)
                by_addr = {}
                for r in recs:
                    by_addr.setdefault(r["address"], []).append(r)
                # metric timestamps become event_time
                speed = [r for r in by_addr["spBv1.0/tahu/edge1/dev1#speed"] if r["value_str"] == "99.25"]
                self.assertEqual(speed[0]["event_time"], 1700000003002 * 1000)
                self.assertEqual(by_addr["spBv1.0/tahu/edge1#i8"][0]["event_time"], 1700000001000 * 1000)
                self.assertEqual(by_addr["spBv1.0/tahu/edge1#u64"][0]["value_type"], "uint64")
                for r in recs:
                    self.assertEqual(r["quality"], "good", r)
                self.assertNotIn("spBv1.0/tahu/edge1#bdSeq", by_addr)

                # death: the broker publishes the node's will (NDEATH with bdSeq 0)
                edge.send_signal(signal.SIGKILL)
                edge.communicate(timeout=10)
                addresses = {e["address"] for e in expected}

                def all_bad():
                    bad = {r["address"] for r in records(rec_dir) if r["quality"] == "bad"}
                    return addresses <= bad
                harness.wait_for(all_bad, 30, "every metric of the dead node marked bad")

                # bad input on Sparkplug topics: counted, never a crash
                before = metric(api, "uc_source_errors_total")
                good = open(os.path.join(HERE, "..", "fuzz", "corpus", "sparkplug_payload", "birth_types.bin"),
                            "rb").read()
                broker.pub("spBv1.0/tahu/NBIRTH/bad1", b"\xde\xad\xbe\xef\xff\xff", qos=1)   # garbage
                broker.pub("spBv1.0/tahu/NBIRTH/bad2", good[:len(good) // 2], qos=1)             # truncated
                broker.pub("spBv1.0/tahu/NBIRTH/bad3", b"\x12\xff\xff\xff\xff\x07\x0a\x01a", qos=1)  # 2 GB metric claimed
                broker.pub("spBv1.0/tahu/NBIRTH/bad4", huge_array_birth(), qos=1)  # array over the 1 Mi item limit
                broker.pub("spBv1.0/tahu/NDATA", b"\x18\x01", qos=1)                                    # not a node topic
                harness.wait_for(lambda: metric(api, "uc_source_errors_total") >= before + 4, 20,
                                 "bad Sparkplug messages counted")
                self.assertIsNone(conn.poll())
            finally:
                if edge and edge.poll() is None:
                    edge.kill()
                    edge.communicate()
                conn.send_signal(signal.SIGTERM)
                conn.communicate(timeout=60)
            # graceful stop: our STATE says offline (retained)
            _, state = state_message(broker.port)
            self.assertEqual(state["online"], False)

    @staticmethod
    def same_json(e, have):
        if not e["str"].startswith("{"):
            return False
        want = json.loads(e["str"])
        return any(a == e["address"] and v.startswith("{") and json.loads(v) == want for a, v in have)


if __name__ == "__main__":
    unittest.main()

"""Issue 20, item 2: one MQTT message larger than max_packet_bytes must not stall a persistent
session. With clean_session: false and QoS 1 (the demo's settings) a 20 MB message is
published, then a small one on another topic. The connector used to drop the connection
without acknowledging, so mosquitto redelivered the big one on every reconnect and the small
one never arrived. Now: the small one is written within seconds, the connector made one
connection, the big one is counted (uc_mqtt_oversized_messages_total) and acknowledged, so a
restart with the same session does not see it again. An undecodable message is put in the DLQ
with its topic and reason, acknowledged, and does not hold up the next one either."""
import json
import os
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
import mosquitto  # noqa: E402

BINARY = os.environ["UC_BINARY"]
CLIENT_ID = "uc-oversized-test"
BIG = 20 * 1024 * 1024

CONFIG = """
connector: {{name: mqtt-oversized, log_level: info, data_dir: "{data}"}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {api}}}
sinks:
  file: {{enabled: true, directory: "{records}", batch: {{max_records: 50, max_bytes: 1048576, linger_ms: 10}}}}
backpressure:
  drop_policy: block
  disk_spool: {{enabled: false}}
sources:
  - name: m
    protocol: mqtt
    endpoint: mqtt://127.0.0.1:{port}
    client_id: {client_id}
    clean_session: false
    qos: 1
    topics: ["big/#", "small/#"]
"""


def metrics(api):
    _, _, body = harness.http_get(api, "/metrics")
    return body.decode()


def metric(api, name):
    m = re.search(r'^%s\{source="m"\} (\S+)$' % name, metrics(api), re.M)
    return float(m.group(1)) if m else 0.0


def connected(api):
    return 'uc_source_state{source="m",state="connected"} 1' in metrics(api)


def values(records_dir):
    out = []
    for root, _, files in os.walk(records_dir):
        for name in sorted(files):
            if name.endswith(".jsonl"):
                with open(os.path.join(root, name)) as f:
                    out += [json.loads(line)["value_num"] for line in f if line.strip()]
    return out


def connections(broker):
    return len(re.findall(r"New client connected .* as %s " % CLIENT_ID, broker.log()))


class Oversized(unittest.TestCase):
    def test_a_message_over_max_packet_bytes_is_skipped_and_the_next_one_delivered(self):
        with mosquitto.Broker() as broker:
            work = harness.Workdir("uc_mqtt_oversized_")
            api = harness.free_port()
            records_dir = os.path.join(work.path, "records")
            cfg = work.write("config.yaml", CONFIG.format(data=os.path.join(work.path, "data"), records=records_dir,
                                                          api=api, port=broker.port, client_id=CLIENT_ID))
            proc = harness.start(BINARY, "run", "--config", cfg, cwd=work.path)
            try:
                harness.wait_for(lambda: connected(api), 20, "connect (creates the persistent session)")
                self.assertEqual(connections(broker), 1, broker.log())
                broker.pub("big/blob", b"x" * BIG, qos=1)
                broker.pub("small/x", json.dumps({"value": 7}), qos=1)
                published = time.monotonic()
                harness.wait_for(lambda: 7 in values(records_dir), 10, "the small message behind the big one")
                self.assertLess(time.monotonic() - published, 5.0)
                harness.wait_for(lambda: metric(api, "uc_mqtt_oversized_messages_total") == 1, 5,
                                 "the big message counted")
                time.sleep(1)  # a reconnect loop would show within a second (it ran at ~10/s)
                self.assertLessEqual(connections(broker), 2, broker.log())
                self.assertEqual(metric(api, "uc_reconnections_total"), 0)
                self.assertEqual(metric(api, "uc_mqtt_oversized_messages_total"), 1)

                # A message that cannot be decoded goes to the DLQ with its topic and reason and is
                # acknowledged; the next one is delivered.
                broker.pub("small/bad", "{not json", qos=1)
                broker.pub("small/x", json.dumps({"value": 9}), qos=1)
                harness.wait_for(lambda: 9 in values(records_dir), 10, "the message behind the undecodable one")
                _, _, body = harness.http_get(api, "/api/dlq")
                target = json.loads(body)["targets"][0]
                self.assertEqual(target["messages"], 1, target)
                entry = target["entries"][0]
                self.assertEqual(entry["record"]["address"], "small/bad")
                self.assertIn("JSON", entry["reason"])
            finally:
                proc.send_signal(signal.SIGTERM)
                _, err = proc.communicate(timeout=60)
            log = err
            self.assertEqual(log.count("skipped a message of %d bytes on big/blob" % (BIG + len("big/blob") + 4)), 1, log)

            # It was acknowledged: the same persistent session does not get it again.
            proc = harness.start(BINARY, "run", "--config", cfg, cwd=work.path)
            try:
                harness.wait_for(lambda: connected(api), 20, "reconnect with the same session")
                broker.pub("small/x", json.dumps({"value": 8}), qos=1)
                harness.wait_for(lambda: 8 in values(records_dir), 10, "the marker")
                self.assertEqual(metric(api, "uc_mqtt_oversized_messages_total"), 0)
                self.assertEqual(metric(api, "uc_source_errors_total"), 0)  # the bad one was acknowledged too
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.communicate(timeout=60)


if __name__ == "__main__":
    unittest.main()

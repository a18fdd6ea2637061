"""Issue 4 proof of the durable ack: QoS 1 messages are PUBACKed only when their records
are durable. With the file sink down (a file where its directory should be, no spool),
kill -9 the connector; on restart with the same persistent session (clean_session: false)
mosquitto redelivers every unacknowledged message and nothing is missing. Then the
converse: once delivered, messages are acknowledged and not redelivered again."""
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
N = 300

CONFIG = """
connector: {{name: mqtt-durable, log_level: info, data_dir: "{data}"}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {api}}}
sinks:
  file: {{enabled: true, directory: "{records}", batch: {{max_records: 50, max_bytes: 1048576, linger_ms: 10}}}}
backpressure:
  max_queue_size: 100000
  drop_policy: block
  disk_spool: {spool}
  retry: {{initial_ms: 20, max_ms: 200}}
  circuit_breaker: {{failure_threshold: 100000, open_s: 1}}
sources:
  - name: m
    protocol: mqtt
    endpoint: mqtt://127.0.0.1:{port}
    client_id: uc-durable-test
    clean_session: false
    qos: 1
    topics: ["seq/#"]
"""


def metric(api, name):
    _, _, body = harness.http_get(api, "/metrics")
    m = re.search(r'^%s\{source="m"\} (\S+)$' % name, body.decode(), re.M)
    return float(m.group(1)) if m else 0.0


def connected(api):
    _, _, body = harness.http_get(api, "/metrics")
    return 'uc_source_state{source="m",state="connected"} 1' in body.decode()


def values(records_dir):
    out = []
    if not os.path.isdir(records_dir):
        return out
    for root, _, files in os.walk(records_dir):
        for name in sorted(files):
            if name.endswith(".jsonl"):
                with open(os.path.join(root, name)) as f:
                    out += [int(json.loads(line)["value_num"]) for line in f if line.strip()]
    return out


class DurableAck(unittest.TestCase):
    def test_kill9_with_sink_down_loses_nothing(self):
        with mosquitto.Broker() as broker:
            work = harness.Workdir("uc_mqtt_durable_")
            api = harness.free_port()
            records_dir = os.path.join(work.path, "records")
            cfg = work.write("config.yaml", CONFIG.format(data=os.path.join(work.path, "data"), records=records_dir,
                                                          api=api, port=broker.port, spool="{enabled: false}"))
            with open(records_dir, "w") as f:  # the sink is down: its directory is a file
                f.write("sink down")

            proc = harness.start(BINARY, "run", "--config", cfg, cwd=work.path)
            try:
                harness.wait_for(lambda: connected(api), 20, "connect (creates the persistent session)")
                broker.pub_many("seq/a", [json.dumps({"value": i}) for i in range(N)], qos=1)
                # mosquitto sends up to 20 unacknowledged messages, then queues the rest for the session
                harness.wait_for(lambda: metric(api, "uc_records_received_total") >= 20, 20, "in-flight messages")
                self.assertEqual(values(records_dir), [])
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.communicate(timeout=30)

            os.remove(records_dir)  # the sink comes back
            proc = harness.start(BINARY, "run", "--config", cfg, cwd=work.path)
            try:
                harness.wait_for(lambda: set(values(records_dir)) >= set(range(N)), 60,
                                 "every message redelivered and written")
                got = values(records_dir)
                self.assertEqual(sorted(set(got)), list(range(N)))
                first_run = len(got)
                # acknowledged now: a marker after a kill -9 arrives alone, nothing old comes back
                harness.wait_for(lambda: metric(api, "uc_records_received_total") >= N, 20, "all received")
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.communicate(timeout=30)

            proc = harness.start(BINARY, "run", "--config", cfg, cwd=work.path)
            try:
                harness.wait_for(lambda: connected(api), 20, "reconnect")
                broker.pub("seq/a", json.dumps({"value": N}), qos=1)
                harness.wait_for(lambda: N in values(records_dir), 20, "the marker")
                got = values(records_dir)
                # at most the last unacknowledged batch could repeat; the old messages did not
                self.assertLessEqual(len(got) - first_run - 1, 20, "old messages were redelivered: acks not sent")
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.communicate(timeout=60)

    def test_with_the_spool_messages_are_acked_once_spooled(self):
        """With a spool the batch is durable when spooled: the broker gets its PUBACKs while the
        sink is still down (else it would stop at 20 in flight), and after kill -9 the spool,
        not the broker, delivers them."""
        with mosquitto.Broker() as broker:
            work = harness.Workdir("uc_mqtt_durable_spool_")
            api = harness.free_port()
            records_dir = os.path.join(work.path, "records")
            spool = "{enabled: true, directory: \"%s\", fsync: batch}" % os.path.join(work.path, "spool")
            cfg = work.write("config.yaml", CONFIG.format(data=os.path.join(work.path, "data"), records=records_dir,
                                                          api=api, port=broker.port, spool=spool))
            with open(records_dir, "w") as f:
                f.write("sink down")

            def spooled():
                _, _, body = harness.http_get(api, "/api/status")
                return json.loads(body)["targets"][0]["records_spooled"]

            proc = harness.start(BINARY, "run", "--config", cfg, cwd=work.path)
            try:
                harness.wait_for(lambda: connected(api), 20, "connect")
                broker.pub_many("seq/b", [json.dumps({"value": i}) for i in range(N)], qos=1)
                harness.wait_for(lambda: spooled() >= N, 30, "all messages spooled while the sink is down")
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.communicate(timeout=30)

            os.remove(records_dir)
            proc = harness.start(BINARY, "run", "--config", cfg, cwd=work.path)
            try:
                harness.wait_for(lambda: set(values(records_dir)) >= set(range(N)), 60, "the spool delivers everything")
                # the broker had its acks: at most a last unacknowledged handful comes again
                self.assertLessEqual(metric(api, "uc_records_received_total"), 20)
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.communicate(timeout=60)


if __name__ == "__main__":
    unittest.main()

"""MQTT source against a real Debian mosquitto on loopback: JSON and text payloads through
topic rules into the file sink; MQTT 3.1.1 and 5; username/password; bad input counted,
never a crash; reconnect after the broker restarts."""
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
import mosquitto  # noqa: E402

BINARY = os.environ["UC_BINARY"]

CONFIG = """
connector: {{name: mqtt-test, log_level: info, data_dir: "{data}"}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {api}}}
normalization:
  rules:
    - {{protocol: mqtt, topic: "factory/(?P<line>[^/]+)/(?P<equipment>[^/]+)/(?P<tag_name>[^#]+)"}}
sinks:
  file: {{enabled: true, directory: "{records}", batch: {{max_records: 100, max_bytes: 1048576, linger_ms: 10}}}}
sources:
  - name: m
    protocol: mqtt
    endpoint: mqtt://127.0.0.1:{port}
    qos: {qos}
    mqtt_version: "{version}"
    topics: ["factory/#", "plain/+/value"]
    json: {{value_field: v, timestamp_field: ts, quality_field: q}}
{extra}
"""


def records(work):
    d = os.path.join(work.path, "records")
    out = []
    for root, _, files in os.walk(d):
        for name in sorted(files):
            if name.endswith(".jsonl"):
                with open(os.path.join(root, name)) as f:
                    out += [json.loads(line) for line in f if line.strip()]
    return out


def metric(api, name, source="m"):
    _, _, body = harness.http_get(api, "/metrics")
    m = re.search(r'^%s\{source="%s"\} (\S+)$' % (name, source), body.decode(), re.M)
    return float(m.group(1)) if m else 0.0


class MqttJson(unittest.TestCase):
    def run_connector(self, broker, version="3.1.1", qos=1, extra="", port=None):
        work = harness.Workdir("uc_mqtt_")
        api = harness.free_port()
        cfg = work.write("config.yaml", CONFIG.format(
            data=os.path.join(work.path, "data"), records=os.path.join(work.path, "records"), api=api,
            port=port or broker.port, qos=qos, version=version, extra=extra))
        proc = harness.start(BINARY, "run", "--config", cfg, cwd=work.path)
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.communicate(timeout=30)))
        harness.wait_for(lambda: metric(api, "uc_source_state", "m") is not None and self.connected(api), 20,
                         "the MQTT source to connect")
        return work, api, proc

    def connected(self, api):
        _, _, body = harness.http_get(api, "/metrics")
        return 'uc_source_state{source="m",state="connected"} 1' in body.decode()

    def check_values(self, work):
        recs = harness.wait_for(lambda: (lambda r: r if len(r) >= 5 else None)(records(work)), 20, "5 records")
        by = {(r["line"], r["equipment"], r["tag_name"]): r for r in recs}
        temp = by[("l1", "press", "temp")]
        self.assertEqual(temp["value_num"], 21.5)
        self.assertEqual(temp["event_time"], 1700000000123000)
        self.assertEqual(temp["quality"], "good")
        self.assertEqual(temp["protocol"], "mqtt")
        self.assertEqual(temp["address"], "factory/l1/press/temp")
        bad = by[("l1", "press", "pressure")]
        self.assertEqual(bad["quality"], "bad")
        self.assertEqual(by[("l2", "oven", "mode")]["value_str"], "RUNNING")
        arr = [r for r in recs if r["address"].startswith("factory/l2/pump/multi#")]
        self.assertEqual(sorted((r["address"].split("#")[1], r["value_num"]) for r in arr),
                         [("flow", 3.5), ("rpm", 1450.0)])
        return recs

    def publish_set(self, broker, port=None, extra=()):
        p = lambda t, m: broker.pub(t, m, port=port, extra=extra)  # noqa: E731
        p("factory/l1/press/temp", '{"v": 21.5, "ts": 1700000000123}')
        p("factory/l1/press/pressure", '{"v": 2.5, "q": "bad"}')
        p("factory/l2/oven/mode", "RUNNING")
        p("factory/l2/pump/multi", '[{"name": "flow", "v": 3.5}, {"name": "rpm", "v": 1450}]')

    def test_json_and_text_v311_and_bad_input(self):
        with mosquitto.Broker() as broker:
            work, api, proc = self.run_connector(broker)
            # bad input first: counted, logged, the connection and the process survive
            broker.pub("factory/l9/x/y", "{not json")
            broker.pub("factory/l9/x/z", b'{"v": "\xff\xfe"}')
            broker.pub("factory/l9/x/w", "[" * 5000)
            harness.wait_for(lambda: metric(api, "uc_source_errors_total") >= 3, 20, "3 decode errors counted")
            self.publish_set(broker)
            self.check_values(work)
            self.assertIsNone(proc.poll())
            self.assertTrue(self.connected(api))

    def test_mqtt5_qos2_with_password(self):
        with mosquitto.Broker(auth=True) as broker:
            extra = "    username: uc\n    password: s3cret\n"
            work, api, _ = self.run_connector(broker, version="5", qos=2, extra=extra, port=broker.auth_port)
            self.publish_set(broker, port=broker.auth_port, extra=("-u", "uc", "-P", "s3cret", "-V", "5", "-q", "2"))
            self.check_values(work)

    def test_tls_with_client_certificate(self):
        with mosquitto.Broker(tls=True) as broker:
            pki = broker.pki
            extra = (f"    tls: {{ca_file: \"{pki['ca']}\", cert_file: \"{pki['client_cert']}\", "
                     f"key_file: \"{pki['client_key']}\"}}\n")
            work = harness.Workdir("uc_mqtt_tls_")
            api = harness.free_port()
            cfg = work.write("config.yaml", CONFIG.format(
                data=os.path.join(work.path, "data"), records=os.path.join(work.path, "records"), api=api,
                port=broker.tls_port, qos=1, version="5", extra=extra).replace("mqtt://", "mqtts://"))
            proc = harness.start(BINARY, "run", "--config", cfg, cwd=work.path)
            self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.communicate(timeout=30)))
            harness.wait_for(lambda: self.connected(api), 20, "a TLS connection")
            tls_args = ("--cafile", pki["ca"], "--cert", pki["client_cert"], "--key", pki["client_key"])
            self.publish_set(broker, port=broker.tls_port, extra=tls_args)
            self.check_values(work)

    def test_tls_rejects_a_server_the_ca_did_not_sign(self):
        with mosquitto.Broker(tls=True) as broker:
            other = mosquitto.make_pki(os.path.join(broker.dir, "other"))
            extra = f"    tls: {{ca_file: \"{other['ca']}\"}}\n"
            work = harness.Workdir("uc_mqtt_tls_")
            api = harness.free_port()
            cfg = work.write("config.yaml", CONFIG.format(
                data=os.path.join(work.path, "data"), records=os.path.join(work.path, "records"), api=api,
                port=broker.tls_port, qos=1, version="3.1.1", extra=extra).replace("mqtt://", "mqtts://"))
            proc = harness.start(BINARY, "run", "--config", cfg, cwd=work.path)
            try:
                def refused():
                    _, _, body = harness.http_get(api, "/api/status")
                    return "certificate verify failed" in body.decode()
                harness.wait_for(refused, 20, "the handshake to fail on verification")
            finally:
                proc.kill()
                proc.communicate(timeout=30)

    def test_wrong_password_is_reported_and_retried(self):
        with mosquitto.Broker(auth=True) as broker:
            work = harness.Workdir("uc_mqtt_")
            api = harness.free_port()
            cfg = work.write("config.yaml", CONFIG.format(
                data=os.path.join(work.path, "data"), records=os.path.join(work.path, "records"), api=api,
                port=broker.auth_port, qos=1, version="3.1.1", extra="    username: uc\n    password: wrong\n"))
            proc = harness.start(BINARY, "run", "--config", cfg, cwd=work.path)
            try:
                harness.wait_for(lambda: metric(api, "uc_source_errors_total") >= 2, 20, "refused connects counted")
                _, _, body = harness.http_get(api, "/api/status")
                self.assertRegex(body.decode(), "broker refused the connection: (bad user name or password|not authorized)")
            finally:
                proc.kill()
                proc.communicate(timeout=30)

    def test_reconnects_and_resubscribes_after_broker_restart(self):
        broker = mosquitto.Broker()
        try:
            work, api, _ = self.run_connector(broker)
            broker.pub("factory/l1/press/temp", '{"v": 1}')
            harness.wait_for(lambda: records(work), 20, "first record")
            broker.stop()
            harness.wait_for(lambda: not self.connected(api), 20, "the source to notice")
            broker = mosquitto.Broker(port=broker.port)  # a new broker process, empty session store
            harness.wait_for(lambda: self.connected(api), 30, "reconnect")
            broker.pub("factory/l1/press/temp", '{"v": 2}')
            harness.wait_for(lambda: any(r["value_num"] == 2.0 for r in records(work)), 20, "record after reconnect")
            self.assertGreaterEqual(metric(api, "uc_reconnections_total"), 1)
        finally:
            broker.stop()


if __name__ == "__main__":
    unittest.main()

"""Issue 14: the Zerobus control routes and the source test routes against the real binary
and the local Zerobus test server.

Zerobus: GET /api/zerobus/config masks the client secret; POST /api/zerobus/stop holds the
records in the spool (the server receives nothing more) and /api/status and the diagnostics
say "stopped"; POST /api/zerobus/start delivers every record, none lost. POST
/api/zerobus/config stores the secret in the credential store and the managed file refers
to it; after a restart the connector delivers with the stored secret and GET shows the
change. The secret appears in no response, log line, or file but the encrypted store.
Malformed, wrong-type, unknown-key, env-reference, oversized bodies are refused.

Sources: POST /api/sources/{name}/test reads a stopped source without starting it or
delivering anything; POST /api/sources/test checks a body first; a refused connection is a
502 with the error, a silent server a 504."""
import json
import os
import signal
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "zerobus"))
import zerobus_lib as zl  # noqa: E402
from zerobus_lib import harness  # noqa: E402

BINARY = os.environ["UC_BINARY"]
TICKS = 400
SOURCES = f"""  - name: gen
    protocol: synthetic
    interval_ms: 10
    max_ticks: {TICKS}
    tags: [{{name: t1, generator: ramp}}]
  - name: idle
    protocol: synthetic
    enabled: false
    interval_ms: 5
    tags: [{{name: i1, generator: ramp}}]
"""
TABLE = "main.plant.ot_bronze"
FILE_SECRET = "test-secret"
NEW_SECRET = "N3w-Secret-Value-for-Zerobus-7f1c"
PASSWORD = "api-zerobus-test-password"


def seqs(server, source):
    return {int(r["metadata"]["seq"]) for r in server.records(TABLE) if r["source_name"] == source}


class ApiZerobus(unittest.TestCase):
    def setUp(self):
        self.wd = harness.Workdir("uc_api_zb_")
        self.data = os.path.join(self.wd.path, "data")
        self.server = zl.TestServer(os.path.join(self.wd.path, "server"))
        self.api = harness.free_port()
        self.cfg = self.wd.write("config.yaml", zl.zerobus_config(
            self.data, self.api, self.server, record_format="json", sources=SOURCES, source_targets="    {}",
            extra=f"credentials: {{store: {self.data}/creds.enc}}\n"))
        self.env = dict(os.environ, CONNECTOR_MASTER_PASSWORD=PASSWORD)
        self.logs = []
        self.proc = None

    def tearDown(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.server.stop()

    def start(self):
        log = os.path.join(self.wd.path, f"connector{len(self.logs)}.log")
        self.logs.append(log)
        with open(log, "w") as f:
            self.proc = subprocess.Popen([os.path.abspath(BINARY), "run", "--config", self.cfg], cwd=self.wd.path,
                                         stdout=f, stderr=f, env=self.env)
        harness.wait_for(lambda: self.call("GET", "/health")[0] == 200, 30, "the API")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=60), 0)

    def call(self, method, path, body=None, raw=None):
        try:
            return harness.api_call(self.api, method, path, body=body, raw=raw)
        except (ConnectionError, OSError):
            return 0, None

    def test_config_delivery_and_secret(self):
        self.start()
        status, cfg = self.call("GET", "/api/zerobus/config")
        self.assertEqual(status, 200)
        self.assertEqual(cfg["config"]["auth"], {"client_id": "test-client", "client_secret": "***"})
        self.assertTrue(cfg["client_secret_set"])
        self.assertEqual(cfg["delivery"], "running")
        self.assertFalse(cfg["restart_required"])

        self.check_stop_and_start()
        self.check_bad_bodies()
        self.check_source_tests()

        status, r = self.call("POST", "/api/zerobus/config",
                              {"ack_timeout_ms": 2000, "auth": {"client_secret": NEW_SECRET}})
        self.assertEqual(status, 200, r)
        self.assertTrue(r["saved"] and r["credential_stored"] and r["restart_required"])
        self.assertEqual(r["config"]["auth"]["client_secret"], "***")
        self.assertEqual(r["config"]["ack_timeout_ms"], 2000)
        status, cfg = self.call("GET", "/api/zerobus/config")
        self.assertEqual(cfg["config"]["ack_timeout_ms"], 2000)
        self.assertTrue(cfg["restart_required"])
        self.stop()

        with open(os.path.join(self.wd.path, "config.api.yaml")) as f:
            managed = f.read()
        self.assertIn("${credential:zerobus.client_secret}", managed)
        for secret in (NEW_SECRET, FILE_SECRET):
            self.assertNotIn(secret, managed)
        with open(os.path.join(self.data, "creds.enc")) as f:
            self.assertNotIn(NEW_SECRET, f.read())
        validate = subprocess.run([BINARY, "validate", "--config", self.cfg], env=self.env, capture_output=True,
                                  text=True, timeout=60)
        self.assertEqual(validate.returncode, 0, validate.stderr)

        # After a restart the section from the managed file runs, with the stored secret.
        self.server.stop()
        self.server = zl.TestServer(os.path.join(self.wd.path, "server"), "--client-secret", NEW_SECRET,
                                    grpc_port=self.server.grpc_port, http_port=self.server.http_port)
        self.start()
        status, cfg = self.call("GET", "/api/zerobus/config")
        self.assertEqual(cfg["config"]["ack_timeout_ms"], 2000)
        self.assertFalse(cfg["restart_required"])
        sent = len(self.server.records(TABLE))
        harness.wait_for(lambda: len(self.server.records(TABLE)) > sent, 30, "records sent with the stored secret")
        self.stop()
        for log in self.logs:
            with open(log) as f:
                text = f.read()
            self.assertNotIn(NEW_SECRET, text)
            self.assertNotIn(FILE_SECRET, text)

    def check_stop_and_start(self):
        harness.wait_for(lambda: len(seqs(self.server, "gen")) > 20, 30, "first records at the server")
        status, r = self.call("POST", "/api/zerobus/stop")
        self.assertEqual((status, r["delivery"], r["targets"]), (200, "stopped", [TABLE]))
        st = self.call("GET", "/api/status")[1]
        self.assertEqual(st["zerobus"]["delivery"], "stopped")
        self.assertEqual([t["delivery"] for t in st["targets"]], ["paused"])
        self.assertEqual(self.call("GET", "/api/zerobus/diagnostics")[1]["delivery"], "stopped")
        harness.wait_for(lambda: self.call("GET", "/api/status")[1]["targets"][0]["spool"]["unacked_records"] > 20, 30,
                         "records held in the spool")
        held = len(seqs(self.server, "gen"))
        harness.wait_for(lambda: self.call("GET", "/api/status")[1]["targets"][0]["spool"]["unacked_records"] > 60, 30,
                         "more records held in the spool")
        self.assertEqual(len(seqs(self.server, "gen")), held, "records reached Zerobus while delivery was stopped")
        self.assertEqual(self.call("GET", "/api/zerobus/config")[1]["delivery"], "stopped")
        status, r = self.call("POST", "/api/zerobus/start")
        self.assertEqual((status, r["delivery"]), (200, "running"))
        harness.wait_for(lambda: len(seqs(self.server, "gen")) == TICKS, 60, "every record after the start")
        self.assertEqual(self.call("GET", "/api/status")[1]["zerobus"]["delivery"], "running")

    def check_bad_bodies(self):
        def refused(body=None, raw=None, status=400):
            code, r = self.call("POST", "/api/zerobus/config", body=body, raw=raw)
            self.assertEqual(code, status, r)
            return r["error"]
        self.assertEqual(refused(raw=b"{")["code"], "malformed_json")
        self.assertEqual(refused(raw=b"[1, 2]")["code"], "malformed_json")
        self.assertEqual(refused(raw=b"")["code"], "malformed_json")
        e = refused({"ack_timeout_ms": "soon"})
        self.assertEqual(e["code"], "invalid_config")
        self.assertEqual(e["details"]["errors"][0]["pointer"], "/ack_timeout_ms")
        e = refused({"endpoit": "x"})
        self.assertEqual(e["details"]["errors"][0]["pointer"], "/endpoit")
        e = refused({"auth": {"client_secret": 42}})
        self.assertEqual(e["details"]["errors"][0]["pointer"], "/auth/client_secret")
        e = refused({"workspace_host": "${env:HOME}"})
        self.assertEqual(e["details"]["errors"][0]["pointer"], "/workspace_host")
        e = refused({"auth": {"client_secret": "x" * 70000}})
        self.assertEqual(e["details"]["errors"][0]["pointer"], "/auth/client_secret")
        refused(raw=json.dumps({"endpoint": "x" * (2 << 20)}).encode(), status=413)
        # Nothing was saved by a refused body.
        self.assertFalse(os.path.exists(os.path.join(self.wd.path, "config.api.yaml")))

    def check_source_tests(self):
        before = self.call("GET", "/api/sources/idle")[1]
        status, r = self.call("POST", "/api/sources/idle/test?max_records=5&timeout_ms=5000")
        self.assertEqual(status, 200, r)
        self.assertEqual((r["count"], r["complete"], r["source"]), (5, True, "idle"))
        self.assertEqual({x["tag_name"] for x in r["records"]}, {"i1"})
        self.assertEqual({x["source_name"] for x in r["records"]}, {"idle"})
        after = self.call("GET", "/api/sources/idle")[1]
        self.assertEqual(after["state"], "disabled")
        self.assertEqual(after["counters"], before["counters"])
        self.assertEqual(seqs(self.server, "idle"), set(), "a test delivered to Zerobus")
        self.assertEqual(self.call("POST", "/api/sources/nope/test")[0], 404)
        self.assertEqual(self.call("POST", "/api/sources/idle/test?max_records=0")[0], 400)
        self.assertEqual(self.call("POST", "/api/sources/idle/test?timeout_ms=60000")[0], 400)

        status, r = self.call("POST", "/api/sources/test?max_records=3",
                              {"name": "trial", "protocol": "synthetic", "interval_ms": 5,
                               "tags": [{"name": "x", "generator": "ramp"}]})
        self.assertEqual((status, r["count"]), (200, 3), r)
        self.assertEqual(self.call("GET", "/api/sources/trial")[0], 404)
        status, r = self.call("POST", "/api/sources/test", {"name": "trial", "protocol": "synthetic",
                                                             "interval_ms": "fast", "tags": [{"name": "x"}]})
        self.assertEqual(status, 400, r)
        self.assertEqual(r["error"]["details"]["errors"][0]["pointer"], "/interval_ms")

        closed = harness.free_port()
        status, r = self.call("POST", "/api/sources/test?timeout_ms=3000",
                              {"name": "mq", "protocol": "mqtt", "endpoint": f"mqtt://127.0.0.1:{closed}",
                               "topics": ["#"]})
        self.assertEqual(status, 502, r)
        self.assertEqual(r["error"]["code"], "source_error")
        self.assertTrue(r["error"]["details"]["last_error"], r)
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(4)
            port = silent.getsockname()[1]
            status, r = self.call("POST", "/api/sources/test?timeout_ms=500",
                                  {"name": "mq", "protocol": "mqtt", "endpoint": f"mqtt://127.0.0.1:{port}",
                                   "topics": ["#"]})
        self.assertEqual(status, 504, r)
        self.assertEqual(r["error"]["code"], "timeout")
        self.assertEqual(r["error"]["details"]["config"]["endpoint"], f"mqtt://127.0.0.1:{port}")


if __name__ == "__main__":
    unittest.main()

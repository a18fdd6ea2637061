"""The Zerobus sink over TLS (tls: true) against the local test server serving gRPC with a
certificate for 127.0.0.1 from a CA the test makes with openssl. The sink verifies the
server against the CA bundle — the system's, or $SSL_CERT_FILE when set:
- with SSL_CERT_FILE naming the test CA, every record arrives;
- with the system roots (which do not hold the test CA), nothing is sent, the handshake
  failure is reported in /api/status, and no record is dead-lettered."""
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "zerobus"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import zerobus_lib as zl  # noqa: E402
from zerobus_lib import harness  # noqa: E402
from mosquitto import make_pki  # noqa: E402  (the openssl CA/certificate helper)

BINARY = os.environ["UC_BINARY"]
TICKS = 40
SOURCES = f"""  - name: gen
    protocol: synthetic
    interval_ms: 5
    max_ticks: {TICKS}
    tags: [{{name: t1, generator: ramp}}]
"""
TABLE = "main.plant.ot_bronze"


class ZerobusTls(unittest.TestCase):
    def run_connector(self, wd, name, server, ca_file):
        data = os.path.join(wd.path, name)
        api = harness.free_port()
        cfg = wd.write(f"{name}.yaml", zl.zerobus_config(data, api, server, sources=SOURCES, source_targets="    {}",
                                                          tls=True))
        env = dict(os.environ, SSL_CERT_FILE=ca_file) if ca_file else {
            k: v for k, v in os.environ.items() if k != "SSL_CERT_FILE"}
        with open(os.path.join(wd.path, f"{name}.log"), "w") as log:
            proc = subprocess.Popen([BINARY, "run", "--config", cfg], cwd=wd.path, stdout=log,
                                    stderr=log, env=env)
        return proc, api

    def test_tls_with_the_given_ca_and_a_clear_failure_without_it(self):
        wd = harness.Workdir("uc_zb_tls_")
        pki = make_pki(os.path.join(wd.path, "pki"))
        server = zl.TestServer(os.path.join(wd.path, "server"), "--tls-cert", pki["server_cert"], "--tls-key",
                               pki["server_key"])
        try:
            # Without the test CA: the handshake fails, the records wait in the spool.
            proc, api = self.run_connector(wd, "untrusted", server, None)
            try:
                def failed():
                    t = zl.get_json(api, "/api/status")["zerobus"]["targets"][0]
                    return t["last_error"] and t
                t = harness.wait_for(failed, 60, "the TLS failure in /api/status")
                self.assertEqual(server.records(TABLE), [])
                self.assertEqual(zl.get_json(api, "/api/dlq")["targets"][0]["messages"], 0)
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
            print("untrusted:", t["last_error"])

            # With SSL_CERT_FILE naming the test CA: every record over TLS.
            proc, api = self.run_connector(wd, "trusted", server, pki["ca"])
            try:
                harness.wait_for(lambda: len({r["metadata"]["seq"] for r in server.records(TABLE)}) == TICKS, 60,
                                 "every record over TLS")
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
            self.assertEqual(proc.returncode, 0)
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()

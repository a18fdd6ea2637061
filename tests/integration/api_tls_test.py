"""Issue 14: the API over TLS (web_ui.tls) with a test CA made by openssl. A client that
trusts the CA gets every route (and the bearer token works over TLS); one that does not
trust it fails verification; plain HTTP on the TLS port, a TLS 1.1 client and a stalled
handshake are refused without disturbing the server; unusable certificate files stop the
connector at start with a message naming the file."""
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from mosquitto import make_pki  # noqa: E402  (the openssl CA/certificate helper)

BINARY = os.environ["UC_BINARY"]
TOKEN = "tls-test-token-0123456789"

CONFIG = """
connector: {{name: api-tls, data_dir: {data}}}
web_ui:
  enabled: true
  host: 127.0.0.1
  port: {port}
  auth_token: {token}
  tls: {{enabled: true, cert_file: {cert}, key_file: {key}}}
sources:
  - {{name: s, protocol: synthetic, equipment: e1, interval_ms: 50, tags: [{{name: n, generator: counter}}]}}
sinks:
  stdout: {{enabled: false}}
  file: {{enabled: true, directory: {data}/records, rotate_s: 0}}
"""


def https(port, ca, path, token=TOKEN, method="GET"):
    ctx = ssl.create_default_context(cafile=ca)
    conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=10)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    conn.request(method, path, headers=headers)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, json.loads(body) if body else None


class ApiTls(unittest.TestCase):
    def test_https_with_a_test_ca(self):
        wd = harness.Workdir("uc_api_tls_")
        pki = make_pki(os.path.join(wd.path, "pki"))
        other = make_pki(os.path.join(wd.path, "other"))
        port = harness.free_port()
        data = os.path.join(wd.path, "data")
        cfg = wd.write("config.yaml", CONFIG.format(data=data, port=port, token=TOKEN, cert=pki["server_cert"],
                                                    key=pki["server_key"]))
        proc = harness.start(BINARY, "run", "--config", cfg, cwd=wd.path)
        try:
            harness.wait_for(lambda: https(port, pki["ca"], "/health", token=None)[0] == 200, 30, "HTTPS /health")
            code, body = https(port, pki["ca"], "/api/sources")
            self.assertEqual(code, 200)
            self.assertEqual([s["name"] for s in body["sources"]], ["s"])
            self.assertEqual(https(port, pki["ca"], "/api/status", token=None)[0], 401)
            self.assertEqual(https(port, pki["ca"], "/api/status", token="wrong-token-0123456")[0], 401)

            # A client that does not trust our CA refuses the certificate.
            with self.assertRaises(ssl.SSLCertVerificationError):
                https(port, other["ca"], "/health", token=None)

            # Plain HTTP on the TLS port: no answer in HTTP, the connection is closed.
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                reply = s.recv(4096)
                self.assertFalse(reply.startswith(b"HTTP/"), reply[:100])

            # TLS 1.1 is refused.
            old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            old.load_verify_locations(pki["ca"])
            old.minimum_version = ssl.TLSVersion.TLSv1
            old.maximum_version = ssl.TLSVersion.TLSv1_1
            with self.assertRaises(ssl.SSLError):
                with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                    with old.wrap_socket(raw, server_hostname="localhost"):
                        pass

            # A handshake that never starts does not hold anything up.
            stalled = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(20)]
            t0 = time.monotonic()
            self.assertEqual(https(port, pki["ca"], "/health", token=None)[0], 200)
            print(f"/health over TLS with 20 stalled handshakes: {1000 * (time.monotonic() - t0):.1f} ms", flush=True)
            for s in stalled:
                s.close()
        finally:
            harness.stop_process(proc)
        self.assertEqual(proc.returncode, 0, proc.stderr.read()[-2000:])

        # Unusable files: the connector does not start and names the file.
        bad = wd.write("bad.yaml", CONFIG.format(data=data, port=port, token=TOKEN, cert=pki["server_cert"],
                                                 key=other["server_key"]))
        r = subprocess.run([BINARY, "run", "--config", bad], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("does not match the certificate", r.stdout + r.stderr)
        missing = wd.write("missing.yaml", CONFIG.format(data=data, port=port, token=TOKEN,
                                                         cert=os.path.join(wd.path, "nope.crt"), key=pki["server_key"]))
        r = subprocess.run([BINARY, "run", "--config", missing], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nope.crt", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()

"""A private Debian mosquitto broker per test, on loopback.

Broker(tls=True, auth=True) writes a config into a temp dir and starts /usr/sbin/mosquitto:
- a plain listener (anonymous) on `port`;
- with auth=True, a second plain listener `auth_port` that needs user/password
  (password file made with mosquitto_passwd);
- with tls=True, a TLS listener `tls_port` that needs a client certificate signed by a CA
  the fixture makes with openssl (files: ca, server_cert/key, client_cert/key).
Nothing is persisted to disk; sessions live as long as the broker process.
"""
import getpass
import os
import shutil
import socket
import subprocess
import tempfile

import harness

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki(directory):
    """CA, server cert for 127.0.0.1/localhost, client cert; returns a dict of paths."""
    os.makedirs(directory, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=uc-test-ca",
             "-keyout", "ca.key", "-out", "ca.crt", cwd=directory)
    with open(os.path.join(directory, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, cn in (("server", "localhost"), ("client", "uc-client")):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}", "-keyout", f"{name}.key",
                 "-out", f"{name}.csr", cwd=directory)
        extra = ["-extfile", "server.ext"] if name == "server" else []
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-days", "2", "-out", f"{name}.crt", *extra, cwd=directory)
    p = lambda n: os.path.join(directory, n)  # noqa: E731
    return {"ca": p("ca.crt"), "server_cert": p("server.crt"), "server_key": p("server.key"),
            "client_cert": p("client.crt"), "client_key": p("client.key")}


class Broker:
    def __init__(self, tls=False, auth=False, user="uc", password="s3cret", port=None):
        self.dir = tempfile.mkdtemp(prefix="uc_mosq_")
        self.port = port or harness.free_port()
        self.auth_port = harness.free_port() if auth else None
        self.tls_port = harness.free_port() if tls else None
        self.user, self.password = user, password
        self.pki = make_pki(os.path.join(self.dir, "pki")) if tls else None
        # as root, mosquitto would switch to user "mosquitto", who cannot read our temp dir
        lines = [f"user {getpass.getuser()}", "per_listener_settings true", "persistence false", "log_dest stderr",
                 "log_type error", "log_type warning", "log_type notice",
                 f"listener {self.port} 127.0.0.1", "allow_anonymous true"]
        if auth:
            pw = os.path.join(self.dir, "passwd")
            subprocess.run(["mosquitto_passwd", "-b", "-c", pw, user, password], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            lines += [f"listener {self.auth_port} 127.0.0.1", "allow_anonymous false", f"password_file {pw}"]
        if tls:
            lines += [f"listener {self.tls_port} 127.0.0.1", "allow_anonymous true",
                      f"cafile {self.pki['ca']}", f"certfile {self.pki['server_cert']}",
                      f"keyfile {self.pki['server_key']}", "require_certificate true"]
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.log_path = os.path.join(self.dir, "mosquitto.log")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=self._log, stderr=subprocess.STDOUT)
        for port in filter(None, (self.port, self.auth_port, self.tls_port)):
            harness.wait_for(lambda port=port: self._listening(port), 10, f"mosquitto on port {port}")

    def _listening(self, port):
        assert self.proc.poll() is None, f"mosquitto exited: {self.log()}"
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def pub(self, topic, payload, qos=1, retain=False, port=None, extra=()):
        """Publishes one message with mosquitto_pub (payload: str or bytes)."""
        args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port or self.port), "-t", topic, "-q", str(qos)]
        if retain:
            args.append("-r")
        args += list(extra)
        data = payload.encode() if isinstance(payload, str) else payload
        subprocess.run(args + ["-s"], input=data, check=True, timeout=10)

    def pub_many(self, topic, lines, qos=1):
        """Publishes one message per line (mosquitto_pub -l), one connection."""
        data = "".join(line + "\n" for line in lines).encode()
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port), "-t", topic, "-q", str(qos), "-l"],
                       input=data, check=True, timeout=60)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

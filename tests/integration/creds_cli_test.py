"""`creds` subcommands and ${credential:NAME} in configs (SPEC §8, issue 8): round trips, rotation,
every kind of bad input refused with a clear error and the store unchanged, and secrets that never
appear in validate/run output or in any API response."""
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

BINARY = os.environ["UC_BINARY"]
FAST = "1000"  # PBKDF2 iterations for stores made by tests (the default 480000 is tested in the unit tests)


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    env.update(extra)
    return env


def creds(*args, stdin="", env=None, cwd=None):
    return subprocess.run([BINARY, "creds", *args], input=stdin, capture_output=True, text=True, timeout=60,
                          env=env if env is not None else clean_env(), cwd=cwd)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


class CredsCli(unittest.TestCase):
    def setUp(self):
        self.wd = harness.Workdir("uc_creds_")
        self.store = os.path.join(self.wd.path, "data", "credentials.enc")
        self.env = clean_env(CONNECTOR_MASTER_PASSWORD="master pw 1")

    def set(self, name, value, env=None):
        r = creds("set", name, "--store", self.store, "--iterations", FAST, stdin=value, env=env or self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def assert_refused(self, r, code, text):
        self.assertEqual(r.returncode, code, r.stdout + r.stderr)
        self.assertIn(text, r.stderr)

    def test_set_get_list_delete(self):
        r = self.set("api_token", "s3cret-value\n")
        self.assertIn("stored api_token", r.stdout)
        self.assertIn("creating", r.stderr)
        self.set("opc.password", "p@ss word")
        self.assertEqual(stat.S_IMODE(os.stat(self.store).st_mode), 0o600)
        self.assertNotIn(b"s3cret-value", read_bytes(self.store))
        doc = json.loads(read_bytes(self.store))
        self.assertEqual((doc["format"], doc["version"], doc["kdf"], doc["iterations"]),
                         ("unified-connector-credentials", 1, "pbkdf2-hmac-sha256", 1000))

        r = creds("get", "api_token", "--store", self.store, env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("s3cret-value", r.stdout + r.stderr)
        self.assertIn("api_token is set", r.stdout)
        r = creds("get", "api_token", "--show", "--store", self.store, env=self.env)
        self.assertEqual((r.returncode, r.stdout), (0, "s3cret-value\n"))

        r = creds("list", "--store", self.store)  # names only, no key needed
        self.assertEqual((r.returncode, r.stdout), (0, "api_token\nopc.password\n"))

        self.set("api_token", "replaced")
        self.assertEqual(creds("get", "api_token", "--show", "--store", self.store, env=self.env).stdout, "replaced\n")
        r = creds("delete", "api_token", "--store", self.store, env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(creds("list", "--store", self.store).stdout, "opc.password\n")
        self.assert_refused(creds("get", "api_token", "--store", self.store, env=self.env), 1,
                            'no credential named "api_token"')
        self.assert_refused(creds("delete", "api_token", "--store", self.store, env=self.env), 1,
                            'no credential named "api_token"')

    def test_default_store_path_is_data_credentials_enc(self):
        r = subprocess.run([BINARY, "creds", "set", "k", "--iterations", FAST], input="v", capture_output=True,
                           text=True, env=self.env, cwd=self.wd.path, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.wd.path, "data", "credentials.enc")))

    def test_no_key_is_a_usage_error(self):
        self.assert_refused(creds("set", "x", "--store", self.store, stdin="v"), 2,
                            "set CONNECTOR_MASTER_PASSWORD or CONNECTOR_KEY_FILE")
        self.assertFalse(os.path.exists(self.store))

    def test_usage_errors(self):
        self.assert_refused(creds("set", "bad name", "--store", self.store, stdin="v", env=self.env), 2,
                            "invalid credential name")
        self.assert_refused(creds("set", "x", "--store", self.store, stdin="", env=self.env), 2, "empty value")
        self.assertEqual(creds("frob").returncode, 2)
        self.assertEqual(creds().returncode, 2)
        self.assertEqual(creds("get").returncode, 2)

    def bad_input(self, damage, args, code, text, env=None):
        """Applies damage to a good store, runs creds with args, expects code and text, store unchanged."""
        if os.path.exists(self.store):
            os.remove(self.store)
        self.set("api_token", "s3cret-value")
        self.set("other", "v2")
        damage()
        before = read_bytes(self.store)
        mode = os.stat(self.store).st_mode
        r = creds(*args, "--store", self.store, stdin="new-value", env=env or self.env)
        self.assert_refused(r, code, text)
        self.assertNotIn("s3cret-value", r.stdout + r.stderr)
        self.assertEqual(read_bytes(self.store), before)
        self.assertEqual(os.stat(self.store).st_mode, mode)
        self.assertEqual(sorted(os.listdir(os.path.dirname(self.store))), ["credentials.enc"])

    def test_wrong_password(self):
        wrong = clean_env(CONNECTOR_MASTER_PASSWORD="not it")
        for args in (["get", "api_token"], ["set", "api_token"], ["delete", "api_token"], ["rotate"]):
            with self.subTest(args=args):
                self.bad_input(lambda: None, args, 1, "wrong master password for credential store " + self.store,
                               env=dict(wrong, CONNECTOR_NEW_MASTER_PASSWORD="x"))

    def test_group_or_other_readable_store_is_refused(self):
        for mode in (0o640, 0o604, 0o660, 0o644):
            with self.subTest(mode=oct(mode)):
                self.bad_input(lambda: os.chmod(self.store, mode), ["get", "api_token"], 1,
                               "lets group or others access it; refusing to use it (fix: chmod 600")
        self.bad_input(lambda: os.chmod(self.store, 0o644), ["list"], 1, "lets group or others access it")
        self.bad_input(lambda: os.chmod(self.store, 0o644), ["set", "x"], 1, "lets group or others access it")

    def rewrite(self, fn):
        def damage():
            doc = json.loads(read_bytes(self.store))
            fn(doc)
            with open(self.store, "w") as f:
                json.dump(doc, f)
        return damage

    def test_tampered_token(self):
        def flip(doc):
            t = doc["entries"]["api_token"]
            doc["entries"]["api_token"] = t[:30] + ("B" if t[30] == "A" else "A") + t[31:]
        self.bad_input(self.rewrite(flip), ["get", "api_token", "--show"], 1,
                       'credential "api_token" in ' + self.store + " cannot be decrypted: invalid token: incorrect MAC")
        self.bad_input(self.rewrite(flip), ["rotate"], 1, "cannot be decrypted",
                       env=dict(self.env, CONNECTOR_NEW_MASTER_PASSWORD="new"))

    def test_invalid_base64(self):
        def bad_entry(doc):
            doc["entries"]["api_token"] = "%%%%" + doc["entries"]["api_token"][4:]
        self.bad_input(self.rewrite(bad_entry), ["get", "api_token"], 1, "invalid token: not URL-safe base64")

        def bad_salt(doc):
            doc["salt"] = "not*base64"
        self.bad_input(self.rewrite(bad_salt), ["get", "other"], 1, '"salt": invalid base64')

    def test_truncated_and_garbage_store(self):
        def truncate():
            data = read_bytes(self.store)
            with open(self.store, "wb") as f:
                f.write(data[: len(data) // 2])
        self.bad_input(truncate, ["get", "api_token"], 1, "is damaged or not a credential store: not valid JSON")

        def garbage():
            with open(self.store, "wb") as f:
                f.write(os.urandom(3000))
        self.bad_input(garbage, ["set", "x"], 1, "is damaged or not a credential store")
        self.bad_input(garbage, ["list"], 1, "is damaged or not a credential store")

    def test_oversized_value(self):
        self.set("api_token", "s3cret-value")
        before = read_bytes(self.store)
        r = creds("set", "big", "--store", self.store, stdin="x" * (64 * 1024 + 1), env=self.env)
        self.assert_refused(r, 2, "larger than 65536 bytes")
        self.assertEqual(read_bytes(self.store), before)
        self.set("big", "x" * (64 * 1024))

    def test_rotate(self):
        self.set("api_token", "s3cret-value")
        self.set("opc.password", "pw2")
        old = json.loads(read_bytes(self.store))
        r = creds("rotate", "--store", self.store, "--iterations", FAST, env=self.env)
        self.assert_refused(r, 2, "set CONNECTOR_NEW_MASTER_PASSWORD")
        r = creds("rotate", "--store", self.store, "--iterations", FAST,
                  env=dict(self.env, CONNECTOR_NEW_MASTER_PASSWORD="master pw 2"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("2 entries re-encrypted", r.stdout)
        new = json.loads(read_bytes(self.store))
        self.assertNotEqual(new["salt"], old["salt"])
        for name in old["entries"]:
            self.assertNotEqual(new["entries"][name], old["entries"][name])
        self.assertEqual(stat.S_IMODE(os.stat(self.store).st_mode), 0o600)
        self.assertEqual(creds("get", "api_token", "--store", self.store, env=self.env).returncode, 1)
        env2 = clean_env(CONNECTOR_MASTER_PASSWORD="master pw 2")
        self.assertEqual(creds("get", "api_token", "--show", "--store", self.store, env=env2).stdout,
                         "s3cret-value\n")
        self.assertEqual(creds("get", "opc.password", "--show", "--store", self.store, env=env2).stdout, "pw2\n")

        # ... and over to a key file, and back to a password.
        key = self.wd.write("fernet.key", "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=\n")
        os.chmod(key, 0o600)
        r = creds("rotate", "--new-key-file", key, "--store", self.store, env=env2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(read_bytes(self.store))["kdf"], "key-file")
        kenv = clean_env(CONNECTOR_KEY_FILE=key)
        self.assertEqual(creds("get", "api_token", "--show", "--store", self.store, env=kenv).stdout,
                         "s3cret-value\n")
        self.assert_refused(creds("get", "api_token", "--store", self.store, env=env2), 2,
                            "is protected by a key file: set CONNECTOR_KEY_FILE")
        os.chmod(key, 0o644)
        self.assert_refused(creds("get", "api_token", "--store", self.store, env=kenv), 1,
                            "CONNECTOR_KEY_FILE: key file " + key + " has mode 0644")
        os.chmod(key, 0o600)
        r = creds("rotate", "--store", self.store, "--iterations", FAST,
                  env=dict(kenv, CONNECTOR_NEW_MASTER_PASSWORD="pw3"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(creds("get", "api_token", "--show", "--store", self.store,
                               env=clean_env(CONNECTOR_MASTER_PASSWORD="pw3")).stdout, "s3cret-value\n")


class PromptOnTerminal(unittest.TestCase):
    """On a terminal, `creds set` asks for the master password (twice for a new store) and the value
    with echo off: nothing typed comes back on the terminal."""

    def converse(self, args, answers, env):
        import pty
        import select
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(BINARY, [BINARY, *args], env)
        transcript = b""
        try:
            for prompt, answer in answers:
                deadline = 30
                while prompt.encode() not in transcript:
                    ready, _, _ = select.select([fd], [], [], deadline)
                    self.assertTrue(ready, f"no prompt {prompt!r}; got {transcript!r}")
                    transcript += os.read(fd, 4096)
                transcript = transcript.split(prompt.encode(), 1)[1]
                os.write(fd, answer.encode() + b"\n")
            while True:
                ready, _, _ = select.select([fd], [], [], 30)
                if not ready:
                    break
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                transcript += chunk
        finally:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done == 0:  # stuck at a prompt: the assertion above says why
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
            os.close(fd)
        return os.waitstatus_to_exitcode(status), transcript.decode(errors="replace")

    def test_hidden_prompts(self):
        wd = harness.Workdir("uc_creds_tty_")
        store = os.path.join(wd.path, "credentials.enc")
        code, out = self.converse(["creds", "set", "tok", "--store", store, "--iterations", FAST],
                                  [("new master password for", "tty-master-pw"),
                                   ("Repeat the new master password", "tty-master-pw"),
                                   ("Value for tok: ", "tty-secret-value")], clean_env())
        self.assertEqual(code, 0, out)
        self.assertIn("stored tok", out)
        self.assertNotIn("tty-master-pw", out)
        self.assertNotIn("tty-secret-value", out)
        r = creds("get", "tok", "--show", "--store", store, env=clean_env(CONNECTOR_MASTER_PASSWORD="tty-master-pw"))
        self.assertEqual(r.stdout, "tty-secret-value\n")
        code, out = self.converse(["creds", "get", "tok", "--show", "--store", store],
                                  [("Master password for", "tty-master-pw")], clean_env())
        self.assertEqual(code, 0, out)
        self.assertIn("tty-secret-value", out)
        self.assertNotIn("tty-master-pw", out)


SECRETS = {"api_token": "TOKEN-7f3a9c1e-never-print", "opc_password": "OPC-pw-55e2b0-never-print",
           "zb_secret": "ZB-secret-c0ffee-never-print"}

CONFIG = """
connector: {{name: creds-edge, log_level: trace, data_dir: {data}}}
web_ui:
  enabled: true
  host: 127.0.0.1
  port: {port}
  auth_token: ${{credential:api_token}}
sources:
  - name: press
    protocol: synthetic
    interval_ms: 20
    tags:
      - {{name: pressure, generator: sine, min: 0, max: 10, period_s: 1}}
  - name: plc
    protocol: opcua
    endpoint: opc.tcp://127.0.0.1:4840
    security:
      policy: None
      mode: None
      username: operator
      password: ${{credential:opc_password}}
    nodes:
      - {{node_id: "ns=2;s=X", tag_name: x}}
sinks:
  file: {{enabled: true, directory: {data}/records}}
backpressure: {{disk_spool: {{enabled: false}}}}
zerobus:
  enabled: false
  auth:
    client_id: edge-client
    client_secret: ${{credential:zb_secret}}
  default_target: {{catalog: c, schema: s, table: t}}
credentials:
  store: {store}
"""


def http(port, path, token=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


class CredentialsInConfig(unittest.TestCase):
    def setUp(self):
        self.wd = harness.Workdir("uc_creds_cfg_")
        self.data = os.path.join(self.wd.path, "data")
        self.store = os.path.join(self.wd.path, "secrets", "credentials.enc")
        self.env = clean_env(CONNECTOR_MASTER_PASSWORD="pw for config")
        for name, value in SECRETS.items():
            r = creds("set", name, "--store", self.store, "--iterations", FAST, stdin=value, env=self.env)
            self.assertEqual(r.returncode, 0, r.stderr)
        self.port = harness.free_port()
        self.config = self.wd.write("c.yaml", CONFIG.format(data=self.data, port=self.port, store=self.store))

    def assert_no_secret(self, text, where):
        for name, value in SECRETS.items():
            self.assertNotIn(value, text, f"secret {name} leaked in {where}")
            self.assertNotIn(value[:12], text, f"part of secret {name} leaked in {where}")

    def validate(self, env):
        return subprocess.run([BINARY, "validate", "--config", self.config], capture_output=True, text=True,
                              env=env, timeout=60)

    def test_validate_resolves_without_printing(self):
        r = self.validate(self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ok (2 sources)", r.stdout)
        self.assert_no_secret(r.stdout + r.stderr, "validate output")

    def test_missing_credential_is_a_config_error_naming_the_key(self):
        r = creds("delete", "zb_secret", "--store", self.store, env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.validate(self.env)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f'{self.config}:', r.stderr)
        self.assertIn('zerobus.auth.client_secret: cannot resolve credential "zb_secret": NOT_FOUND: no credential '
                      f'named "zb_secret" in {self.store}', r.stderr)
        self.assertIn("1 error in", r.stderr)
        self.assert_no_secret(r.stdout + r.stderr, "validate errors")

    def test_locked_store_and_wrong_password_are_config_errors(self):
        r = self.validate(clean_env())
        self.assertEqual(r.returncode, 2)
        self.assertIn('web_ui.auth_token: cannot resolve credential "api_token": FAILED_PRECONDITION', r.stderr)
        self.assertIn("set CONNECTOR_MASTER_PASSWORD", r.stderr)
        r = self.validate(clean_env(CONNECTOR_MASTER_PASSWORD="wrong"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("UNAUTHENTICATED: wrong master password for credential store " + self.store, r.stderr)
        self.assertNotIn("wrong\n", r.stderr)

    def test_environment_overrides_and_works_without_a_store(self):
        os.remove(self.store)
        env = clean_env(CONNECTOR_CREDENTIAL_API_TOKEN="token-from-the-env", CONNECTOR_CREDENTIAL_OPC_PASSWORD="b",
                        CONNECTOR_CREDENTIAL_ZB_SECRET="c")
        r = self.validate(env)
        self.assertEqual(r.returncode, 0, r.stderr)
        del env["CONNECTOR_CREDENTIAL_ZB_SECRET"]
        r = self.validate(env)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no credential store at " + self.store, r.stderr)
        self.assertIn("CONNECTOR_CREDENTIAL_ZB_SECRET", r.stderr)

    def test_simulate_and_dlq_resolve_credentials_like_validate(self):
        """Every subcommand loads its config one way: a store that cannot be unlocked is the same
        error at the key for `simulate` and `dlq` as for `validate`, and with the store they run."""
        sim_port = harness.free_port()
        config = self.wd.write("sim.yaml", CONFIG.format(data=self.data, port=self.port, store=self.store) +
                               f"simulator: {{modbus: {{port: {sim_port}}}, opcua: {{enabled: false}}, "
                               "mqtt: {enabled: false}}\n")
        commands = (["dlq", "list", "--config", config], ["simulate", "--config", config])
        for args in commands:
            r = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=60,
                               env=clean_env(CONNECTOR_MASTER_PASSWORD="wrong"))
            self.assertEqual(r.returncode, 2, f"{args}: {r.stdout}{r.stderr}")
            self.assertIn("web_ui.auth_token: cannot resolve credential \"api_token\": UNAUTHENTICATED", r.stderr)

        r = subprocess.run([BINARY, *commands[0]], capture_output=True, text=True, timeout=60, env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no dead-lettered records", r.stdout)
        proc = subprocess.Popen([BINARY, *commands[1]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env)
        try:
            harness.wait_for(lambda: socket.create_connection(("127.0.0.1", sim_port), timeout=1).close() or True,
                             30, "the Modbus simulator")
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assert_no_secret(out + err, "simulate output")

    def test_run_never_exposes_secrets(self):
        proc = subprocess.Popen([BINARY, "run", "--config", self.config], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env, cwd=self.wd.path)
        bodies = []
        try:
            def api_up():
                if proc.poll() is not None:
                    raise AssertionError(f"run exited with {proc.returncode}: {proc.communicate()}")
                return http(self.port, "/health")[0] == 200
            harness.wait_for(api_up, 30, "the API")
            token = SECRETS["api_token"]
            # The token from the store is the API's bearer token: wrong or missing is 401.
            self.assertEqual(http(self.port, "/api/status")[0], 401)
            self.assertEqual(http(self.port, "/api/status", "wrong")[0], 401)

            def flowing():
                code, body = http(self.port, "/api/status", token)
                return code == 200 and json.loads(body)["sources"][0]["records_received"] > 0 and body
            bodies.append(harness.wait_for(flowing, 30, "records to flow"))
            for path in ("/api/status", "/api/metrics", "/metrics", "/health", "/api/sources", "/nope"):
                code, body = http(self.port, path, token)
                bodies.append(f"{path} {code} {body}")
                if path != "/nope" and path != "/api/sources":
                    self.assertEqual(code, 200, path)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assert_no_secret("\n".join(bodies), "API responses")
        self.assert_no_secret(out + err, "run output (log level trace)")
        for root, _, files in os.walk(self.data):
            for name in files:
                self.assert_no_secret(read_bytes(os.path.join(root, name)).decode(errors="replace"),
                                      "data file " + name)


if __name__ == "__main__":
    unittest.main()

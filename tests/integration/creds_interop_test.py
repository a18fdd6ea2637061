"""Interoperability with Python's cryptography (Debian python3-cryptography, /usr/bin/python3): Fernet
tokens both ways, PBKDF2-HMAC-SHA256 keys equal, and the store file readable and writable by a few lines
of Python following docs/credentials.md."""
import base64
import json
import os
import subprocess
import sys
import unittest

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

BINARY = os.environ["UC_BINARY"]
TOOL = os.environ["UC_FERNET_TOOL"]


def tool(*args, stdin=""):
    r = subprocess.run([TOOL, *args], input=stdin, capture_output=True, text=True, timeout=60)
    return r


def python_key(password, salt, iterations):
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=iterations)
    return base64.urlsafe_b64encode(kdf.derive(password.encode()))


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    env.update(extra)
    return env


class FernetInterop(unittest.TestCase):
    def test_key_derivation_matches_at_480000_iterations(self):
        for password in ("correct horse battery staple", "pässwörd ✓", "x"):
            salt = os.urandom(16)
            salt_b64 = base64.urlsafe_b64encode(salt).decode()
            r = tool("derive", password, salt_b64, "480000")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.strip(), python_key(password, salt, 480000).decode())

    def test_our_tokens_decrypt_in_python(self):
        key = Fernet.generate_key()
        for plaintext in ("hello", "", "x" * 1000, "ünïcødé ✓", "line1\nline2"):
            r = tool("encrypt", key.decode(), stdin=plaintext)
            self.assertEqual(r.returncode, 0, r.stderr)
            token = r.stdout.strip().encode()
            self.assertTrue(token.endswith(b"=") or len(token) % 4 == 0)
            self.assertEqual(Fernet(key).decrypt(token, ttl=60).decode(), plaintext)
            with self.assertRaises(InvalidToken):
                Fernet(Fernet.generate_key()).decrypt(token)

    def test_python_tokens_decrypt_with_ours(self):
        key = Fernet.generate_key()
        for plaintext in ("hello", "", "y" * 1000, "ünïcødé ✓"):
            token = Fernet(key).encrypt(plaintext.encode()).decode()
            r = tool("decrypt", key.decode(), token, "60")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, plaintext)
            r = tool("decrypt", Fernet.generate_key().decode(), token)
            self.assertEqual(r.returncode, 1)
            self.assertIn("incorrect MAC", r.stderr)

    def test_python_token_from_the_future_is_refused_with_ttl_only(self):
        key = Fernet.generate_key()
        import time
        token = Fernet(key).encrypt_at_time(b"later", int(time.time()) + 3600).decode()
        r = tool("decrypt", key.decode(), token, "60")
        self.assertEqual(r.returncode, 1)
        self.assertIn("clock skew", r.stderr)
        self.assertEqual(tool("decrypt", key.decode(), token).stdout, "later")


class StoreInterop(unittest.TestCase):
    def setUp(self):
        self.wd = harness.Workdir("uc_creds_interop_")
        self.store = os.path.join(self.wd.path, "credentials.enc")

    def test_store_written_by_us_reads_in_python(self):
        env = clean_env(CONNECTOR_MASTER_PASSWORD="interop pw")
        r = subprocess.run([BINARY, "creds", "set", "db_password", "--store", self.store], input="from C++ ✓",
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.load(open(self.store))
        self.assertEqual(doc["iterations"], 480000)  # the default
        salt = base64.urlsafe_b64decode(doc["salt"])
        self.assertEqual(len(salt), 16)
        f = Fernet(python_key("interop pw", salt, doc["iterations"]))
        self.assertEqual(f.decrypt(doc["check"].encode()), b"unified-connector credential store")
        self.assertEqual(f.decrypt(doc["entries"]["db_password"].encode()).decode(), "from C++ ✓")

    def test_store_written_by_python_reads_with_ours(self):
        salt = os.urandom(16)
        f = Fernet(python_key("py pw", salt, 480000))
        doc = {"format": "unified-connector-credentials", "version": 1, "kdf": "pbkdf2-hmac-sha256",
               "iterations": 480000, "salt": base64.urlsafe_b64encode(salt).decode(),
               "check": f.encrypt(b"unified-connector credential store").decode(),
               "entries": {"api_token": f.encrypt("from Python ✓".encode()).decode()}}
        with open(self.store, "w") as out:
            json.dump(doc, out)
        os.chmod(self.store, 0o600)
        r = subprocess.run([BINARY, "creds", "get", "api_token", "--show", "--store", self.store], capture_output=True,
                           text=True, env=clean_env(CONNECTOR_MASTER_PASSWORD="py pw"), timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "from Python ✓\n")

    def test_key_file_store_with_a_python_generated_key(self):
        key = Fernet.generate_key()
        key_file = self.wd.write("fernet.key", key.decode() + "\n")
        os.chmod(key_file, 0o600)
        env = clean_env(CONNECTOR_KEY_FILE=key_file)
        r = subprocess.run([BINARY, "creds", "set", "k", "--store", self.store], input="v1", capture_output=True,
                           text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.load(open(self.store))
        self.assertEqual(doc["kdf"], "key-file")
        self.assertEqual(Fernet(key).decrypt(doc["entries"]["k"].encode()), b"v1")


if __name__ == "__main__":
    unittest.main()

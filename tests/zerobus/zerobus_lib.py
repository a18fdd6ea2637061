"""Helpers for the Zerobus tests: run the local test server, talk to its control
endpoint, read what it wrote."""
import json
import os
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zerobus_test_server.py")


class TestServer:
    def __init__(self, out, *flags, grpc_port=0, http_port=0):
        self.out = out
        self.flags = list(flags)
        self.grpc_port = grpc_port
        self.http_port = http_port
        self.proc = None
        self.start()

    def start(self):
        with self._log() as log:
            self.proc = subprocess.Popen(
                ["/usr/bin/python3", SERVER, "--out", self.out, "--grpc-port", str(self.grpc_port),
                 "--http-port", str(self.http_port), *self.flags],
                stdout=subprocess.PIPE, stderr=log, text=True)
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            raise RuntimeError("the Zerobus test server did not start; see " + self.out + ".server.log")
        ready = json.loads(line)
        self.grpc_port, self.http_port = ready["grpc_port"], ready["http_port"]

    def _log(self):
        os.makedirs(os.path.dirname(self.out), exist_ok=True)
        return open(self.out + ".server.log", "a")

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.kill()

    def control(self, **knobs):
        req = urllib.request.Request(f"http://127.0.0.1:{self.http_port}/control", data=json.dumps(knobs).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())

    def stats(self):
        _, _, body = harness.http_get(self.http_port, "/stats")
        return json.loads(body)

    def records(self, table):
        path = os.path.join(self.out, table + ".jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.endswith("\n")]


def zerobus_config(data, api_port, server, *, record_format="proto", sources="", source_targets="",
                   ack_timeout_ms=1000, batch=50, extra="", file_sink=False, tls=False):
    file = f"{{enabled: true, directory: {data}/files}}" if file_sink else "{enabled: false}"
    return f"""
connector: {{name: zb-edge, log_level: info, data_dir: {data}}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {api_port}}}
sources:
{sources}
sinks:
  file: {file}
backpressure:
  max_queue_size: 100000
  disk_spool: {{enabled: true, directory: {data}/spool, fsync: never}}
  dlq: {{directory: {data}/dlq}}
  retry: {{initial_ms: 20, max_ms: 200}}
  circuit_breaker: {{failure_threshold: 1000, open_s: 1}}
zerobus:
  enabled: true
  workspace_host: http://127.0.0.1:{server.http_port}
  endpoint: 127.0.0.1:{server.grpc_port}
  tls: {"true" if tls else "false"}
  auth: {{client_id: test-client, client_secret: test-secret}}
  record_format: {record_format}
  default_target: {{catalog: main, schema: plant, table: ot_bronze}}
  source_targets:
{source_targets}
  batch: {{max_records: {batch}, max_bytes: 1048576, linger_ms: 10}}
  ack_timeout_ms: {ack_timeout_ms}
  create_timeout_ms: 2000
{extra}
"""


def start_connector(binary, cfg, log_path, cwd):
    with open(log_path, "w") as log:
        return subprocess.Popen([os.path.abspath(binary), "run", "--config", cfg], cwd=cwd, stdout=log, stderr=log,
                                text=True)


def get_json(port, path):
    _, _, body = harness.http_get(port, path, timeout=30)
    return json.loads(body)

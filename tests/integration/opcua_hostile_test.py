"""Bad input from an OPC UA server (opcua_hostile_server.py, loopback): lengths beyond the
limits, too many chunks, an oversized frame, invalid UTF-8, nesting beyond the depth limit,
an unknown message type and a sequence gap. Each closes the connection with a clear error
and never crashes: `browse` exits 1 naming the cause, and a running connector stays up,
reporting the cause as bad records while it retries.
"""
import os
import signal
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import harness  # noqa: E402

BINARY = os.environ["UC_BINARY"]
CAUSES = {
    "huge_string": "String length 2147483647 exceeds the limit",
    "huge_array": "array length 2147483647 exceeds the limit",
    "bad_utf8": "String is not valid UTF-8",
    "deep_nesting": "nesting deeper than 32",
    "chunk_count": "max chunk count 4096",
    "frame_size": "exceeds the receive buffer",
    "bad_type": "unknown message type",
    "bad_sequence": "Bad_SequenceNumberInvalid",
}


def start(mode):
    p = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "opcua_hostile_server.py"), mode],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = int(p.stdout.readline().split()[1])
    return p, port


def stop(p):
    p.kill()
    p.wait()
    p.stdout.close()
    p.stderr.close()


class HostileServer(unittest.TestCase):
    def test_browse_fails_with_the_cause_and_no_crash(self):
        for mode, cause in CAUSES.items():
            with self.subTest(mode=mode):
                server, port = start(mode)
                try:
                    r = subprocess.run([BINARY, "browse", f"opc.tcp://127.0.0.1:{port}", "--timeout-ms", "5000"],
                                       capture_output=True, text=True, timeout=60)
                finally:
                    stop(server)
                self.assertEqual(r.returncode, 1, r.stderr)  # a clean failure, not a signal
                self.assertIn(cause, r.stderr)

    def test_a_running_connector_reports_the_cause_and_keeps_running(self):
        server, port = start("deep_nesting")
        work = harness.Workdir("uc-opcua-hostile-")
        cfg = work.write("config.yaml", (
            f'connector: {{name: hostile, log_level: info, data_dir: "{work.path}/data"}}\n'
            "web_ui: {enabled: false}\n"
            f'sinks: {{file: {{enabled: true, directory: "{work.path}/records"}}}}\n'
            "sources:\n"
            f"  - {{name: ua, protocol: opcua, endpoint: \"opc.tcp://127.0.0.1:{port}\", mode: polling,\n"
            "     backoff_initial_ms: 50, backoff_max_ms: 200, timeout_ms: 2000, nodes: [{node_id: \"ns=1;s=X\"}]}\n"))
        run = subprocess.Popen([BINARY, "run", "--config", cfg], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        records_dir = os.path.join(work.path, "records", "default")
        try:
            def bad():
                if not os.path.isdir(records_dir):
                    return []
                return [r for r in harness.read_jsonl_dir(records_dir) if r["quality"] == "bad"]
            recs = harness.wait_for(lambda: (lambda b: b if len(b) >= 3 else None)(bad()), 30,
                                    "bad records from repeated attempts")
            self.assertIn("nesting deeper than 32", recs[0]["metadata"]["quality_reason"])
            self.assertIsNone(run.poll(), "the connector died")
        finally:
            stop(server)
            run.send_signal(signal.SIGTERM)
            out, err = run.communicate(timeout=30)
        self.assertEqual(run.returncode, 0, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)

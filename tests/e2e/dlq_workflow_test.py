"""Issue 6 proof of the dead-letter workflow with the real binary: a sink rejects some
records for good (JSON lines over sinks.file.max_record_bytes); they land in the DLQ with
the reason while their batch-mates are delivered; GET /api/dlq shows them; POST
/api/dlq/replay puts them back through the lane; `dlq list` shows them offline; after the
limit is raised (the fix), `dlq replay` moves them into the spool and the next run
delivers them; `dlq purge` empties a DLQ. Bad API input gets a clear 4xx."""
import json
import os
import signal
import subprocess
import sys
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

BINARY = os.environ["UC_BINARY"]
LONG = "x" * 1500

CONFIG = """
connector: {{name: dlq-edge, log_level: info, data_dir: {data}}}
web_ui: {{enabled: true, host: 127.0.0.1, port: {port}}}
sources:
  - name: gen
    protocol: synthetic
    equipment: filler
    interval_ms: 20
    tags:
      - {{name: ok_level, generator: sine, unit: m}}
      - {{name: {long}, generator: ramp}}
sinks:
  file: {{enabled: true, directory: {data}/records, rotate_s: 0, max_record_bytes: {limit},
          batch: {{max_records: 100, max_bytes: 1048576, linger_ms: 10}}}}
backpressure:
  disk_spool: {{enabled: true, directory: {data}/spool, fsync: batch}}
  dlq: {{directory: {data}/dlq}}
"""


def post(port, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def get_json(port, path):
    try:
        _, _, body = harness.http_get(port, path)
        return 200, json.loads(body)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def cli(*args):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=60)


class DlqWorkflow(unittest.TestCase):
    def test_reject_list_replay_fix_deliver_purge(self):
        wd = harness.Workdir("uc_dlq_")
        data = os.path.join(wd.path, "data")
        port = harness.free_port()
        cfg = wd.write("config.yaml", CONFIG.format(data=data, port=port, long=LONG, limit=1024))

        proc = harness.start(BINARY, "run", "--config", cfg, cwd=wd.path)
        try:
            harness.wait_for(lambda: get_json(port, "/api/dlq")[1]["targets"][0]["messages"] >= 5, 30, "DLQ entries")
            code, body = get_json(port, "/api/dlq?limit=2")
            self.assertEqual(code, 200)
            t = body["targets"][0]
            self.assertEqual(t["target"], "default")
            self.assertEqual(len(t["entries"]), 2)
            self.assertIn("over sinks.file.max_record_bytes (1024)", t["entries"][0]["reason"])
            self.assertEqual(t["entries"][0]["record"]["tag_name"], LONG)
            # Bad input: clear 4xx answers.
            self.assertEqual(get_json(port, "/api/dlq?limit=abc")[0], 400)
            self.assertEqual(get_json(port, "/api/dlq?target=nope")[0], 404)
            self.assertEqual(post(port, "/api/dlq/replay", b"{not json")[0], 400)
            self.assertEqual(post(port, "/api/dlq/replay", b'{"target": 5}')[0], 400)
            self.assertEqual(post(port, "/api/dlq/replay", b'{"tagret": "default"}')[0], 400)
            self.assertEqual(post(port, "/api/dlq/replay", b'{"target": "nope"}')[0], 404)
            # Replay through the API: still too long, so they come back to the DLQ.
            before = get_json(port, "/api/status")[1]["targets"][0]["records_dead_lettered"]
            code, body = post(port, "/api/dlq/replay", b"")
            self.assertEqual(code, 200, body)
            self.assertGreaterEqual(body["replayed"], 5)
            harness.wait_for(lambda: get_json(port, "/api/status")[1]["targets"][0]["records_dead_lettered"]
                             >= before + body["replayed"], 30, "replayed records rejected again")
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)

        good = harness.read_jsonl_dir(os.path.join(data, "records", "default"))
        self.assertTrue(good and all(r["tag_name"] == "ok_level" for r in good), "batch-mates were delivered")

        r = cli("dlq", "list", "--config", cfg, "--limit", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        header, entry = r.stdout.splitlines()[:2]
        self.assertTrue(header.startswith("# default: "), header)
        dead = int(header.split()[2])
        self.assertGreaterEqual(dead, 5)
        self.assertEqual(json.loads(entry)["record"]["tag_name"], LONG)

        # The fix: raise the limit. Replay into the spool offline, then run once more.
        cfg = wd.write("config.yaml", CONFIG.format(data=data, port=port, long=LONG, limit=1048576))
        r = cli("dlq", "replay", "--config", cfg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"default: {dead} records moved to the spool", r.stdout)
        self.assertIn("# default: 0 records", cli("dlq", "list", "--config", cfg).stdout)

        proc = harness.start(BINARY, "run", "--config", cfg, cwd=wd.path)
        try:
            harness.wait_for(lambda: get_json(port, "/api/status")[1]["targets"][0]["spool"]["unacked_records"] == 0,
                             30, "the replayed records to be delivered")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=60)
        # Every tick of the first run reaches the files for both tags: the long tag's records
        # through DLQ -> replay -> spool -> second run.
        first_run = good[0]["metadata"]["run"]
        records = harness.read_jsonl_dir(os.path.join(data, "records", "default"))
        ok_seqs = {int(r["metadata"]["seq"]) for r in records
                   if r["tag_name"] == "ok_level" and r["metadata"]["run"] == first_run}
        long_seqs = [int(r["metadata"]["seq"]) for r in records
                     if r["tag_name"] == LONG and r["metadata"]["run"] == first_run]
        self.assertEqual(len(long_seqs), dead, "each dead-lettered record delivered once")
        self.assertEqual(set(long_seqs), ok_seqs)

        # Purge, and CLI errors.
        self.assertEqual(cli("dlq", "purge", "--config", cfg).returncode, 0)
        self.assertEqual(cli("dlq", "list", "--config", cfg, "--target", "nope").returncode, 2)
        self.assertEqual(cli("dlq", "frob", "--config", cfg).returncode, 2)


if __name__ == "__main__":
    unittest.main()

    def test_with_two_sinks_the_cli_lists_and_replays_each_lane(self):
        # With a second sink the file sink's lane keeps its DLQ in dlq/default.file/ and
        # its spool in spool/default.file/; the CLI must find and replay both (it once
        # looked only at dlq/*.jsonl and said there was nothing).
        wd = harness.Workdir("uc_dlq2_")
        data = os.path.join(wd.path, "data")
        port = harness.free_port()

        def config(limit):
            text = CONFIG.format(data=data, port=port, long=LONG, limit=limit)
            return wd.write("config.yaml", text.replace("sinks:\n", "sinks:\n  stdout: {enabled: true}\n"))

        def run_until(predicate, what):
            with open(os.path.join(wd.path, "run.log"), "a") as log:
                proc = subprocess.Popen([BINARY, "run", "--config", cfg], stdout=subprocess.DEVNULL, stderr=log)
                try:
                    harness.wait_for(predicate, 30, what)
                finally:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(timeout=60)
            self.assertEqual(proc.returncode, 0)

        lane_dlq = os.path.join(data, "dlq", "default.file", "default.jsonl")

        def dead_lines():
            with open(lane_dlq) as f:
                return sum(1 for line in f if line.strip())

        cfg = config(1024)
        run_until(lambda: os.path.exists(lane_dlq) and dead_lines() >= 5, "the file lane's DLQ")
        dead = dead_lines()
        r = cli("dlq", "list", "--config", cfg, "--limit", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        header, entry = r.stdout.splitlines()[:2]
        self.assertTrue(header.startswith(f"# default (sink file): {dead} records"), header)
        self.assertEqual(json.loads(entry)["record"]["tag_name"], LONG)
        self.assertEqual(cli("dlq", "list", "--config", cfg, "--target", "default").returncode, 0)

        cfg = config(1048576)
        r = cli("dlq", "replay", "--config", cfg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"default (sink file): {dead} records moved to the spool", r.stdout)
        self.assertTrue(os.listdir(os.path.join(data, "spool", "default.file")))

        records_dir = os.path.join(data, "records", "default")
        first_run = harness.read_jsonl_dir(records_dir)[0]["metadata"]["run"]

        def replayed():  # the long tag's records of the first run: only the replay delivers them
            return [r for r in harness.read_jsonl_dir(records_dir)
                    if r["tag_name"] == LONG and r["metadata"]["run"] == first_run]
        run_until(lambda: len(replayed()) >= dead, "the replayed records through the file sink")
        self.assertEqual(len(replayed()), dead)
        self.assertIn("# default (sink file): 0 records", cli("dlq", "list", "--config", cfg).stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)

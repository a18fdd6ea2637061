"""The binary's subcommands and exit codes (SPEC §1): 0 ok, 1 runtime failure, 2 bad config or usage."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

BINARY = os.environ["UC_BINARY"]
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COLUMNS = ["event_time", "ingest_time", "source_name", "protocol", "endpoint", "tag_path", "tag_name", "address",
           "site", "area", "line", "equipment", "signal_type", "value_type", "value_num", "value_str", "value_bool",
           "quality", "status_code", "unit", "metadata"]


def run(*args, cwd=None):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=60, cwd=cwd)


class Cli(unittest.TestCase):
    def test_unknown_subcommand_is_usage_error(self):
        r = run("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn('unknown command "frobnicate"', r.stderr)
        self.assertIn("Usage:", r.stderr)

    def test_no_subcommand_is_usage_error(self):
        self.assertEqual(run().returncode, 2)

    def test_missing_config_option_is_usage_error(self):
        self.assertEqual(run("validate").returncode, 2)

    def test_version(self):
        r = run("version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^unified-connector \d+\.\d+\.\d+")

    def test_validate_demo_config(self):
        r = run("validate", "--config", os.path.join(ROOT, "config", "demo.yaml"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ok (6 sources)", r.stdout)

    def test_validate_reports_every_error_with_position(self):
        wd = harness.Workdir("uc_cli_")
        path = wd.write("bad.yaml", "connector:\n  name: x\n  colour: red\nweb_ui:\n  port: 70000\n")
        r = run("validate", "--config", path)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f'{path}:3:3: connector: unknown key "colour"', r.stderr)
        self.assertIn(f"{path}:5:9: web_ui.port: must be between 1 and 65535, got 70000", r.stderr)

    def test_validate_prints_the_first_hundred_errors_and_counts_the_rest(self):
        wd = harness.Workdir("uc_cli_")
        lines = ["connector: {name: x}", "sources:"]
        lines += [f"  - {{name: s{i}, protocol: synthetic, colour: red}}" for i in range(250)]
        path = wd.write("many.yaml", "\n".join(lines) + "\n")
        r = run("validate", "--config", path)
        self.assertEqual(r.returncode, 2)
        err = r.stderr.splitlines()
        self.assertEqual(len(err), 102, err[-3:])
        self.assertEqual(err[0], f'{path}:3:37: sources[0]: unknown key "colour"')
        self.assertEqual(err[99], f'{path}:102:38: sources[99]: unknown key "colour"')
        self.assertEqual(err[100], "\u2026 and 150 more")
        self.assertEqual(err[101], f"250 errors in {path}")

    def test_validate_and_run_end_on_yaml_that_made_yaml_cpp_loop(self):
        # yaml-cpp 0.7's LoadAll never returned on these (src/config/yaml_documents.h); the
        # subprocess timeout fails the test if it hangs again.
        wd = harness.Workdir("uc_cli_")
        cases = [(",a:\n\"b", "1:1"), ("connector: {name: t}\n---\n- a\n,\n", "4:1"),
                 ("connector: {name: t}\n---\n!t ,\n", "3:4")]
        for n, (text, where) in enumerate(cases):
            path = wd.write(f"loop{n}.yaml", text)
            for command in ("validate", "run"):
                with self.subTest(text=text, command=command):
                    r = subprocess.run([BINARY, command, "--config", path], capture_output=True, text=True,
                                       timeout=20, cwd=wd.path)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertIn(f"{path}:{where}: invalid YAML: unexpected ','; a comma separates entries "
                                  "only inside [ ] or { }", r.stderr)

    def test_validate_missing_file(self):
        r = run("validate", "--config", "/nonexistent/x.yaml")
        self.assertEqual(r.returncode, 2)
        self.assertIn("/nonexistent/x.yaml", r.stderr)

    def test_validate_notes_features_not_built_yet(self):
        wd = harness.Workdir("uc_cli_")
        path = wd.write("c.yaml", "connector: {name: x}\nsources:\n  - {name: m, protocol: opcua, "
                                  "endpoint: 'opc.tcp://127.0.0.1:4840', nodes: [{node_id: 'ns=1;s=a'}], "
                                  "security: {policy: Basic256Sha256, mode: SignAndEncrypt}}\n")
        r = run("validate", "--config", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("not available yet in this build: source m (protocol opcua)", r.stdout)

    def test_schema_sql_lists_every_column_in_order(self):
        r = run("schema", "--sql", "--table", "cat.sch.tbl")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith("CREATE TABLE IF NOT EXISTS cat.sch.tbl ("))
        names = [line.split()[0] for line in r.stdout.splitlines()[1:] if line.startswith("  ")]
        self.assertEqual(names, COLUMNS)
        self.assertIn("  event_time TIMESTAMP,", r.stdout)
        self.assertIn("  value_num DOUBLE,", r.stdout)
        self.assertIn("  value_bool BOOLEAN,", r.stdout)
        self.assertIn("  status_code BIGINT,", r.stdout)
        self.assertIn("  metadata MAP<STRING, STRING>", r.stdout)

    def test_schema_proto_is_the_schema_file(self):
        r = run("schema", "--proto")
        self.assertEqual(r.returncode, 0)
        with open(os.path.join(ROOT, "proto", "record.proto")) as f:
            self.assertEqual(r.stdout, f.read())

    def test_read_prints_normalized_json_lines(self):
        r = run("read", "--config", os.path.join(ROOT, "config", "demo.yaml"), "--source", "mixing", cwd=ROOT)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual(len(lines), 5)
        for rec in lines:
            self.assertEqual(list(rec.keys()), COLUMNS)
            self.assertEqual(rec["source_name"], "mixing")
        paths = {rec["tag_path"] for rec in lines}
        self.assertIn("plant1/production/line1/mixer1/speed/mixer_speed", paths)
        self.assertIn("plant1/production/line1/mixer1/temperature/mixer_temperature", paths)

    def test_read_unknown_source(self):
        r = run("read", "--config", os.path.join(ROOT, "config", "demo.yaml"), "--source", "nope")
        self.assertEqual(r.returncode, 2)
        self.assertIn('no source named "nope"', r.stderr)

    def test_read_source_not_built_yet(self):
        wd = harness.Workdir("uc_cli_")
        path = wd.write("c.yaml", "connector: {name: x}\nsources:\n  - {name: m, protocol: opcua, "
                                  "endpoint: 'opc.tcp://127.0.0.1:4840', nodes: [{node_id: 'ns=1;s=a'}], "
                                  "security: {policy: Basic256Sha256, mode: SignAndEncrypt}}\n")
        r = run("read", "--config", path, "--source", "m")
        self.assertEqual(r.returncode, 1)
        self.assertIn("not available yet", r.stderr)


if __name__ == "__main__":
    unittest.main()

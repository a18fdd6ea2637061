"""Failure isolation and bad input, process level (real binary, real peers, loopback):

- a Modbus server killed and restarted mid-run: its tags go bad with the cause, then
  recover; another device (the in-process simulator) is never delayed;
- malformed and short responses, a wrong unit id or function code, exception codes,
  silence and dropped connections (a raw-socket fake server): each a bad-quality record
  with a clear cause, never a crash, and the healthy device beside them stays good;
- config errors: one clear message each, exit 2.
"""
import json
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import modbus_testlib as lib  # noqa: E402
from modbus_testlib import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FAST = {"poll_interval_ms": 100, "timeout_ms": 300, "backoff_initial_ms": 100, "backoff_max_ms": 400}


def records(work):
    d = os.path.join(work.path, "records", "default")
    return harness.read_jsonl_dir(d) if os.path.isdir(d) else []


def reason(rec):
    return rec.get("metadata", {}).get("quality_reason", "")


class KilledServer(unittest.TestCase):
    def test_tags_go_bad_with_the_cause_and_recover_while_the_other_device_is_undisturbed(self):
        work = harness.Workdir("uc-modbus-kill-")
        peer_port, sim_port, api_port = harness.free_port(), harness.free_port(), harness.free_port()
        server = lib.start_pymodbus_tcp(peer_port)
        extra = (f"simulator: {{enabled: true, modbus: {{enabled: true, port: {sim_port}}}, opcua: {{enabled: false}}, "
                 "mqtt: {enabled: false}}\n")
        srcs = lib.yaml_source("peer", f"modbus://127.0.0.1:{peer_port}",
                               [{"name": "pi", "table": "holding", "address": 6, "type": "float32"}], **FAST)
        srcs += lib.yaml_source("sim", f"modbus://127.0.0.1:{sim_port}",
                                [{"name": "f", "table": "holding", "address": 6, "type": "float32"},
                                 {"name": "counter", "table": "holding", "address": 101, "type": "uint16"}], **FAST)
        cfg = lib.write_config(work, srcs, extra)
        with open(cfg) as f:
            text = f.read().replace("web_ui: {enabled: false}", f"web_ui: {{enabled: true, port: {api_port}}}")
        with open(cfg, "w") as f:
            f.write(text)
        run = subprocess.Popen([lib.BINARY, "run", "--config", cfg], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        try:
            def good(name):
                return [r for r in records(work) if r["source_name"] == name and r["quality"] == "good"]
            harness.wait_for(lambda: good("peer") and good("sim"), 20, "good records from both devices")
            self.assertEqual(good("sim")[0]["value_num"], 123456.0)  # the simulator, in-process
            self.assertAlmostEqual(good("peer")[0]["value_num"], 3.14159, places=5)

            server.send_signal(signal.SIGKILL)
            server.wait()
            bad = harness.wait_for(lambda: [r for r in records(work) if r["source_name"] == "peer"
                                            and r["quality"] == "bad"], 20, "bad records after the kill")
            self.assertIsNone(bad[0]["value_num"])
            self.assertTrue(reason(bad[0]), bad[0])  # the cause, e.g. "Connection reset by peer"
            # Refused reconnects are retried with back-off, each a bad record with the cause.
            harness.wait_for(lambda: any("refused" in reason(r).lower() for r in records(work)
                                         if r["source_name"] == "peer"), 20, "a refused reconnect")
            status = json.loads(harness.http_get(api_port, "/api/status")[2])
            peer = next(s for s in status["sources"] if s["name"] == "peer")
            self.assertEqual(peer["state"], "connecting", peer)
            self.assertIn(f"127.0.0.1:{peer_port}", peer["last_error"])
            # Meanwhile the other device keeps its 100 ms pace.
            t_bad = bad[0]["ingest_time"]
            harness.wait_for(lambda: len([r for r in good("sim") if r["ingest_time"] > t_bad]) >= 20, 20,
                             "the simulator's records during the outage")
            sim_times = sorted(r["ingest_time"] for r in good("sim") if r["tag_name"] == "counter"
                               and r["ingest_time"] > t_bad)
            gaps = [b - a for a, b in zip(sim_times, sim_times[1:])]
            self.assertLess(max(gaps), 1_000_000, "the simulator's polls were delayed by the dead peer")

            server = lib.start_pymodbus_tcp(peer_port)
            last_bad = max(r["ingest_time"] for r in records(work) if r["source_name"] == "peer"
                           and r["quality"] == "bad")
            harness.wait_for(lambda: [r for r in good("peer") if r["ingest_time"] > last_bad], 20,
                             "good records after the restart")
            status = json.loads(harness.http_get(api_port, "/api/status")[2])
            peer = next(s for s in status["sources"] if s["name"] == "peer")
            self.assertEqual(peer["state"], "connected", peer)
            self.assertGreaterEqual(peer["reconnections"], 1)
        finally:
            lib.stop(server)
            run.send_signal(signal.SIGTERM)
            out, err = run.communicate(timeout=30)
        self.assertEqual(run.returncode, 0, err)


class BadInput(unittest.TestCase):
    CAUSES = {
        2: "modbus exception 2 (illegal data address)",
        3: "modbus exception 4 (server device failure)",
        4: None, 6: None, 7: None, 9: None, 10: None,  # comm errors: libmodbus's text
        8: "no answer within 300 ms",
    }

    def test_each_bad_answer_is_a_bad_record_with_its_cause_and_never_a_crash(self):
        work = harness.Workdir("uc-modbus-bad-")
        log = os.path.join(work.path, "requests.log")
        fake = subprocess.Popen([lib.PY, os.path.join(HERE, "modbus_fake_server.py"), "--log", log],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        port = int(fake.stdout.readline().split()[1])
        regs = [{"name": "a", "table": "holding", "address": 0, "type": "uint16"},
                {"name": "b", "table": "holding", "address": 1, "type": "int16"}]
        units = [u for u in range(1, 11) if u != 5]  # 5: see test_an_answer_from_another_unit_id_is_rejected
        srcs = "".join(lib.yaml_source(f"u{u}", f"modbus://127.0.0.1:{port}", regs, unit_id=u, equipment=f"dev{u}",
                                       **FAST) for u in units)
        cfg = lib.write_config(work, srcs)
        run = subprocess.Popen([lib.BINARY, "run", "--config", cfg], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        try:
            def by_source():
                out = {}
                for r in records(work):
                    out.setdefault(r["source_name"], []).append(r)
                return out
            harness.wait_for(lambda: len(by_source()) == len(units) and len(by_source()["u1"]) >= 20, 30,
                             "records from every source")
            got = by_source()
            self.assertTrue(all(r["quality"] == "good" for r in got["u1"]))
            self.assertEqual([r["value_num"] for r in got["u1"][:2]], [0.0, 1.0])
            for unit, cause in self.CAUSES.items():
                with self.subTest(unit=unit):
                    recs = got[f"u{unit}"]
                    self.assertTrue(all(r["quality"] == "bad" for r in recs), recs[0])
                    self.assertTrue(reason(recs[0]), recs[0])
                    if cause:
                        self.assertIn(cause, reason(recs[0]))
            self.assertIsNone(run.poll(), "the connector died")
        finally:
            run.send_signal(signal.SIGTERM)
            out, err = run.communicate(timeout=30)
            lib.stop(fake)
        self.assertEqual(run.returncode, 0, err)
        causes = {u: reason(by_source()[f"u{u}"][0]) for u in self.CAUSES}
        print("causes:", json.dumps(causes, indent=1))

    def test_an_answer_from_another_unit_id_is_rejected(self):
        # libmodbus 3.1.6 checks the unit id of an answer only over RTU; the source sends raw
        # requests and checks every field of the answer itself (protocols/modbus/adu.h).
        work = harness.Workdir("uc-modbus-unit-")
        fake = subprocess.Popen([lib.PY, os.path.join(HERE, "modbus_fake_server.py")], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        port = int(fake.stdout.readline().split()[1])
        try:
            cfg = lib.write_config(work, lib.yaml_source(
                "u5", f"modbus://127.0.0.1:{port}", [{"name": "a", "table": "holding", "address": 0}], unit_id=5,
                poll_interval_ms=600000))
            recs = lib.read_records(cfg, "u5")
        finally:
            lib.stop(fake)
        self.assertEqual(recs[0]["quality"], "bad", recs[0])
        self.assertIn("answer from unit id 6, expected 5", json.dumps(recs[0]), recs[0])

    def test_config_errors_are_clear_and_exit_2(self):
        work = harness.Workdir("uc-modbus-cfg-")
        srcs = lib.yaml_source("m", "modbus://127.0.0.1:502", [
            {"name": "a", "table": "holding", "address": 0, "type": "float32"},
            {"name": "b", "table": "holding", "address": 1},
            {"name": "c", "table": "coil", "address": 0, "type": "float32"},
            {"name": "d", "table": "holding", "address": 10, "type": "string", "length": 0},
            {"name": "e", "table": "input", "address": 70000}])
        cfg = lib.write_config(work, srcs)
        r = subprocess.run([lib.BINARY, "validate", "--config", cfg], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        err = r.stderr
        self.assertIn('register "b" (holding 1..1) overlaps register "a" (holding 0..1) on unit 1', err)
        self.assertIn("type float32 is not allowed in table coil", err)
        self.assertIn("registers[3].length: must be between 1 and 250, got 0", err)
        self.assertIn("registers[4].address: must be between 0 and 65535, got 70000", err)
        self.assertIn("4 errors", err)
        r = subprocess.run([lib.BINARY, "validate", "--config", lib.write_config(work, lib.yaml_source(
            "m", "modbusrtu://dev/ttyUSB0", []))], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("expected a device path such as /dev/ttyUSB0", r.stderr)


if __name__ == "__main__":
    unittest.main()

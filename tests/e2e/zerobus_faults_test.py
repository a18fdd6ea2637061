"""Issue 7 proof: synthetic sources -> connector -> the local Zerobus test server over
real gRPC, with faults across one run: close signals, a poison record, short-lived
tokens, UNAVAILABLE mid-stream, ack silence, garbage and malformed responses, an ack
for an unknown offset, and the server killed and restarted. Afterwards the records in
the server's table files are exactly the generated set (per-tag seq numbers) minus the
poison record, which is in the DLQ; each per-source table holds only its own sources;
every fault is counted as a stream reset and the pipeline recovers."""
import collections
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "zerobus"))
import zerobus_lib as zl  # noqa: E402
from zerobus_lib import harness  # noqa: E402

BINARY = os.environ["UC_BINARY"]
TICKS = 300
A_TAGS = ["a_level", "a_temp", "a_flow"]
B_TAGS = ["b_speed", "b_count"]
POISON = ("a_temp", 37)

SOURCES = f"""  - name: gen_a
    protocol: synthetic
    interval_ms: 10
    max_ticks: {TICKS}
    tags: [{', '.join('{name: %s, generator: ramp}' % t for t in A_TAGS)}]
  - name: gen_b
    protocol: synthetic
    interval_ms: 10
    max_ticks: {TICKS}
    tags: [{', '.join('{name: %s, generator: sine}' % t for t in B_TAGS)}]
"""
TARGETS = "    gen_b: {catalog: main, schema: plant, table: b_bronze}\n"


def keys(records):
    return collections.Counter((r["source_name"], r["tag_name"], int(r["metadata"]["seq"])) for r in records)


class ZerobusFaults(unittest.TestCase):
    def test_faults_in_one_run_lose_nothing(self):
        wd = harness.Workdir("uc_zb_")
        data = os.path.join(wd.path, "data")
        out = os.path.join(wd.path, "server")
        server = zl.TestServer(out, "--close-every", "7", "--close-duration-ms", "200", "--token-lifetime-s", "3",
                               "--poison", '{"tag_name": "%s", "metadata.seq": "%d"}' % POISON)
        api = harness.free_port()
        cfg = wd.write("config.yaml", zl.zerobus_config(data, api, server, sources=SOURCES, source_targets=TARGETS))
        proc = zl.start_connector(BINARY, cfg, os.path.join(wd.path, "connector.log"), wd.path)
        try:
            harness.wait_for(lambda: len(server.records("main.plant.ot_bronze")) > 100, 30, "first records")
            server.control(faults=["unavailable", "garbage", "unknown_ack", "missing_ack", "create_mid", "silence"])
            harness.wait_for(lambda: not server.stats()["pending_faults"], 30, "every fault consumed")
            harness.wait_for(lambda: sum(t["ack_timeouts"] for t in zl.get_json(api, "/api/status")["zerobus"]["targets"]),
                             30, "the ack timeout after the server's silence")
            before_kill = len(server.records("main.plant.ot_bronze"))
            server.kill()
            time.sleep(0.5)  # the connector keeps buffering while the server is down
            server.start()
            server.control(faults=[])
            harness.wait_for(lambda: len(server.records("main.plant.ot_bronze")) > before_kill, 30,
                             "delivery after the restart")

            expected_a = {("gen_a", t, s) for t in A_TAGS for s in range(TICKS)}
            expected_b = {("gen_b", t, s) for t in B_TAGS for s in range(TICKS)}
            poison = ("gen_a",) + POISON

            def done():
                a = set(keys(server.records("main.plant.ot_bronze")))
                b = set(keys(server.records("main.plant.b_bronze")))
                return a == expected_a - {poison} and b == expected_b

            try:
                harness.wait_for(done, 60, "every generated record at the server")
            finally:
                a = keys(server.records("main.plant.ot_bronze"))
                b = keys(server.records("main.plant.b_bronze"))
                print(f"table a: {len(a)} distinct, {sum(a.values()) - len(a)} duplicates; "
                      f"table b: {len(b)} distinct, {sum(b.values()) - len(b)} duplicates", file=sys.stderr)
            self.assertNotIn(poison, a)
            # Per-source tables: only their own sources.
            self.assertEqual({k[0] for k in a}, {"gen_a"})
            self.assertEqual({k[0] for k in b}, {"gen_b"})

            # The poison record is in the DLQ of its table, with the server's reason.
            dlq = zl.get_json(api, "/api/dlq?target=main.plant.ot_bronze")["targets"][0]
            self.assertEqual(dlq["messages"], 1, dlq)
            entry = dlq["entries"][0]
            self.assertEqual((entry["record"]["tag_name"], int(entry["record"]["metadata"]["seq"])), POISON)
            self.assertIn("INVALID_ARGUMENT", entry["reason"])
            self.assertIn("Error Code: 4044", entry["reason"])
            self.assertEqual(zl.get_json(api, "/api/dlq?target=main.plant.b_bronze")["targets"][0]["messages"], 0)

            status = zl.get_json(api, "/api/status")["zerobus"]
            self.assertTrue(status["enabled"])
            by_table = {t["table"]: t for t in status["targets"]}
            za = by_table["main.plant.ot_bronze"]
            # unavailable, garbage, unknown_ack, missing_ack, create_mid, silence, the kill
            # (each hits one stream of one of the two tables), and the poison isolation.
            resets = za["stream_resets"] + by_table["main.plant.b_bronze"]["stream_resets"]
            self.assertGreaterEqual(resets, 7, status)
            protocol = za["protocol_errors"] + by_table["main.plant.b_bronze"]["protocol_errors"]
            self.assertGreaterEqual(protocol, 3, status)  # unknown_ack, missing_ack, create_mid
            timeouts = za["ack_timeouts"] + by_table["main.plant.b_bronze"]["ack_timeouts"]
            self.assertGreaterEqual(timeouts, 1, status)  # silence
            self.assertGreater(za["close_signals"], 0, status)
            self.assertEqual(za["records_rejected"], 1)
            # Tokens live 3 s and are refreshed before they expire: more than one per table.
            self.assertGreater(status["tokens_fetched"], 2, status)
            st = server.stats()
            self.assertEqual(st["auth_rejected"], 0, st)
            self.assertEqual(st["offset_errors"], 0, st)
            self.assertEqual(st["first_message_errors"], 0, st)

            metrics = harness.http_get(api, "/metrics")[2].decode()
            self.assertIn('uc_zerobus_stream_reconnects_total{target="main.plant.ot_bronze"}', metrics)
            self.assertIn('uc_zerobus_batches_failed_total{target="main.plant.ot_bronze"}', metrics)
            self.assertGreater(za["batches_sent"], 0)
            self.assertGreater(za["batches_failed"] + by_table["main.plant.b_bronze"]["batches_failed"], 0)
            self.assertIn('uc_zerobus_ack_latency_seconds{target="main.plant.b_bronze",quantile="0.99"}', metrics)

            diag = zl.get_json(api, "/api/zerobus/diagnostics?target=main.plant.b_bronze")
            self.assertTrue(diag["ok"], diag)
            self.assertEqual([s["step"] for s in diag["targets"][0]["steps"]], ["dns", "tcp", "token", "stream"])
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
            server.stop()
        self.assertEqual(proc.returncode, 0)


if __name__ == "__main__":
    unittest.main()

"""Issue 7: the Zerobus sink's auth and JSON paths against the local test server.
A token endpoint that refuses the client (HTTP 401) holds the records back (retried by
the lane, never dead-lettered) and the diagnostics name the failing step; once the
credentials are accepted every record arrives, in JSON mode, with the column names as
keys. Also checks the test server itself: a first message that is not create_stream is
refused with INVALID_ARGUMENT, a stream without a valid token with UNAUTHENTICATED."""
import os
import signal
import sys
import unittest
import urllib.error

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "zerobus"))
import zerobus_lib as zl  # noqa: E402
from zerobus_lib import harness  # noqa: E402

BINARY = os.environ["UC_BINARY"]
TICKS = 50
SOURCES = f"""  - name: gen
    protocol: synthetic
    interval_ms: 5
    max_ticks: {TICKS}
    tags: [{{name: t1, generator: ramp}}, {{name: t2, generator: string}}]
"""
TABLE = "main.plant.ot_bronze"


class ZerobusAuthJson(unittest.TestCase):
    def test_auth_failure_holds_records_then_json_delivery(self):
        wd = harness.Workdir("uc_zb_auth_")
        data = os.path.join(wd.path, "data")
        server = zl.TestServer(os.path.join(wd.path, "server"), "--auth-fail")
        api = harness.free_port()
        try:
            self.run_connector(wd, data, api, server)
            self.check_server(server)
        finally:
            server.stop()

    def run_connector(self, wd, data, api, server):
        # The file sink mirrors the same target: two lanes, told apart by the sink label.
        cfg = wd.write("config.yaml", zl.zerobus_config(data, api, server, record_format="json", sources=SOURCES,
                                                        source_targets="    {}", file_sink=True))
        proc = zl.start_connector(BINARY, cfg, os.path.join(wd.path, "connector.log"), wd.path)
        try:
            def refused():
                t = zl.get_json(api, "/api/status")["zerobus"]["targets"][0]
                return "HTTP 401" in t["last_error"] and t
            harness.wait_for(refused, 30, "the token refusal in /api/status")
            diag = zl.get_json(api, "/api/zerobus/diagnostics")
            self.assertFalse(diag["ok"])
            steps = {s["step"]: s for s in diag["targets"][0]["steps"]}
            self.assertTrue(steps["dns"]["ok"] and steps["tcp"]["ok"])
            self.assertFalse(steps["token"]["ok"])
            self.assertIn("HTTP 401", steps["token"]["detail"])
            self.assertNotIn("stream", steps)
            self.assertEqual(server.records(TABLE), [])
            self.assertEqual(zl.get_json(api, "/api/dlq")["targets"][0]["messages"], 0)

            server.control(auth_fail=False)
            harness.wait_for(lambda: len({(r["tag_name"], r["metadata"]["seq"]) for r in server.records(TABLE)})
                             == 2 * TICKS, 60, "every record after the credentials are accepted")
            recs = server.records(TABLE)
            self.assertEqual({r["tag_name"] for r in recs}, {"t1", "t2"})
            for key in ("event_time", "ingest_time", "source_name", "tag_path", "value_str", "quality"):
                self.assertIn(key, recs[0])
            self.assertIsInstance(recs[0]["event_time"], int)
            self.assertEqual(zl.get_json(api, "/api/dlq")["targets"][0]["messages"], 0)
            diag = zl.get_json(api, "/api/zerobus/diagnostics")
            self.assertTrue(diag["ok"], diag)
            metrics = harness.http_get(api, "/metrics")[2].decode()
            delivered = {}
            for line in metrics.splitlines():
                if line.startswith(f'uc_records_delivered_total{{target="{TABLE}",sink="'):
                    delivered[line.split('sink="')[1].split('"')[0]] = float(line.split()[-1])
            self.assertEqual(set(delivered), {"file", "zerobus"}, metrics)
            self.assertGreaterEqual(delivered["zerobus"], 2 * TICKS)
            harness.wait_for(lambda: len(harness.read_jsonl_dir(os.path.join(data, "files", TABLE))) >= 2 * TICKS, 30,
                             "the file sink's copy")
            with self.assertRaises(urllib.error.HTTPError) as e:
                harness.http_get(api, "/api/zerobus/diagnostics?target=x.y.z")
            self.assertEqual(e.exception.code, 404)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        self.assertEqual(proc.returncode, 0)

    def check_server(self, server):
        """The test server's own checks, with a raw gRPC client."""
        if True:
            import zerobus_test_server as zts
            pb = zts.pb
            ch = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
            call = ch.stream_stream("/databricks.zerobus.Zerobus/EphemeralStream",
                                    request_serializer=pb.EphemeralStreamRequest.SerializeToString,
                                    response_deserializer=pb.EphemeralStreamResponse.FromString)
            first = pb.EphemeralStreamRequest(ingest_record_batch=pb.IngestRecordBatchRequest(offset_id=0))
            with self.assertRaises(grpc.RpcError) as e:
                list(call(iter([first]), timeout=10))
            self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
            create = pb.EphemeralStreamRequest(create_stream=pb.CreateIngestStreamRequest(
                table_name=TABLE, record_type=pb.JSON))
            with self.assertRaises(grpc.RpcError) as e:
                list(call(iter([create]), timeout=10, metadata=[("authorization", "Bearer nope"),
                                                                 ("x-databricks-zerobus-table-name", TABLE)]))
            self.assertEqual(e.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
            ch.close()


if __name__ == "__main__":
    unittest.main()

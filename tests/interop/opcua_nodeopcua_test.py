"""Our OPC UA client against a real node-opcua server (npm node-opcua 2.182.2), loopback only.

- `browse`: FindServers, GetEndpoints, CreateSession/ActivateSession, Browse with BrowseNext
  (references capped at 4 per call), Read of DataType; the tree is exactly the server's.
- subscription and polling source: every common built-in type, arrays, nodes by namespace URI and by browse
  root + glob; values, OPC UA types, source timestamps, server timestamps and StatusCodes arrive
  exactly; Read is split by the server's MaxNodesPerRead (5).
- subscription mode: initial values exactly as polled, then changes as notifications.
- the server is killed mid-run (both modes): bad records with the cause, then data resumes
  after the restart without restarting the connector (a new session and subscription).
- monitored-item options: absolute and percent deadbands pass only changes beyond the
  threshold (fewer values than an unfiltered item on the same variable); a percent deadband on
  a variable without EURange is a bad record naming the status; queue_size > 1 delivers several
  values of one item per notification message, queue_size 1 at most one.
- nodes by browse path, translated in requests of at most the server's
  MaxNodesPerTranslateBrowsePathsToNodeIds (2); a path that does not exist is a bad record with
  the status name.
- UserName login (server without anonymous access, password encrypted with the server
  certificate): the right password reads values; a wrong one gives bad records naming
  BadUserAccessDenied, retried; anonymous is refused with a clear reason.
"""
import json
import os
import signal
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import harness  # noqa: E402

BINARY = os.environ["UC_BINARY"]
JS = os.path.join(HERE, "opcua-js")
SOURCE_TS_US = 1704164645678000  # 2024-01-02T03:04:05.678Z, set by server.js

FIXED = {  # browse name: (data type, value_type, value check)
    "Bool": ("Boolean", "bool", lambda r: r["value_bool"] is True),
    "SByte": ("SByte", "int64", lambda r: r["value_str"] == "-100"),
    "Byte": ("Byte", "uint64", lambda r: r["value_str"] == "200"),
    "Int16": ("Int16", "int64", lambda r: r["value_str"] == "-30000"),
    "UInt16": ("UInt16", "uint64", lambda r: r["value_str"] == "60000"),
    "Int32": ("Int32", "int64", lambda r: r["value_str"] == "-2000000000"),
    "UInt32": ("UInt32", "uint64", lambda r: r["value_str"] == "4000000000"),
    "Int64": ("Int64", "int64", lambda r: r["value_str"] == "-1234567890123"),
    "UInt64": ("UInt64", "uint64", lambda r: r["value_str"] == "18446744073709551615"),
    "Float": ("Float", "double", lambda r: r["value_num"] == 3.5),
    "Double": ("Double", "double", lambda r: r["value_num"] == -12345.678901234567),
    "String": ("String", "string", lambda r: r["value_str"] == "h\u00e9llo \u6c34"),
    "DateTime": ("DateTime", "string", lambda r: r["value_str"] == "2023-05-06T07:08:09.123Z"),
    "ByteString": ("ByteString", "bytes", lambda r: r["value_str"] == "AAEC/v8="),  # 00 01 02 FE FF
    "DoubleArray": ("Double", "array", lambda r: json.loads(r["value_str"]) == [1.5, -2.25, 3]),
    "Int32Array": ("Int32", "array", lambda r: json.loads(r["value_str"]) == [1, -2, 3, 2147483647]),
    "StringArray": ("String", "array", lambda r: json.loads(r["value_str"]) == ["a", "", "c"]),
}
STATUS = {0: (0, "good"), 1: (0x40900000, "uncertain"), 2: (0x808C0000, "bad")}  # Flaky: by value % 3


class NodeOpcuaServer:
    def __init__(self, port, pki, scale=0, users=False):
        if not os.path.isdir(os.path.join(JS, "node_modules", "node-opcua")):
            raise AssertionError("node-opcua is not installed: run scripts/install-deps.sh")
        args = ["node", os.path.join(JS, "server.js"), str(port), pki, str(scale)] + (["users"] if users else [])
        self.proc = subprocess.Popen(args, cwd=JS,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Blocks until READY (certificate generation takes seconds); node-opcua may log warnings
        # on stdout first. EOF means the server exited.
        line = self.proc.stdout.readline()
        while line and not line.startswith("READY"):
            line = self.proc.stdout.readline()
        if not line.startswith("READY"):
            self.proc.kill()
            raise AssertionError("node-opcua server did not start: " + line + self.proc.stderr.read())
        _, self.url, self.namespace = line.split()

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def config(work, url, namespace, mode="polling", extra=""):
    nodes = "".join(f'      - {{node_id: "nsu={namespace};s={name}", tag_name: {name.lower()}}}\n' for name in FIXED)
    nodes += f'      - {{node_id: "ns=1;s=Flaky", tag_name: flaky}}\n'
    nodes += f'      - {{node_id: "ns=1;s=Counter", tag_name: counter}}\n'
    nodes += f'      - {{node_id: "nsu=urn:not-on-this-server;s=X", tag_name: missing}}\n'
    text = (f'connector: {{name: opcua-test, log_level: info, data_dir: "{work.path}/data"}}\n'
            "web_ui: {enabled: false}\n"
            f'sinks: {{file: {{enabled: true, directory: "{work.path}/records"}}}}\n'
            "sources:\n"
            "  - name: ua\n    protocol: opcua\n"
            f"    endpoint: {url}\n    mode: {mode}\n    polling_interval_ms: 200\n"
            "    publishing_interval_ms: 200\n    sampling_interval_ms: 100\n"
            "    backoff_initial_ms: 100\n    backoff_max_ms: 500\n    timeout_ms: 2000\n" + extra +
            "    nodes:\n" + nodes +
            '    browse:\n      - {root: "Objects/1:Interop", pattern: "Many/Item1*", max_nodes: 100}\n')
    return work.write("config.yaml", text)


class NodeOpcuaInterop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = harness.Workdir("uc-opcua-")
        cls.port = harness.free_port()
        cls.pki = os.path.join(cls.work.path, "pki")
        cls.server = NodeOpcuaServer(cls.port, cls.pki)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_browse_lists_the_tree_with_browse_next_and_data_types(self):
        r = subprocess.run([BINARY, "browse", self.server.url, "--root", "ns=1;s=Interop", "--json", "--endpoints",
                            "--max-references", "4"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [json.loads(x) for x in r.stdout.splitlines()]
        endpoints = [x for x in lines if "endpoint" in x]
        self.assertTrue(any(e["security_policy"].endswith("#None") and e["security_mode"] == "None"
                            and "Anonymous" in e["user_tokens"] for e in endpoints), endpoints)
        self.assertTrue(any("server" in x for x in lines))
        nodes = {x["browse_name"]: x for x in lines if "node_id" in x}
        for name, (dtype, _, _) in FIXED.items():
            self.assertEqual(nodes["1:" + name]["data_type"], dtype, name)
            self.assertEqual(nodes["1:" + name]["node_id"], "ns=1;s=" + name)
            self.assertEqual(nodes["1:" + name]["node_class"], "Variable")
        self.assertEqual(nodes["1:Many"]["node_class"], "Object")
        items = [x for x in lines if x.get("path", "").startswith("1:Many/")]
        # 25 children read 4 at a time: Browse + 6 BrowseNext, nothing lost or repeated.
        self.assertEqual(sorted(x["browse_name"] for x in items), [f"1:Item{i:02d}" for i in range(25)])

    def test_browse_of_a_dead_endpoint_fails_clearly(self):
        r = subprocess.run([BINARY, "browse", f"opc.tcp://127.0.0.1:{harness.free_port()}"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("refused", r.stderr)

    def read(self, mode, batches):
        cfg = config(self.work, self.server.url, self.server.namespace, mode)
        r = subprocess.run([BINARY, "read", "--config", cfg, "--source", "ua", "--batches", str(batches),
                            "--timeout-ms", "30000"], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(x) for x in r.stdout.splitlines() if x.strip()]

    def check_exact(self, recs):
        by_tag = {}
        for rec in recs:
            by_tag.setdefault(rec["tag_name"], []).append(rec)
        for name, (dtype, vtype, check) in FIXED.items():
            with self.subTest(name=name):
                rec = by_tag[name.lower()][0]
                self.assertEqual(rec["quality"], "good", rec)
                self.assertEqual(rec["status_code"], 0)
                self.assertEqual(rec["value_type"], vtype, rec)
                self.assertTrue(check(rec), rec)
                self.assertEqual(rec["metadata"]["data_type"], dtype)
                self.assertEqual(rec["event_time"], SOURCE_TS_US)
                self.assertIn("opcua_server_time_us", rec["metadata"])
        for rec in by_tag["flaky"]:
            value = int(rec["value_str"])
            self.assertEqual((rec["status_code"], rec["quality"]), STATUS[value % 3], rec)
            self.assertEqual(rec["event_time"], value * 1_000_000)
        self.assertEqual(by_tag["missing"][0]["quality"], "bad")
        return by_tag

    def test_subscription_delivers_values_timestamps_statuses_and_changes(self):
        recs = self.read("subscription", 6)
        by_tag = self.check_exact(recs)
        # Changes arrive as notifications: the counter moves second by second.
        counter = [int(r["value_str"]) for r in by_tag["counter"]]
        self.assertGreaterEqual(len(counter), 2, counter)
        self.assertEqual(counter, sorted(set(counter)), counter)
        self.assertTrue(any(r["address"] == "ns=1;s=Many.12" and r["value_str"] == "12" for r in recs))

    def test_polling_delivers_values_types_timestamps_and_statuses_exactly(self):
        cfg = config(self.work, self.server.url, self.server.namespace)
        r = subprocess.run([BINARY, "read", "--config", cfg, "--source", "ua", "--batches", "4", "--timeout-ms",
                            "30000"], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        recs = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        by_tag = {}
        for rec in recs:
            by_tag.setdefault(rec["tag_name"], []).append(rec)
        for name, (dtype, vtype, check) in FIXED.items():
            with self.subTest(name=name):
                got = by_tag[name.lower()]
                self.assertEqual(len(got), 4)
                rec = got[0]
                self.assertEqual(rec["quality"], "good", rec)
                self.assertEqual(rec["status_code"], 0)
                self.assertEqual(rec["value_type"], vtype, rec)
                self.assertTrue(check(rec), rec)
                self.assertEqual(rec["metadata"]["data_type"], dtype)
                self.assertEqual(rec["event_time"], SOURCE_TS_US)  # the source timestamp, to the microsecond
                server_time = int(rec["metadata"]["opcua_server_time_us"])
                self.assertLess(abs(server_time - rec["ingest_time"]), 60_000_000)
                self.assertEqual(rec["address"], f"nsu={self.server.namespace};s={name}")
        # Flaky: the StatusCode follows the value; the source timestamp is the value's second.
        seen = set()
        for rec in by_tag["flaky"]:
            value = int(rec["value_str"])
            code, quality = STATUS[value % 3]
            self.assertEqual(rec["status_code"], code, rec)
            self.assertEqual(rec["quality"], quality, rec)
            self.assertEqual(rec["event_time"], value * 1_000_000)
            self.assertEqual(rec["metadata"]["data_type"], "UInt32")
            seen.add(quality)
        self.assertTrue(seen)
        # A namespace URI the server does not have: a bad record with the reason, never a crash.
        missing = by_tag["missing"][0]
        self.assertEqual(missing["quality"], "bad")
        self.assertIn("urn:not-on-this-server", missing["metadata"]["quality_reason"])
        # Discovered under the browse root by glob: Item1 and Item10..Item19 (2-digit names).
        discovered = sorted({rec["address"] for rec in recs if rec["address"].startswith("ns=1;s=Many.")})
        self.assertEqual(discovered, sorted(f"ns=1;s=Many.{i}" for i in range(10, 20)))
        item12 = next(rec for rec in recs if rec["address"] == "ns=1;s=Many.12")
        self.assertEqual(item12["value_str"], "12")
        self.assertEqual(item12["metadata"]["data_type"], "Int32")


def source_config(work, url, body, name="config.yaml"):
    return work.write(name, (
        f'connector: {{name: opcua-test, log_level: info, data_dir: "{work.path}/data"}}\n'
        "web_ui: {enabled: false}\n"
        f'sinks: {{file: {{enabled: true, directory: "{work.path}/records"}}}}\n'
        "sources:\n"
        f"  - name: ua\n    protocol: opcua\n    endpoint: {url}\n"
        "    backoff_initial_ms: 100\n    backoff_max_ms: 500\n    timeout_ms: 5000\n" + body))


def read_records(cfg, batches, timeout_ms=30000):
    r = subprocess.run([BINARY, "read", "--config", cfg, "--source", "ua", "--batches", str(batches),
                        "--timeout-ms", str(timeout_ms)], capture_output=True, text=True, timeout=120)
    return r, [json.loads(x) for x in r.stdout.splitlines() if x.strip()]


class MonitoredItemOptions(unittest.TestCase):
    """Deadband, queue size and browse paths."""

    @classmethod
    def setUpClass(cls):
        cls.work = harness.Workdir("uc-opcua-items-")
        cls.server = NodeOpcuaServer(harness.free_port(), os.path.join(cls.work.path, "pki"))

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    # Deadband/Analog (EURange 0..200) and Deadband/Plain change every 100 ms by steps of 1,
    # then a jump of 36 or 44 every fifth step (server.js).
    def test_deadbands_pass_only_changes_beyond_the_threshold_and_queues_hold_several_values(self):
        body = ("    mode: subscription\n    publishing_interval_ms: 500\n    sampling_interval_ms: 50\n"
                "    queue_size: 20\n"
                "    nodes:\n"
                "      - {node_id: \"ns=1;s=Deadband.Analog\", tag_name: unfiltered}\n"
                "      - {node_id: \"ns=1;s=Deadband.Analog\", tag_name: latest, queue_size: 1}\n"
                "      - {node_id: \"ns=1;s=Deadband.Analog\", tag_name: absolute,"
                " deadband: {type: absolute, value: 5}}\n"
                "      - {node_id: \"ns=1;s=Deadband.Analog\", tag_name: percent,"
                " deadband: {type: percent, value: 5}}\n"
                "      - {node_id: \"ns=1;s=Deadband.Plain\", tag_name: plain_absolute,"
                " deadband: {type: absolute, value: 5}}\n"
                "      - {node_id: \"ns=1;s=Deadband.Plain\", tag_name: plain_percent,"
                " deadband: {type: percent, value: 5}}\n")
        cfg = source_config(self.work, self.server.url, body, "deadband.yaml")
        r, recs = read_records(cfg, 8)
        self.assertEqual(r.returncode, 0, r.stderr)
        by_tag = {}
        for rec in recs:
            by_tag.setdefault(rec["tag_name"], []).append(rec)

        # Percent on a variable without EURange: the server refuses the item, a bad record names why.
        bad = by_tag["plain_percent"]
        self.assertEqual(len(bad), 1, bad)
        self.assertEqual(bad[0]["quality"], "bad")
        self.assertIn(bad[0]["metadata"]["quality_reason"], ("BadFilterNotAllowed", "BadDeadbandFilterInvalid",
                                                              "BadMonitoredItemFilterUnsupported"))

        def values(tag):
            got = by_tag[tag]
            self.assertTrue(all(x["quality"] == "good" for x in got), got)
            return [x["value_num"] for x in got]

        unfiltered = values("unfiltered")
        for tag, threshold in (("absolute", 5), ("percent", 0.05 * 200), ("plain_absolute", 5)):
            with self.subTest(tag=tag):
                got = values(tag)
                self.assertGreaterEqual(len(got), 2, got)
                for a, b in zip(got, got[1:]):
                    self.assertGreater(abs(b - a), threshold, got)
                # Small steps were filtered: far fewer values than the unfiltered item's.
                self.assertLess(len(got) * 2, len(unfiltered), (got, unfiltered))
        # Unfiltered, the steps of 1 arrive too.
        self.assertTrue(any(abs(b - a) == 1 for a, b in zip(unfiltered, unfiltered[1:])), unfiltered)

        # One notification message is one batch with one receive time: queue_size 20 gives
        # several values of the item per message (changes every 100 ms, published every 500 ms),
        # queue_size 1 only the latest.
        def per_message(tag):
            counts = {}
            for x in by_tag[tag]:
                counts[x["ingest_time"]] = counts.get(x["ingest_time"], 0) + 1
            return counts
        self.assertGreaterEqual(max(per_message("unfiltered").values()), 3, per_message("unfiltered"))
        self.assertEqual(max(per_message("latest").values()), 1, per_message("latest"))

    def test_nodes_by_browse_path(self):
        body = ("    mode: polling\n    polling_interval_ms: 200\n"
                "    nodes:\n"
                "      - {browse_path: \"Objects/1:Interop/Double\", tag_name: bp_double}\n"
                "      - {browse_path: \"Objects/Interop/Int32\", tag_name: bp_int32}\n"
                "      - {browse_path: \"Root/Objects/1:Interop/Many/Item03\", tag_name: bp_item03}\n"
                "      - {browse_path: \"Objects/1:Interop/NoSuchNode\", tag_name: bp_missing}\n"
                "      - {browse_path: \"Objects/NoSuchFolder/Double\", tag_name: bp_missing_plain}\n")
        cfg = source_config(self.work, self.server.url, body, "paths.yaml")
        r, recs = read_records(cfg, 2)
        self.assertEqual(r.returncode, 0, r.stderr)
        by_tag = {rec["tag_name"]: rec for rec in recs}
        self.assertEqual(by_tag["bp_double"]["value_num"], -12345.678901234567, by_tag["bp_double"])
        self.assertEqual(by_tag["bp_double"]["address"], "Objects/1:Interop/Double")
        self.assertEqual(by_tag["bp_double"]["metadata"]["data_type"], "Double")
        # "Interop" without a namespace index is not in namespace 0: found by browsing instead.
        self.assertEqual(by_tag["bp_int32"]["value_str"], "-2000000000", by_tag["bp_int32"])
        self.assertEqual(by_tag["bp_item03"]["value_str"], "3", by_tag["bp_item03"])
        for tag in ("bp_missing", "bp_missing_plain"):
            rec = by_tag[tag]
            self.assertEqual(rec["quality"], "bad", rec)
            self.assertIn("BadNoMatch", rec["metadata"]["quality_reason"], rec)
            self.assertEqual(rec["status_code"], 0x806F0000, rec)  # the server's status, not a stand-in
        self.assertIn("no node named NoSuchFolder below Objects", by_tag["bp_missing_plain"]["metadata"]["quality_reason"])


class UserLogin(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = harness.Workdir("uc-opcua-users-")
        cls.server = NodeOpcuaServer(harness.free_port(), os.path.join(cls.work.path, "pki"), users=True)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def login(self, security, batches):
        body = ("    mode: polling\n    polling_interval_ms: 200\n" + security +
                "    nodes: [{node_id: \"ns=1;s=Double\", tag_name: double}]\n")
        return read_records(source_config(self.work, self.server.url, body), batches)

    def test_the_right_password_reads_values(self):
        r, recs = self.login("    security: {policy: None, mode: None, username: operator, password: s3cret-pw}\n", 2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([x["quality"] for x in recs], ["good", "good"], recs)
        self.assertEqual(recs[0]["value_num"], -12345.678901234567)

    def test_a_wrong_password_gives_bad_records_and_retries(self):
        body = ("    mode: subscription\n"
                "    security: {policy: None, mode: None, username: operator, password: wrong-pw-123}\n"
                "    nodes: [{node_id: \"ns=1;s=Double\", tag_name: double}]\n")
        api = harness.free_port()
        cfg = source_config(self.work, self.server.url, body, "wrong.yaml")
        with open(cfg) as f:
            text = f.read().replace("web_ui: {enabled: false}", f"web_ui: {{enabled: true, port: {api}}}")
        with open(cfg, "w") as f:
            f.write(text)
        run = subprocess.Popen([BINARY, "run", "--config", cfg], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        records_dir = os.path.join(self.work.path, "records", "default")

        def denied():
            if not os.path.isdir(records_dir):
                return []
            return [r for r in harness.read_jsonl_dir(records_dir)
                    if "BadUserAccessDenied" in r["metadata"].get("quality_reason", "")]
        try:
            # Retried with back-off (100..500 ms): several refused attempts, each a bad record.
            got = harness.wait_for(lambda: len(denied()) >= 3 and denied(), 30, "three refused logins")
            self.assertIsNone(run.poll(), "the connector died")
            # The source's state says why.
            source = json.loads(harness.http_get(api, "/api/status")[2])["sources"][0]
            self.assertEqual(source["state"], "connecting", source)
            self.assertIn("BadUserAccessDenied", source["last_error"], source)
            self.assertGreaterEqual(source["errors"], 3, source)
        finally:
            run.send_signal(signal.SIGTERM)
            out, err = run.communicate(timeout=30)
        self.assertEqual(run.returncode, 0, err)
        for x in got:
            self.assertEqual(x["quality"], "bad", x)
            self.assertIn("ActivateSession (user operator): service result BadUserAccessDenied",
                          x["metadata"]["quality_reason"], x)
        self.assertEqual(len({x["ingest_time"] for x in got}), len(got))  # separate attempts
        self.assertNotIn("wrong-pw-123", err + out)  # the password is never logged
        # The very first failure is logged, not only later losses of a connection.
        self.assertRegex(err, r"not connected to \S+: ActivateSession \(user operator\): .*BadUserAccessDenied")

    def test_anonymous_is_refused_clearly(self):
        r, recs = self.login("", 2)
        self.assertEqual(r.returncode, 0, r.stderr)
        for x in recs:
            self.assertEqual(x["quality"], "bad", x)
            self.assertIn("the server offers no anonymous login", x["metadata"]["quality_reason"], x)


class ManyItems(unittest.TestCase):
    def test_ten_thousand_monitored_items_all_arrive_and_change(self):
        work = harness.Workdir("uc-opcua-many-")
        server = NodeOpcuaServer(harness.free_port(), os.path.join(work.path, "pki"), scale=10000)
        try:
            cfg = work.write("config.yaml", (
                f'connector: {{name: many, log_level: warn, data_dir: "{work.path}/data"}}\n'
                "web_ui: {enabled: false}\n"
                f'sinks: {{file: {{enabled: true, directory: "{work.path}/records"}}}}\n'
                "sources:\n"
                f"  - {{name: ua, protocol: opcua, endpoint: \"{server.url}\", mode: subscription,\n"
                "     publishing_interval_ms: 1000, sampling_interval_ms: 1000,\n"
                '     browse: [{root: "Objects/1:Interop/1:Scale", pattern: "*", max_nodes: 10000}]}\n'))
            # Initial values plus two changes per item, in notification messages of up to 1000.
            r = subprocess.run([BINARY, "read", "--config", cfg, "--source", "ua", "--batches", "30",
                                "--timeout-ms", "60000"], capture_output=True, text=True, timeout=120)
        finally:
            server.stop()
        self.assertEqual(r.returncode, 0, r.stderr)
        counts = {}
        for line in r.stdout.splitlines():
            rec = json.loads(line)
            self.assertEqual(rec["quality"], "good", rec)
            i = int(rec["address"].rsplit(".", 1)[1])
            # server.js sets V<i> to (epoch second + i) with that second as source timestamp
            self.assertEqual(float(rec["value_str"]), rec["event_time"] // 1_000_000 + i, rec)
            counts[i] = counts.get(i, 0) + 1
        self.assertEqual(sorted(counts), list(range(10000)))
        self.assertGreaterEqual(max(counts.values()), 2)  # changes arrive as notifications too


class RestartedServer(unittest.TestCase):
    def test_polling_resumes_after_the_server_is_killed_and_restarted(self):
        self.restart("polling")

    def test_subscription_resumes_after_the_server_is_killed_and_restarted(self):
        self.restart("subscription")

    def restart(self, mode):
        work = harness.Workdir("uc-opcua-restart-")
        port = harness.free_port()
        pki = os.path.join(work.path, "pki")
        server = NodeOpcuaServer(port, pki)
        cfg = config(work, server.url, server.namespace, mode)
        run = subprocess.Popen([BINARY, "run", "--config", cfg], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        records_dir = os.path.join(work.path, "records", "default")

        def double(quality):
            if not os.path.isdir(records_dir):
                return []
            return [r for r in harness.read_jsonl_dir(records_dir) if r["tag_name"] == "double"
                    and r["quality"] == quality]

        try:
            harness.wait_for(lambda: double("good"), 30, "good records")
            server.kill()
            bad = harness.wait_for(lambda: double("bad"), 30, "bad records after the kill")
            self.assertTrue(bad[0]["metadata"].get("quality_reason"), bad[0])
            harness.wait_for(lambda: any("refused" in r["metadata"].get("quality_reason", "") for r in double("bad")),
                             30, "a refused reconnect")
            last_bad = max(r["ingest_time"] for r in double("bad"))
            server = NodeOpcuaServer(port, pki)
            # Polling reads the fixed Double again; a new subscription sends its initial value.
            resumed = harness.wait_for(lambda: [r for r in double("good") if r["ingest_time"] > last_bad], 30,
                                       "good records after the restart")
            self.assertEqual(resumed[0]["event_time"], SOURCE_TS_US)
            self.assertIsNone(run.poll(), "the connector died")
        finally:
            server.stop()
            run.send_signal(signal.SIGTERM)
            out, err = run.communicate(timeout=30)
        self.assertEqual(run.returncode, 0, err)
        self.assertIn("reconnected", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)

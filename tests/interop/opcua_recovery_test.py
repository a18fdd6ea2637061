"""Recovery of an OPC UA subscription when the connection breaks but the server lives on.

A loopback proxy (tests/lib/uaproxy.py) sits between the connector and the server.

Against a real node-opcua 2.182.2 server:
- the secure channel token (lifetime 2 s) is renewed again and again on the one connection
  while Publish requests are outstanding;
- the connection is cut and refused for a while: the connector reconnects, re-activates
  its old session (no new session, no new subscription) and data resumes;
- one PublishResponse carrying notifications is dropped on the way and the connection
  cut: after re-activating the session the connector sees the sequence gap and gets that
  very NotificationMessage again with Republish (counted as republished, none lost);
- the connection goes silent but stays open: the keep-alive watchdog closes it and the
  session is re-activated on a new one.

Against node-opcua with a UserName session: the connection stays down longer than the
session timeout; the new session takes the old subscription over with TransferSubscriptions
and the gap is recovered with Republish.

Against our own simulator:
- the connection breaks during discovery, and again between CreateSubscription and
  CreateMonitoredItems: the re-activated session is not taken as ready; tags are resolved
  and monitored items made again (before the fix the source went on without them);
- the connection stays down longer than the session timeout (1 s) but shorter than the
  subscription's lifetime: re-activation fails, a new session takes the old subscription
  over with TransferSubscriptions (none re-created) and data resumes.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import harness  # noqa: E402
import uaproxy  # noqa: E402
from opcua_nodeopcua_test import NodeOpcuaServer  # noqa: E402

BINARY = os.environ["UC_BINARY"]


def metric(api, name):
    _, _, body = harness.http_get(api, "/metrics")
    m = re.search(r"^uc_" + name + r'\{source="ua"\} (\S+)$', body.decode(), re.M)
    return float(m.group(1)) if m else None


class Connector:
    def __init__(self, work, endpoint, nodes, extra=""):
        self.api = harness.free_port()
        self.records = os.path.join(work.path, "records")
        cfg = work.write("run.yaml", (
            f'connector: {{name: recovery, log_level: info, data_dir: "{work.path}/data"}}\n'
            f"web_ui: {{enabled: true, host: 127.0.0.1, port: {self.api}}}\n"
            f'sinks: {{file: {{enabled: true, directory: "{self.records}"}}}}\n'
            "sources:\n  - name: ua\n    protocol: opcua\n"
            f"    endpoint: {endpoint}\n    mode: subscription\n"
            "    publishing_interval_ms: 200\n    sampling_interval_ms: 100\n"
            "    backoff_initial_ms: 100\n    backoff_max_ms: 300\n    timeout_ms: 2000\n" + extra +
            "    nodes:\n" + "".join(f'      - {{node_id: "{n}", tag_name: {t}}}\n' for n, t in nodes)))
        self.log_path = os.path.join(work.path, "run.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([BINARY, "run", "--config", cfg], stdout=self.log, stderr=subprocess.STDOUT)

    def metric(self, name):
        return metric(self.api, name)

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def good_after(self, tag, t_us):
        d = os.path.join(self.records, "default")
        if not os.path.isdir(d):
            return []
        return [r for r in harness.read_jsonl_dir(d)
                if r["tag_name"] == tag and r["quality"] == "good" and r["ingest_time"] > t_us]

    def bad(self, tag):
        d = os.path.join(self.records, "default")
        if not os.path.isdir(d):
            return []
        return [r for r in harness.read_jsonl_dir(d) if r["tag_name"] == tag and r["quality"] == "bad"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.log.close()
        return self.proc.returncode


def now_us():
    return int(time.time() * 1_000_000)


def start_simulator(work):
    """Our OPC UA simulator (10 plant variables) and a proxy in front of it."""
    port = harness.free_port()
    cfg = work.write("sim.yaml", (
        "connector: {name: sim, log_level: warn}\nsimulator:\n  enabled: true\n"
        "  modbus: {enabled: false}\n  mqtt: {enabled: false}\n"
        f"  opcua: {{enabled: true, port: {port}, variables: 10}}\n"))
    sim = harness.start(BINARY, "simulate", "--config", cfg)

    def up():
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    harness.wait_for(up, 30, "the OPC UA simulator")
    return sim, uaproxy.UaProxy(port)


def stop_all(connector, proxy, sim):
    """Stops the connector (its exit code is returned), the proxy and the simulator."""
    code = connector.stop()
    proxy.close()
    sim.send_signal(signal.SIGTERM)
    sim.communicate(timeout=30)
    return code


class NodeOpcuaRecovery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = harness.Workdir("uc-opcua-recovery-")
        cls.server = NodeOpcuaServer(harness.free_port(), os.path.join(cls.work.path, "pki"))
        m = re.match(r"opc\.tcp://[^/]+:(\d+)(/.*)?$", cls.server.url)
        cls.proxy = uaproxy.UaProxy(int(m.group(1)))
        path = m.group(2) or ""
        cls.connector = Connector(cls.work, cls.proxy.url(path), [("ns=1;s=Counter", "counter")],
                                  extra="    channel_lifetime_ms: 2000\n")
        harness.wait_for(lambda: cls.connector.good_after("counter", 0), 60, "first values")

    @classmethod
    def tearDownClass(cls):
        code = cls.connector.stop()
        cls.proxy.close()
        cls.server.stop()
        assert code == 0, cls.connector.text()

    def test_0_the_channel_token_is_renewed_while_publishing(self):
        c = self.connector
        # Lifetime 2 s: renewed every 1.5 s, with Publish requests outstanding meanwhile.
        harness.wait_for(lambda: c.metric("opcua_token_renewals_total") >= 3, 30, "three token renewals")
        self.assertEqual(c.metric("reconnections_total"), 0, c.text())
        self.assertEqual(self.proxy.connections, 1)
        t = now_us()
        harness.wait_for(lambda: c.good_after("counter", t), 30, "values after the renewals")

    def test_1_a_cut_connection_resumes_the_same_session_and_subscription(self):
        c = self.connector
        self.assertEqual(c.metric("opcua_subscriptions_created_total"), 1)
        before = c.metric("opcua_session_reactivations_total")
        self.proxy.refuse(True)
        self.proxy.cut()
        harness.wait_for(lambda: c.bad("counter"), 20, "bad records while the connection is down")
        time.sleep(1)  # a few refused reconnects
        cut_end = now_us()
        self.proxy.refuse(False)
        harness.wait_for(lambda: c.metric("opcua_session_reactivations_total") > before, 30, "a re-activated session")
        harness.wait_for(lambda: c.good_after("counter", cut_end), 30, "values after the cut")
        self.assertEqual(c.metric("opcua_subscriptions_created_total"), 1, c.text())
        self.assertEqual(c.metric("opcua_subscription_transfers_total"), 0)
        self.assertIn("session re-activated", c.text())
        self.assertIsNone(c.proc.poll())

    def test_2_a_lost_publish_response_is_recovered_with_republish(self):
        c = self.connector
        before = c.metric("opcua_notifications_republished_total")
        self.proxy.drop_next_data_publish()
        harness.wait_for(lambda: self.proxy.dropped, 30, "a dropped PublishResponse")
        seq = self.proxy.dropped[0]
        harness.wait_for(lambda: c.metric("opcua_notifications_republished_total") > before, 30, "a Republish")
        self.assertEqual(c.metric("opcua_notifications_lost_total"), 0, c.text())
        self.assertEqual(c.metric("opcua_subscriptions_created_total"), 1, c.text())
        gaps = [tuple(map(int, m)) for m in re.findall(r"sequence gap (\d+)\.\.(\d+): (\d+) notifications recovered",
                                                       c.text())]
        self.assertTrue(any(lo <= seq <= hi and rec >= 1 for lo, hi, rec in gaps), (seq, gaps))

    def test_3_a_silent_connection_trips_the_watchdog(self):
        c = self.connector
        before = c.metric("opcua_session_reactivations_total")
        self.proxy.freeze(True)  # the socket stays open, nothing arrives
        try:
            # Watchdog: publishing interval 200 ms × keep-alive count 10 + timeout 2 s.
            harness.wait_for(lambda: "no answer from the server within" in c.text(), 30, "the watchdog")
        finally:
            self.proxy.freeze(False)
        thawed = now_us()
        harness.wait_for(lambda: c.metric("opcua_session_reactivations_total") > before, 30, "a re-activated session")
        harness.wait_for(lambda: c.good_after("counter", thawed), 30, "values after the watchdog")
        self.assertEqual(c.metric("opcua_subscriptions_created_total"), 1, c.text())


class NodeOpcuaUserTransfer(unittest.TestCase):
    def test_a_user_session_that_timed_out_hands_its_subscription_to_the_new_one(self):
        # node-opcua transfers a subscription between sessions of the same user (an anonymous
        # one would need a signed channel). Its GoodSubscriptionTransferred notice reaches
        # the new owner too and must not count as losing the subscription.
        work = harness.Workdir("uc-opcua-usertransfer-")
        server = NodeOpcuaServer(harness.free_port(), os.path.join(work.path, "pki"), users=True)
        m = re.match(r"opc\.tcp://[^/]+:(\d+)(/.*)?$", server.url)
        proxy = uaproxy.UaProxy(int(m.group(1)))
        c = Connector(work, proxy.url(m.group(2) or ""), [("ns=1;s=Counter", "counter")],
                      extra=("    session_timeout_ms: 1000\n    keep_alive_count: 20\n"
                             "    security: {policy: None, mode: None, username: operator, password: s3cret-pw}\n"))
        try:
            harness.wait_for(lambda: c.good_after("counter", 0), 60, "first values")
            proxy.refuse(True)
            proxy.cut()
            time.sleep(4)  # the session (1 s) times out; the subscription (12 s) does not
            back = now_us()
            proxy.refuse(False)
            harness.wait_for(lambda: c.metric("opcua_subscription_transfers_total") == 1, 30, "a transfer")
            harness.wait_for(lambda: c.good_after("counter", back), 30, "values after the transfer")
            time.sleep(1)  # room for a wrong reaction to the transfer notice
            self.assertEqual(c.metric("opcua_subscriptions_created_total"), 1, c.text())
            self.assertEqual(c.metric("opcua_notifications_lost_total"), 0, c.text())
            self.assertEqual(c.text().count("reconnected to"), 1, c.text())  # once, not again after the notice
            self.assertIn("BadSessionIdInvalid", c.text())
        finally:
            code = c.stop()
            proxy.close()
            server.stop()
        self.assertEqual(code, 0, c.text())


class SimulatorHalfSetUp(unittest.TestCase):
    """The connection breaks half way through setting up (during discovery, then between
    CreateSubscription and CreateMonitoredItems): the re-activated session must not be
    taken as ready. The source resolves its tags and makes its monitored items again."""

    def run_cut_at(self, encoding_id, what):
        work = harness.Workdir("uc-opcua-halfway-")
        sim, proxy = start_simulator(work)
        proxy.cut_at_request(encoding_id)
        c = Connector(work, proxy.url(), [("nsu=urn:unified-connector:simulator;s=Demo.Dynamic.Counter", "counter")],
                      extra='    browse:\n      - {root: "Objects/1:Plant", pattern: "**", max_nodes: 10}\n')
        try:
            harness.wait_for(lambda: proxy.cut_requests, 30, what)
            d = os.path.join(c.records, "default")

            def discovered_good():
                if not os.path.isdir(d):
                    return set()
                return {r["address"] for r in harness.read_jsonl_dir(d)
                        if r["quality"] == "good" and "Demo" not in r["address"]}
            # All ten discovered variables and the configured one deliver good values.
            harness.wait_for(lambda: len(discovered_good()) == 10, 30, "the discovered variables")
            harness.wait_for(lambda: c.good_after("counter", 0), 30, "the configured variable")
            self.assertIn("session re-activated", c.text())
        finally:
            code = stop_all(c, proxy, sim)
        self.assertEqual(code, 0, c.text())

    def test_a_break_during_discovery(self):
        self.run_cut_at(527, "a cut at the first Browse")  # BrowseRequest

    def test_a_break_before_the_monitored_items_exist(self):
        self.run_cut_at(751, "a cut at CreateMonitoredItems")  # CreateMonitoredItemsRequest


class SimulatorTransfer(unittest.TestCase):
    def test_a_new_session_takes_the_subscription_over_after_the_session_timed_out(self):
        work = harness.Workdir("uc-opcua-transfer-")
        sim, proxy = start_simulator(work)
        ns = "urn:unified-connector:simulator"
        # Session timeout 1 s; subscription lifetime 3 × 20 × 200 ms = 12 s.
        c = Connector(work, proxy.url(), [(f"nsu={ns};s=Demo.Dynamic.Counter", "counter")],
                      extra="    session_timeout_ms: 1000\n    keep_alive_count: 20\n")
        try:
            harness.wait_for(lambda: c.good_after("counter", 0), 30, "first values")
            proxy.refuse(True)
            proxy.cut()
            time.sleep(3)  # longer than the session timeout, shorter than the lifetime
            back = now_us()
            proxy.refuse(False)
            harness.wait_for(lambda: c.metric("opcua_subscription_transfers_total") == 1, 30, "a transfer")
            harness.wait_for(lambda: c.good_after("counter", back), 30, "values after the transfer")
            self.assertEqual(c.metric("opcua_subscriptions_created_total"), 1, c.text())
            self.assertEqual(c.metric("opcua_session_reactivations_total"), 0)
            self.assertIn("session not re-activated", c.text())
        finally:
            code = stop_all(c, proxy, sim)
        self.assertEqual(code, 0, c.text())


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""Proof 1 and the coalescing count: our Modbus source against a python3-pymodbus
3.0 TCP server holding known values of every type in all four word orders (encoded by
pymodbus's own BinaryPayloadBuilder), for two unit ids on one connection: every
decoded value matches exactly, and one poll costs exactly the coalesced requests."""
import os
import subprocess
import unittest

import modbus_peer_values as values
import modbus_testlib as lib
from modbus_testlib import harness


class PymodbusPeer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = harness.Workdir("uc-modbus-pymodbus-")
        cls.port = harness.free_port()
        cls.log = os.path.join(cls.work.path, "requests.log")
        cls.server = lib.start_pymodbus_tcp(cls.port, cls.log)
        regs = lib.peer_registers(values.tags())
        cls.config = lib.write_config(cls.work, lib.yaml_source(
            "peer", f"modbus://127.0.0.1:{cls.port}", regs, unit_ids=[1, 2], poll_interval_ms=600000))

    @classmethod
    def tearDownClass(cls):
        lib.stop(cls.server)

    def test_every_type_in_every_order_decodes_exactly_and_reads_are_coalesced(self):
        open(self.log, "w").close()
        records = lib.read_records(self.config, "peer")
        by_address = {r["address"]: r for r in records}
        tags = values.tags()
        self.assertEqual(len(records), 2 * len(tags))
        for unit in (1, 2):
            for t in tags:
                with self.subTest(unit=unit, tag=t["name"]):
                    rec = by_address[f"{unit}/{t['table']}/{t['address']}"]
                    self.assertEqual(rec["tag_name"], f"{t['name']}_u{unit}")
                    self.assertEqual(rec["protocol"], "modbus")
                    lib.check_value(self, rec, t["type"], t["value"])
        # Per unit: holding 0..114 (gaps of 5 <= max_gap 10) is one read, input one,
        # coils one, discrete inputs one: 8 requests for 192 tags.
        with open(self.log) as f:
            reads = [line.split() for line in f if line.strip()]
        self.assertEqual(len(reads), 8, reads)
        self.assertEqual(sorted((u, fc) for u, fc, _a, _c in reads),
                         sorted((str(u), str(fc)) for u in (1, 2) for fc in (1, 2, 3, 4)))
        for _u, fc, address, count in reads:
            self.assertEqual(address, "0")
            self.assertEqual(count, "115" if fc in ("3", "4") else "10")

    def test_max_gap_zero_splits_at_every_hole(self):
        open(self.log, "w").close()
        cfg = lib.write_config(self.work, lib.yaml_source(
            "peer0", f"modbus://127.0.0.1:{self.port}",
            [{"name": "a", "table": "holding", "address": 0, "type": "int16"},
             {"name": "b", "table": "holding", "address": 1, "type": "uint16"},
             {"name": "c", "table": "holding", "address": 6, "type": "float32", "byte_order": "ABCD"},
             {"name": "d", "table": "holding", "address": 36, "type": "float32", "byte_order": "CDAB"}],
            max_gap=0, poll_interval_ms=600000))
        records = lib.read_records(cfg, "peer0")
        self.assertEqual(len(records), 4)
        with open(self.log) as f:
            reads = [line.split() for line in f if line.strip()]
        self.assertEqual([(a, c) for _u, _fc, a, c in reads], [("0", "2"), ("6", "2"), ("36", "2")])

    def test_all_orders_shows_every_order_side_by_side(self):
        r = subprocess.run([lib.BINARY, "read", "--config", self.config, "--source", "peer", "--all-orders"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["tag", "address", "type", "ABCD", "CDAB", "BADC", "DCBA"])
        rows = {line.split()[0]: line.split() for line in lines[1:-1]}
        # The CDAB float32 of unit 1: only the CDAB column holds pi, and it is marked.
        row = rows["h_cdab_f32_u1"]
        self.assertEqual(row[1:3], ["1/holding/36", "float32"])
        self.assertEqual(row[4:6], ["3.1415927410125732", "*"])
        self.assertNotEqual(row[3], "3.1415927410125732")
        self.assertIn("h_dcba_u64_u2", rows)
        self.assertNotIn("coil_0_u1", rows)  # bits have no byte order
        self.assertNotIn("h_abcd_str_u1", rows)

    def test_all_orders_refuses_other_protocols(self):
        cfg = self.work.write("syn.yaml", "connector: {name: x}\nsources:\n  - {name: s, protocol: synthetic}\n")
        r = subprocess.run([lib.BINARY, "read", "--config", cfg, "--source", "s", "--all-orders"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--all-orders applies to modbus sources", r.stderr)


if __name__ == "__main__":
    unittest.main()

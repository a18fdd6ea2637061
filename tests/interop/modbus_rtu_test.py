"""Proof 3: Modbus RTU. A pseudo-terminal pair made by socat joins our source (one
end, modbusrtu://) and a pymodbus 3.0 RTU server (the other end); every type in every
word order decodes exactly, for two unit ids on the one serial line."""
import os
import shutil
import subprocess
import unittest

import modbus_peer_values as values
import modbus_testlib as lib
from modbus_testlib import harness


@unittest.skipUnless(shutil.which("socat"), "socat is not installed (scripts/install-deps.sh)")
class Rtu(unittest.TestCase):
    def setUp(self):
        self.work = harness.Workdir("uc-modbus-rtu-")
        self.a = os.path.join(self.work.path, "ttyA")
        self.b = os.path.join(self.work.path, "ttyB")
        self.socat = subprocess.Popen(["socat", f"pty,raw,echo=0,link={self.a}", f"pty,raw,echo=0,link={self.b}"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        harness.wait_for(lambda: os.path.exists(self.a) and os.path.exists(self.b), 10, "socat pty pair")
        self.server = subprocess.Popen([lib.PY, os.path.join(lib.HERE, "modbus_pymodbus_server.py"), "--rtu", self.b,
                                        "--baud", "19200"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(self.server.stdout.readline().strip(), "ready")

    def tearDown(self):
        lib.stop(self.server)
        lib.stop(self.socat)

    def test_every_type_over_a_serial_line(self):
        tags = [t for t in values.tags() if t["table"] in ("holding", "coil")]
        cfg = lib.write_config(self.work, lib.yaml_source(
            "rtu", f"modbusrtu://{self.a}?baud=19200&parity=N&stop=1", lib.peer_registers(tags),
            unit_ids=[1, 2], poll_interval_ms=100, timeout_ms=500, backoff_initial_ms=100, backoff_max_ms=200))
        # The server may open its end a moment after printing ready: read until good.
        def good_batch():
            recs = lib.read_records(cfg, "rtu", batches=1)
            return recs if all(r["quality"] == "good" for r in recs) else None
        records = harness.wait_for(good_batch, 30, "a good batch over RTU")
        by_address = {r["address"]: r for r in records}
        self.assertEqual(len(records), 2 * len(tags))
        for unit in (1, 2):
            for t in tags:
                with self.subTest(unit=unit, tag=t["name"]):
                    lib.check_value(self, by_address[f"{unit}/{t['table']}/{t['address']}"], t["type"], t["value"])


if __name__ == "__main__":
    unittest.main()

"""Proof 2: mbpoll (Debian) reads our simulator (`unified-connector simulate`) and gets
the values documented in docs/simulator-modbus.md."""
import re
import shutil
import signal
import subprocess
import unittest

import modbus_testlib as lib
from modbus_testlib import harness


def mbpoll(port, *args):
    r = subprocess.run(["mbpoll", "-m", "tcp", "-p", str(port), "-1", "-0", *args, "127.0.0.1"],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError(f"mbpoll {args} exited {r.returncode}: {r.stdout} {r.stderr}")
    # Lines like "[6]: 	0x47F1" or "[6]: 	123456"
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^\[(\d+)\]:\s+(\S+)", r.stdout, re.M)}


@unittest.skipUnless(shutil.which("mbpoll"), "mbpoll is not installed (scripts/install-deps.sh)")
class MbpollReadsTheSimulator(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = harness.Workdir("uc-modbus-mbpoll-")
        cls.port = harness.free_port()
        cfg = cls.work.write("sim.yaml", "connector: {name: sim}\nsimulator:\n  enabled: true\n"
                             f"  modbus: {{enabled: true, port: {cls.port}}}\n  opcua: {{enabled: false}}\n"
                             "  mqtt: {enabled: false}\n")
        cls.sim = subprocess.Popen([lib.BINARY, "simulate", "--config", cfg], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        harness.wait_for(lambda: lib.can_connect(cls.port) or cls.sim.poll() is not None, 20, "the simulator")
        assert cls.sim.poll() is None, cls.sim.stderr.read()

    @classmethod
    def tearDownClass(cls):
        cls.sim.send_signal(signal.SIGTERM)
        cls.sim.wait(timeout=10)
        assert cls.sim.returncode == 0, cls.sim.returncode

    def test_static_block_words_in_every_order(self):
        words = mbpoll(self.port, "-t", "4:hex", "-r", "0", "-c", "100")
        # float32 123456.0 = 0x47F12000 at +6 of each 25-register block.
        self.assertEqual([words[6], words[7]], ["0x47F1", "0x2000"])     # ABCD
        self.assertEqual([words[31], words[32]], ["0x2000", "0x47F1"])   # CDAB
        self.assertEqual([words[56], words[57]], ["0xF147", "0x0020"])   # BADC
        self.assertEqual([words[81], words[82]], ["0x0020", "0xF147"])   # DCBA
        self.assertEqual(words[0], "0xCFC7")   # int16 -12345, ABCD
        self.assertEqual(words[75], "0xC7CF")  # int16 -12345, DCBA
        self.assertEqual([words[20 + i] for i in range(5)], ["0x4F52", "0x4445", "0x522D", "0x4142", "0x4344"])

    def test_typed_reads_match_the_documented_values(self):
        # mbpoll's 32-bit types: -B = ABCD, default = CDAB.
        self.assertEqual(float(mbpoll(self.port, "-t", "4:float", "-B", "-r", "6")[6]), 123456.0)
        self.assertEqual(float(mbpoll(self.port, "-t", "4:float", "-r", "31")[31]), 123456.0)
        self.assertEqual(int(mbpoll(self.port, "-t", "4:int", "-B", "-r", "2")[2]), -123456789)
        self.assertEqual(int(mbpoll(self.port, "-t", "4:int", "-r", "27")[27]), -123456789)
        self.assertEqual(int(mbpoll(self.port, "-t", "3", "-r", "1")[1]), 54321)  # input registers mirror holding
        coils = mbpoll(self.port, "-t", "0", "-r", "0", "-c", "8")
        self.assertEqual([coils[i] for i in range(8)], ["1", "0", "1", "1", "0", "0", "1", "0"])
        # Outside the map: exception 2.
        r = subprocess.run(["mbpoll", "-m", "tcp", "-p", str(self.port), "-1", "-0", "-r", "10000", "127.0.0.1"],
                           capture_output=True, text=True, timeout=30)
        self.assertIn("Illegal data address", r.stdout + r.stderr)

    def test_values_change_over_time(self):
        first = mbpoll(self.port, "-t", "4", "-r", "101")[101]  # uint16 seconds counter
        harness.wait_for(lambda: mbpoll(self.port, "-t", "4", "-r", "101")[101] != first, 5, "the counter to move")

    def test_several_units_and_clients(self):
        words = mbpoll(self.port, "-a", "1,7,247", "-t", "4:hex", "-r", "6", "-c", "2")
        self.assertEqual(words[6], "0x47F1")


if __name__ == "__main__":
    unittest.main()

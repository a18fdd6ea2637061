"""A pymodbus 3.0 server (Debian python3-pymodbus, run with /usr/bin/python3) holding
modbus_peer_values.py's registers for unit ids 1 and 2, over TCP or RTU (serial).
Every read request is appended to --log as "unit fc address count" (for the
coalescing count). Prints "ready" when serving.

  modbus_pymodbus_server.py --tcp PORT [--log FILE]
  modbus_pymodbus_server.py --rtu /dev/pts/N [--baud 19200] [--log FILE]
"""
import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import modbus_peer_values as values  # noqa: E402

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext  # noqa: E402


class LoggingContext(ModbusSlaveContext):
    def __init__(self, unit, log, **kwargs):
        super().__init__(**kwargs)
        self.unit = unit
        self.log = log

    def getValues(self, fc_as_hex, address, count=1):  # noqa: N802 (pymodbus API)
        if self.log:
            with open(self.log, "a") as f:
                f.write(f"{self.unit} {fc_as_hex} {address} {count}\n")
        return super().getValues(fc_as_hex, address, count)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tcp", type=int)
    p.add_argument("--rtu")
    p.add_argument("--baud", type=int, default=19200)
    p.add_argument("--log")
    a = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    regs = values.registers() + [0] * 100
    coils = values.COILS + [0] * 100
    slaves = {}
    for unit in (1, 2):
        slaves[unit] = LoggingContext(
            unit, a.log, zero_mode=True,
            hr=ModbusSequentialDataBlock(0, list(regs)), ir=ModbusSequentialDataBlock(0, list(regs)),
            co=ModbusSequentialDataBlock(0, list(coils)), di=ModbusSequentialDataBlock(0, list(coils)))
    context = ModbusServerContext(slaves=slaves, single=False)
    print("ready", flush=True)
    if a.tcp:
        from pymodbus.server import StartTcpServer
        StartTcpServer(context=context, address=("127.0.0.1", a.tcp))
    else:
        from pymodbus.server import StartSerialServer
        from pymodbus.transaction import ModbusRtuFramer
        StartSerialServer(context=context, framer=ModbusRtuFramer, port=a.rtu, baudrate=a.baud, bytesize=8,
                          parity="N", stopbits=1, timeout=0.05)


if __name__ == "__main__":
    main()

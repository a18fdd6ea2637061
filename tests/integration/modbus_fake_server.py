"""A raw-socket Modbus TCP server that misbehaves on purpose, chosen by the unit id of
each request (so each connector source, one unit id each, meets one behaviour):

  1 good: holding registers answer their address    5 answer for another unit id
  2 exception 2 (ILLEGAL DATA ADDRESS)               6 answer with another function code
  3 exception 4 (SERVER DEVICE FAILURE)              7 malformed header (protocol id 0x1234)
  4 short: one register fewer than asked             8 silence (the client times out)
  9 close the connection                            10 garbage bytes

Prints "ready PORT" once listening. Counts requests per unit in --log as "unit fc start count".
"""
import argparse
import socket
import struct
import sys
import threading


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def serve(conn, log):
    with conn:
        while True:
            head = recv_exact(conn, 7)
            if head is None:
                return
            tid, proto, length, unit = struct.unpack(">HHHB", head)
            pdu = recv_exact(conn, length - 1)
            if pdu is None:
                return
            fc = pdu[0]
            start, count = struct.unpack(">HH", pdu[1:5]) if len(pdu) >= 5 else (0, 0)
            if log:
                with open(log, "a") as f:
                    f.write(f"{unit} {fc} {start} {count}\n")

            def send(u, body, p=0):
                conn.sendall(struct.pack(">HHHB", tid, p, len(body) + 1, u) + body)

            regs = b"".join(struct.pack(">H", (start + i) & 0xFFFF) for i in range(count))
            if unit == 1:
                send(unit, bytes([fc, 2 * count]) + regs)
            elif unit in (2, 3):
                send(unit, bytes([fc | 0x80, 2 if unit == 2 else 4]))
            elif unit == 4:
                send(unit, bytes([fc, 2 * (count - 1)]) + regs[:-2])
            elif unit == 5:
                send(unit + 1, bytes([fc, 2 * count]) + regs)
            elif unit == 6:
                send(unit, bytes([fc + 1, 2 * count]) + regs)
            elif unit == 7:
                send(unit, bytes([fc, 2 * count]) + regs, p=0x1234)
            elif unit == 8:
                pass
            elif unit == 9:
                return
            elif unit == 10:
                conn.sendall(b"\xde\xad\xbe\xef" * 5)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log")
    a = p.parse_args()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", a.port))
    s.listen(64)
    print("ready", s.getsockname()[1], flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, a.log), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())

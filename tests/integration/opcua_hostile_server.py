"""A hostile OPC UA server on 127.0.0.1 for the bad-input tests.

    opcua_hostile_server.py MODE      prints "PORT <n>", serves connections until killed

It answers Hello and OpenSecureChannel correctly, then answers the first service request
(CreateSession or GetEndpoints) with the attack MODE:

  huge_string   a ResponseHeader StringTable entry announcing 2 GiB - 1 bytes
  huge_array    a StringTable announcing 2^31 - 1 entries
  bad_utf8      a StringTable entry that is not UTF-8
  deep_nesting  ServiceDiagnostics with InnerDiagnosticInfo nested 200 deep
  chunk_count   5000 intermediate chunks (our limit is 4096)
  frame_size    a chunk header announcing 100 MB
  bad_type      a frame with an unknown message type
  bad_sequence  a response whose sequence number skips ahead
"""
import socket
import struct
import sys
import threading

MODE = sys.argv[1]


def ua_string(s):
    if s is None:
        return struct.pack("<i", -1)
    b = s if isinstance(s, bytes) else s.encode()
    return struct.pack("<i", len(b)) + b


def response_header(diagnostics=b"\x00", string_table=struct.pack("<i", 0)):
    # Timestamp, RequestHandle, ServiceResult, ServiceDiagnostics, StringTable, AdditionalHeader (null)
    return struct.pack("<qII", 0, 1, 0) + diagnostics + string_table + b"\x00\x00\x00"


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.seq = 1

    def frame(self):
        while len(self.buf) < 8 or len(self.buf) < struct.unpack_from("<I", self.buf, 4)[0]:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buf += data
        size = struct.unpack_from("<I", self.buf, 4)[0]
        f, self.buf = self.buf[:size], self.buf[size:]
        return f

    def chunk(self, kind, final, request_id, body, security=None, seq=None):
        if security is None:
            security = struct.pack("<I", 1)  # token id
        s = self.seq if seq is None else seq
        self.seq = s + 1
        payload = struct.pack("<I", 7) + security + struct.pack("<II", s, request_id) + body
        return kind + final + struct.pack("<I", 8 + len(payload)) + payload


def serve(sock):
    c = Conn(sock)
    try:
        hel = c.frame()
        assert hel[:3] == b"HEL"
        ack = struct.pack("<IIIII", 0, 65536, 65536, 0, 0)
        sock.sendall(b"ACKF" + struct.pack("<I", 8 + len(ack)) + ack)
        opn = c.frame()
        off = 12
        for _ in range(3):  # policy uri, certificate, thumbprint
            n = struct.unpack_from("<i", opn, off)[0]
            off += 4 + max(n, 0)
        request_id = struct.unpack_from("<I", opn, off + 4)[0]
        body = (b"\x01\x00" + struct.pack("<H", 449) + response_header() + struct.pack("<I", 0) +
                struct.pack("<IIqI", 7, 1, 0, 600000) + ua_string(None))
        asym = ua_string("http://opcfoundation.org/UA/SecurityPolicy#None") + ua_string(None) + ua_string(None)
        sock.sendall(c.chunk(b"OPN", b"F", request_id, body, security=asym))
        msg = c.frame()
        request_id = struct.unpack_from("<I", msg, 20)[0]
        fault = b"\x01\x00" + struct.pack("<H", 397)  # ServiceFault: only a ResponseHeader
        if MODE == "huge_string":
            out = c.chunk(b"MSG", b"F", request_id, fault + response_header(
                string_table=struct.pack("<ii", 1, 0x7FFFFFFF) + b"x" * 16))
        elif MODE == "huge_array":
            out = c.chunk(b"MSG", b"F", request_id, fault + response_header(
                string_table=struct.pack("<i", 0x7FFFFFFF)))
        elif MODE == "bad_utf8":
            out = c.chunk(b"MSG", b"F", request_id, fault + response_header(
                string_table=struct.pack("<i", 1) + ua_string(b"ok\xc3\x28")))
        elif MODE == "deep_nesting":
            out = c.chunk(b"MSG", b"F", request_id, fault + response_header(diagnostics=b"\x40" * 200 + b"\x00"))
        elif MODE == "chunk_count":
            out = b"".join(c.chunk(b"MSG", b"C", request_id, b"\x00" * 8) for _ in range(5000))
        elif MODE == "frame_size":
            out = b"MSGF" + struct.pack("<I", 100_000_000) + b"\x00" * 64
        elif MODE == "bad_type":
            out = b"XYZF" + struct.pack("<I", 16) + b"\x00" * 8
        elif MODE == "bad_sequence":
            out = c.chunk(b"MSG", b"F", request_id, fault + response_header(), seq=c.seq + 5)
        else:
            raise SystemExit("unknown mode " + MODE)
        sock.sendall(out)
        while sock.recv(65536):  # the client closes
            pass
    except (EOFError, ConnectionError, AssertionError):
        pass
    finally:
        sock.close()


def main():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    print("PORT", srv.getsockname()[1], flush=True)
    while True:
        s, _ = srv.accept()
        threading.Thread(target=serve, args=(s,), daemon=True).start()


if __name__ == "__main__":
    main()

"""A loopback TCP proxy for OPC UA tests that breaks connections on purpose.

- cut(): closes every open connection (both sides), like a pulled cable.
- refuse(True/False): while refusing, new connections are accepted and closed at once.
- freeze(True/False): while frozen, nothing from the server reaches the client and the
  connection stays open (a half-open link: only the client's watchdog can notice).
- cut_at_request(encoding_id): the next request of that service from the client (e.g. 751,
  CreateMonitoredItems; 527, Browse) is not forwarded and the connection is closed, so the
  client loses it half way through setting up.
- drop_next_data_publish(): the next PublishResponse carrying notifications (from the
  server) is not forwarded and the connection is closed right after, so the client
  misses exactly that NotificationMessage. Its sequence number lands in `dropped`.

It parses only what it needs of opc.tcp: the 8-byte message header, and for a final
('F') MSG chunk with security None the PublishResponse fields up to the
NotificationMessage (OPC 10000-6 §6.7.2, §5.2; OPC 10000-4 §5.13.5).
"""
import socket
import struct
import threading

PUBLISH_RESPONSE = 829  # PublishResponse_Encoding_DefaultBinary


def _read_node_id(b, o):
    kind = b[o] & 0x3F
    if kind == 0:
        return o + 2
    if kind == 1:
        return o + 4
    if kind == 2:
        return o + 7
    raise ValueError("unexpected NodeId encoding %d" % kind)


def request_type(frame):
    """The service encoding id of a single-chunk MSG request (four-byte NodeId form), else None."""
    if frame[:4] != b"MSGF" or len(frame) < 28 or frame[24] != 1 or frame[25] != 0:
        return None
    return struct.unpack_from("<H", frame, 26)[0]


def publish_sequence(frame):
    """(sequence number, notification count) of a single-chunk PublishResponse, else None."""
    if frame[:4] != b"MSGF" or len(frame) < 28:
        return None
    body = frame[24:]  # header 8, channel 4, token 4, sequence 4, request id 4
    if body[0] != 1 or body[1] != 0 or struct.unpack_from("<H", body, 2)[0] != PUBLISH_RESPONSE:
        return None
    o = 4 + 8 + 4 + 4  # timestamp, request handle, service result
    if body[o] != 0:
        return None  # diagnostics present: not parsed here
    o += 1
    (strings,) = struct.unpack_from("<i", body, o)
    o += 4
    for _ in range(max(strings, 0)):
        (n,) = struct.unpack_from("<i", body, o)
        o += 4 + max(n, 0)
    o = _read_node_id(body, o)  # additional header: NodeId + encoding byte (no body expected)
    if body[o] != 0:
        return None
    o += 1
    o += 4  # subscription id
    (available,) = struct.unpack_from("<i", body, o)
    o += 4 + 4 * max(available, 0)
    o += 1  # more notifications
    (sequence,) = struct.unpack_from("<I", body, o)
    o += 4 + 8  # sequence, publish time
    (count,) = struct.unpack_from("<i", body, o)
    return sequence, max(count, 0)


class UaProxy:
    def __init__(self, target_port, host="127.0.0.1"):
        self.target = (host, target_port)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.pairs = []
        self.refusing = False
        self.drop_armed = False
        self.frozen = False
        self.cut_request = None
        self.cut_requests = []
        self.dropped = []
        self.connections = 0
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path=""):
        return f"opc.tcp://127.0.0.1:{self.port}{path}"

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            pair = (client, server)
            with self.lock:
                self.pairs.append(pair)
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, server, False, pair), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True, pair), daemon=True).start()

    def _close_pair(self, pair):
        for s in pair:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        with self.lock:
            if pair in self.pairs:
                self.pairs.remove(pair)

    def _pump(self, src, dst, from_server, pair):
        buf = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                buf += data
                while len(buf) >= 8:
                    (size,) = struct.unpack_from("<I", buf, 4)
                    if size < 8 or len(buf) < size:
                        break
                    frame, buf = buf[:size], buf[size:]
                    if not from_server:
                        if self.cut_request is not None and request_type(frame) == self.cut_request:
                            with self.lock:
                                self.cut_requests.append(self.cut_request)
                                self.cut_request = None
                            raise ConnectionAbortedError("cut at a request on purpose")
                        dst.sendall(frame)
                        continue
                    if self.frozen:
                        continue
                    if self.drop_armed:
                        info = publish_sequence(frame)
                        if info and info[1] > 0:
                            with self.lock:
                                self.drop_armed = False
                                self.dropped.append(info[0])
                            raise ConnectionAbortedError("dropped on purpose")
                    dst.sendall(frame)
        except (OSError, ValueError, struct.error):
            pass
        self._close_pair(pair)

    def cut(self):
        with self.lock:
            pairs = list(self.pairs)
        for p in pairs:
            self._close_pair(p)

    def refuse(self, on):
        self.refusing = on

    def freeze(self, on):
        self.frozen = on

    def cut_at_request(self, encoding_id):
        self.cut_request = encoding_id

    def drop_next_data_publish(self):
        self.drop_armed = True

    def close(self):
        self.closed = True
        self.listener.close()
        self.cut()

#!/usr/bin/python3
"""A local Zerobus-compatible test server: the databricks.zerobus.Zerobus service
(EphemeralStream) over plaintext gRPC on loopback, plus an OAuth token endpoint and a
control endpoint over HTTP on loopback.

Behaviour of the gRPC side (the facts in docs/sinks/zerobus.md):
  * the call's metadata must carry `authorization: Bearer <token>` issued by the token
    endpoint for this table, not expired, and `x-databricks-zerobus-table-name`;
    otherwise UNAUTHENTICATED;
  * the first request must be create_stream (else INVALID_ARGUMENT); PROTO streams must
    send a self-contained DescriptorProto, which is used to decode every record
    (not self-contained -> INVALID_ARGUMENT "... Error Code: 4033"); JSON streams send
    one JSON object per record;
  * wire offsets must be 0, 1, 2... per call; a batch is all-or-nothing: every record
    is decoded (failure -> INVALID_ARGUMENT "... Error Code: 4044") before any is
    written; written records are appended as JSON Lines to <out>/<table>.jsonl and
    flushed, then acked cumulatively after ack_delay_ms.

Faults (flags, or POST /control with a JSON object of the same names):
  ack_delay_ms      delay before each ack
  close_every       after every N acked requests on a stream: close_stream_signal
                    (close_duration_ms), then the stream ends after that duration
  poison            {"column": "value", "metadata.key": "value"}: a record matching all
                    pairs fails its request with INVALID_ARGUMENT (Error Code: 4044)
  auth_fail         the token endpoint answers 401 and streams get UNAUTHENTICATED
  token_lifetime_s  expires_in of new tokens
  faults            a list of one-shot faults, one consumed per ingest request:
                    unavailable (abort UNAVAILABLE, nothing written), silence (no ack,
                    nothing written), garbage (undecodable response bytes),
                    unknown_ack (ack for an offset never sent), missing_ack (ack without
                    its offset), create_mid (a second create_stream_response)
--count-only (benchmarks): records are counted (records, bytes) and acked, not decoded or
written. GET /stats returns counters. The ready line on stdout is JSON with both ports.
"""
import argparse
import base64
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.join(HERE, "..", "..", "proto")


def load_pb2():
    out = tempfile.mkdtemp(prefix="zb_pb2_")
    subprocess.run(["protoc", f"--proto_path={PROTO_DIR}", "--proto_path=/usr/include",
                    f"--python_out={out}", os.path.join(PROTO_DIR, "zerobus_service.proto")], check=True)
    sys.path.insert(0, out)
    import zerobus_service_pb2  # noqa: E402
    return zerobus_service_pb2


pb = load_pb2()
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory  # noqa: E402
from google.protobuf.descriptor import FieldDescriptor  # noqa: E402


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.out = args.out
        self.client_id = args.client_id
        self.client_secret = args.client_secret
        self.workspace_id = args.workspace_id
        self.knobs = {"ack_delay_ms": args.ack_delay_ms, "close_every": args.close_every,
                      "close_duration_ms": args.close_duration_ms, "poison": json.loads(args.poison or "{}"),
                      "auth_fail": args.auth_fail, "token_lifetime_s": args.token_lifetime_s}
        self.faults = []
        self.count_only = args.count_only
        self.stats = {"streams": 0, "requests": 0, "records": 0, "bytes": 0, "tokens_issued": 0, "token_rejected": 0,
                      "auth_rejected": 0, "poison_rejected": 0, "faults_fired": {}, "offset_errors": 0,
                      "first_message_errors": 0}
        self.tokens_path = os.path.join(self.out, "tokens.json")
        self.tokens = {}
        if os.path.exists(self.tokens_path):  # survive a restart, as real tokens do
            with open(self.tokens_path) as f:
                self.tokens = json.load(f)
        self.files = {}

    def knob(self, name):
        with self.lock:
            return self.knobs[name]

    def take_fault(self):
        with self.lock:
            if not self.faults:
                return None
            f = self.faults.pop(0)
            self.stats["faults_fired"][f] = self.stats["faults_fired"].get(f, 0) + 1
            return f

    def count(self, key, n=1):
        with self.lock:
            self.stats[key] += n

    def issue_token(self, table):
        token = uuid.uuid4().hex
        with self.lock:
            self.tokens[token] = {"table": table, "expires": time.time() + self.knobs["token_lifetime_s"]}
            self.stats["tokens_issued"] += 1
            with open(self.tokens_path + ".tmp", "w") as f:
                json.dump(self.tokens, f)
            os.replace(self.tokens_path + ".tmp", self.tokens_path)
            return token, self.knobs["token_lifetime_s"]

    def check_token(self, token, table):
        with self.lock:
            t = self.tokens.get(token)
            return t is not None and t["table"] == table and t["expires"] > time.time()

    def write(self, table, records):
        with self.lock:
            f = self.files.get(table)
            if f is None:
                f = open(os.path.join(self.out, table + ".jsonl"), "a", encoding="utf-8")
                self.files[table] = f
            f.write("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
            f.flush()
            self.stats["records"] += len(records)


def message_class(raw):
    """The record class for a DescriptorProto, or raises ValueError (4033)."""
    dp = descriptor_pb2.DescriptorProto.FromString(raw)
    package = ""
    for field in dp.field:
        tn = field.type_name
        marker = "." + dp.name + "."
        if tn.startswith(".") and marker in tn:
            package = tn[1:tn.index(marker)]
            break
    fdp = descriptor_pb2.FileDescriptorProto(name=f"zb_{uuid.uuid4().hex}.proto", package=package, syntax="proto2")
    fdp.message_type.add().CopyFrom(dp)
    pool = descriptor_pool.DescriptorPool()
    try:
        pool.Add(fdp)
        desc = pool.FindMessageTypeByName((package + "." if package else "") + dp.name)
    except Exception as e:  # unresolved type names: not self-contained
        raise ValueError(f"Proto not self-contained: {e}") from e
    return message_factory.MessageFactory(pool).GetPrototype(desc)


def to_dict(msg):
    out = {}
    for fd, value in msg.ListFields():
        if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            out[fd.name] = dict(value)
        elif fd.label == FieldDescriptor.LABEL_REPEATED:
            out[fd.name] = [to_dict(v) if fd.message_type else v for v in value]
        elif fd.message_type is not None:
            out[fd.name] = to_dict(value)
        elif fd.type == FieldDescriptor.TYPE_BYTES:
            out[fd.name] = base64.b64encode(value).decode()
        else:
            out[fd.name] = value
    return out


def matches(record, poison):
    if not poison:
        return False
    for key, want in poison.items():
        if key.startswith("metadata."):
            got = (record.get("metadata") or {}).get(key[len("metadata."):])
        else:
            got = record.get(key)
        if str(got) != str(want):
            return False
    return True


def serialize(m):
    return m if isinstance(m, bytes) else m.SerializeToString()


class Service:
    def __init__(self, state):
        self.state = state

    def stream(self, request_iterator, context):
        st = self.state
        q = queue.Queue()

        def pump():
            try:
                for r in request_iterator:
                    q.put(r)
            except Exception:
                pass
            q.put(None)

        threading.Thread(target=pump, daemon=True).start()
        md = dict(context.invocation_metadata())
        auth = md.get("authorization", "")
        header_table = md.get("x-databricks-zerobus-table-name", "")
        try:
            first = q.get(timeout=30)
        except queue.Empty:
            context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "no create_stream within 30 s")
        if first is None:
            return
        if first.WhichOneof("payload") != "create_stream":
            st.count("first_message_errors")
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "first message must be create_stream")
        cs = first.create_stream
        table = cs.table_name
        if st.knob("auth_fail") or not auth.startswith("Bearer ") or header_table != table \
                or not st.check_token(auth[len("Bearer "):], table):
            st.count("auth_rejected")
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid or expired token for table " + table)
        if len(table.split(".")) != 3 or not all(table.split(".")):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid table name " + table)
        if cs.record_type == pb.PROTO:
            if not cs.HasField("descriptor_proto"):
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "descriptor_proto is required for PROTO")
            try:
                cls = message_class(cs.descriptor_proto)
            except Exception as e:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{e}. Error Code: 4033, Error State: 0.")
        elif cs.record_type == pb.JSON:
            cls = None
        else:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "record_type must be PROTO or JSON")
        st.count("streams")
        yield pb.EphemeralStreamResponse(create_stream_response=pb.CreateIngestStreamResponse(
            stream_id=str(uuid.uuid4())))

        expected = 0
        acked_here = 0
        closing_at = None
        while True:
            try:
                r = q.get(timeout=0.05)
            except queue.Empty:
                if closing_at is not None and time.time() >= closing_at:
                    return
                continue
            if r is None:
                return
            if closing_at is not None and time.time() >= closing_at:
                return
            kind = r.WhichOneof("payload")
            if kind == "create_stream":
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "create_stream sent twice")
            req = r.ingest_record_batch if kind == "ingest_record_batch" else r.ingest_record
            if req.offset_id != expected:
                st.count("offset_errors")
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"offset {req.offset_id}, expected {expected}")
            if kind == "ingest_record_batch":
                b = req.WhichOneof("batch")
                raw = list(req.proto_encoded_batch.records if b == "proto_encoded_batch" else req.json_batch.records)
            else:
                raw = [req.proto_encoded_record if req.WhichOneof("record") == "proto_encoded_record"
                       else req.json_record]
            st.count("requests")
            if st.count_only:
                with st.lock:
                    st.stats["records"] += len(raw)
                    st.stats["bytes"] += sum(len(x) for x in raw)
                yield pb.EphemeralStreamResponse(ingest_record_response=pb.IngestRecordResponse(
                    durability_ack_up_to_offset=expected))
                expected += 1
                continue
            records = []
            for item in raw:
                try:
                    if cls is not None:
                        if isinstance(item, str):
                            raise ValueError("JSON record on a PROTO stream")
                        m = cls()
                        m.ParseFromString(item)
                        records.append(to_dict(m))
                    else:
                        obj = json.loads(item)
                        if not isinstance(obj, dict):
                            raise ValueError("a JSON record must be an object")
                        records.append(obj)
                except Exception as e:
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                  f"Record decoder/encoder error: {e}. Error Code: 4044, Error State: 0.")
            poison = st.knob("poison")
            if any(matches(rec, poison) for rec in records):
                st.count("poison_rejected")
                context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                              "Record decoder/encoder error: poison record. Error Code: 4044, Error State: 0.")
            fault = st.take_fault()
            if fault == "unavailable":
                context.abort(grpc.StatusCode.UNAVAILABLE,
                              "Stream timeout reached. Closing the stream. Error Code: 6002, Error State: 0.")
            if fault == "silence":
                continue  # neither written nor acked; the client must time out and re-send
            if fault == "garbage":
                yield b"\x0a\xff\xff\xff\xff\xff"
                continue
            if fault == "unknown_ack":
                yield pb.EphemeralStreamResponse(ingest_record_response=pb.IngestRecordResponse(
                    durability_ack_up_to_offset=expected + 5))
                continue
            if fault == "missing_ack":
                yield pb.EphemeralStreamResponse(ingest_record_response=pb.IngestRecordResponse())
                continue
            if fault == "create_mid":
                yield pb.EphemeralStreamResponse(create_stream_response=pb.CreateIngestStreamResponse(stream_id="x"))
                continue
            st.write(table, records)
            delay = st.knob("ack_delay_ms")
            if delay:
                time.sleep(delay / 1000.0)
            yield pb.EphemeralStreamResponse(ingest_record_response=pb.IngestRecordResponse(
                durability_ack_up_to_offset=expected))
            expected += 1
            acked_here += 1
            every = st.knob("close_every")
            if every and closing_at is None and acked_here % every == 0:
                dur_ms = st.knob("close_duration_ms")
                sig = pb.CloseStreamSignal()
                sig.duration.seconds = dur_ms // 1000
                sig.duration.nanos = (dur_ms % 1000) * 1_000_000
                yield pb.EphemeralStreamResponse(close_stream_signal=sig)
                closing_at = time.time() + dur_ms / 1000.0


def make_http_handler(state):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def reply(self, code, obj):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/stats":
                with state.lock:
                    return self.reply(200, dict(state.stats, knobs=state.knobs, pending_faults=list(state.faults)))
            self.reply(404, {"error": "not found"})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > 1 << 20:
                return self.reply(413, {"error": "too large"})
            body = self.rfile.read(length)
            if self.path == "/control":
                try:
                    obj = json.loads(body)
                    assert isinstance(obj, dict)
                except Exception:
                    return self.reply(400, {"error": "body must be a JSON object"})
                with state.lock:
                    for k, v in obj.items():
                        if k == "faults":
                            state.faults.extend(v)
                        elif k in state.knobs:
                            state.knobs[k] = v
                        else:
                            return self.reply(400, {"error": "unknown knob " + k})
                return self.reply(200, {"ok": True})
            if self.path != "/oidc/v1/token":
                return self.reply(404, {"error": "not found"})
            return self.token(body)

        def token(self, body):
            def deny(code, why):
                state.count("token_rejected")
                self.reply(code, {"error": "invalid_request", "error_description": why})
            if state.knob("auth_fail"):
                return deny(401, "client authentication failed (auth_fail)")
            expected = "Basic " + base64.b64encode(f"{state.client_id}:{state.client_secret}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                return deny(401, "bad client credentials")
            if self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
                return deny(400, "form body expected")
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), strict_parsing=False)
            get = lambda k: (form.get(k) or [""])[0]  # noqa: E731
            if get("grant_type") != "client_credentials" or get("scope") != "all-apis":
                return deny(400, "grant_type=client_credentials and scope=all-apis required")
            if get("resource") != f"api://databricks/workspaces/{state.workspace_id}/zerobusDirectWriteApi":
                return deny(400, "wrong resource " + get("resource"))
            try:
                details = json.loads(get("authorization_details"))
                by_type = {d["object_type"]: d for d in details}
                table = by_type["TABLE"]["object_full_path"]
                catalog, schema, _ = table.split(".")
                assert sorted(by_type["TABLE"]["privileges"]) == ["MODIFY", "SELECT"]
                assert by_type["SCHEMA"]["object_full_path"] == f"{catalog}.{schema}"
                assert by_type["SCHEMA"]["privileges"] == ["USE SCHEMA"]
                assert by_type["CATALOG"]["object_full_path"] == catalog
                assert by_type["CATALOG"]["privileges"] == ["USE CATALOG"]
            except Exception:
                return deny(400, "bad authorization_details")
            token, lifetime = state.issue_token(table)
            self.reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": lifetime})

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grpc-port", type=int, default=0)
    p.add_argument("--http-port", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--client-id", default="test-client")
    p.add_argument("--client-secret", default="test-secret")
    p.add_argument("--workspace-id", default="127")
    p.add_argument("--ack-delay-ms", type=float, default=0)
    p.add_argument("--close-every", type=int, default=0)
    p.add_argument("--close-duration-ms", type=int, default=500)
    p.add_argument("--poison", default="")
    p.add_argument("--auth-fail", action="store_true")
    p.add_argument("--token-lifetime-s", type=int, default=3600)
    p.add_argument("--workers", type=int, default=16)
    p.add_argument("--count-only", action="store_true")
    p.add_argument("--tls-cert", default="", help="serve gRPC over TLS with this certificate (PEM)")
    p.add_argument("--tls-key", default="", help="the certificate's private key (PEM)")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    state = State(args)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=args.workers),
                         options=[("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)])
    handler = grpc.method_handlers_generic_handler("databricks.zerobus.Zerobus", {
        "EphemeralStream": grpc.stream_stream_rpc_method_handler(
            Service(state).stream, request_deserializer=pb.EphemeralStreamRequest.FromString,
            response_serializer=serialize)})
    server.add_generic_rpc_handlers((handler,))
    if args.tls_cert:
        with open(args.tls_key, "rb") as k, open(args.tls_cert, "rb") as c:
            creds = grpc.ssl_server_credentials([(k.read(), c.read())])
        grpc_port = server.add_secure_port(f"127.0.0.1:{args.grpc_port}", creds)
    else:
        grpc_port = server.add_insecure_port(f"127.0.0.1:{args.grpc_port}")
    if grpc_port == 0:
        print("cannot bind the gRPC port", file=sys.stderr)
        sys.exit(2)
    server.start()
    http = ThreadingHTTPServer(("127.0.0.1", args.http_port), make_http_handler(state))
    http.daemon_threads = True
    threading.Thread(target=http.serve_forever, daemon=True).start()
    print(json.dumps({"grpc_port": grpc_port, "http_port": http.server_address[1]}), flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

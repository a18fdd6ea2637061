#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/). Run it
again after a format change; the seeds are committed. Needs protoc, python3-protobuf and
python3-cryptography (all in scripts/install-deps.sh)."""
import base64
import os
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def modbus_answer():
    # mode byte: bit0 RTU, bits1-2 table (0 coil, 1 discrete, 2 holding, 3 input), bit3 ids from answer
    def tcp(tid, unit, pdu):
        return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu

    def rtu(unit, pdu):
        body = bytes([unit]) + pdu
        return body + struct.pack("<H", crc16(body))

    regs = bytes([3, 6, 0, 1, 0, 2, 0, 3])
    write("modbus_answer", "tcp_holding_3", bytes([0x8 | 4, 2, 0]) + tcp(7, 1, regs))
    write("modbus_answer", "rtu_holding_3", bytes([0x8 | 4 | 1, 2, 0]) + rtu(1, regs))
    write("modbus_answer", "tcp_coils_10", bytes([0x8 | 0, 0, 9, 0]) + tcp(1, 1, bytes([1, 2, 0x85, 0x02])))
    write("modbus_answer", "tcp_exception", bytes([0x8 | 6, 0, 0]) + tcp(2, 1, bytes([0x84, 2])))
    write("modbus_answer", "rtu_input_1", bytes([0x8 | 6 | 1, 0, 0]) + rtu(9, bytes([4, 2, 0xAB, 0xCD])))


def record_decoder():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["protoc", f"--proto_path={ROOT}/proto", f"--python_out={tmp}", "record.proto"], check=True)
        sys.path.insert(0, tmp)
        import record_pb2  # noqa: E402
        r = record_pb2.OtRecord(event_time=1764300000000000, ingest_time=1764300000000100, source_name="plc1",
                                protocol="modbus", endpoint="modbus://127.0.0.1:5020", tag_path="site/area/line/eq/t",
                                tag_name="t", address="1/holding/0", site="site", area="area", line="line",
                                equipment="eq", signal_type="analog", value_type="double", value_num=21.5,
                                value_str="21.5", quality="good", status_code=0, unit="degC")
        r.metadata["seq"] = "42"
        write("record_decoder", "full", r.SerializeToString())
        write("record_decoder", "string", record_pb2.OtRecord(
            tag_path="a/b", value_type="string", value_str="héllo", quality="bad", status_code=0x80000000).SerializeToString())
        write("record_decoder", "bool", record_pb2.OtRecord(
            tag_path="a/c", value_type="bool", value_bool=True, value_str="true").SerializeToString())


def fernet_token():
    from cryptography.fernet import Fernet
    key = bytes((i * 7 + 1) & 0xFF for i in range(32))
    f = Fernet(base64.urlsafe_b64encode(key))
    write("fernet_token", "valid_no_ttl", b"\x00" + f.encrypt(b"client-secret"))
    write("fernet_token", "valid_ttl", b"\x01" + f.encrypt(b""))
    write("fernet_token", "valid_long", b"\x00" + f.encrypt(b"x" * 300))


def config_loader():
    shutil.copy(os.path.join(ROOT, "config", "demo.yaml"), os.path.join(CORPUS, "config_loader", "demo.yaml"))
    write("config_loader", "errors_unknown_keys.yaml", """sources:
  - name: s
    protocol: modbus
    endpoint: modbus://127.0.0.1:502
    tags:
      - {name: a, table: holding, address: 0, type: float32, byte_order: CDAB}
sinks:
  file: {path: /tmp/x}
""")
    # Inputs on which yaml-cpp 0.7's LoadAll never returned (src/config/yaml_documents.h).
    write("config_loader", "hang_stray_comma.yaml", b',a:\n"b')
    write("config_loader", "hang_comma_after_sequence.yaml", b"- a\n,")
    write("config_loader", "hang_comma_after_tag.yaml", b"connector: {name: t}\n---\n!t ,\n")
    write("config_loader", "errors_node_form.yaml", """sources:
  - name: m
    protocol: mqtt
    endpoint: mqtt://127.0.0.1:1883
    topics: ["plant/#"]
  - name: o
    protocol: opcua
    endpoint: opc.tcp://127.0.0.1:4840
    nodes: ["ns=2;s=Temp"]
normalization:
  rules: []
""")


def opcua_server_request():
    # Byte 0 >= 0x80 picks request template (byte0 % 12) of opcua_server_request_fuzz.cpp,
    # byte 1 = 255 keeps all of it.
    for i in range(12):
        write("opcua_server_request", f"service_{i:02d}", bytes([128 + (i - 128) % 12, 255]))


if __name__ == "__main__":
    os.makedirs(os.path.join(CORPUS, "config_loader"), exist_ok=True)
    modbus_answer()
    record_decoder()
    fernet_token()
    config_loader()
    opcua_server_request()

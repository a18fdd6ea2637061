// A Sparkplug B edge node built on Eclipse Tahu's `sparkplug-payload` and the `mqtt`
// client: the peer for tests/interop/sparkplug_tahu_test.py.
//
// usage: node edge_node.js <broker port> <events file>
// Scenario: CONNECT with the NDEATH will (bdSeq 0) → NBIRTH (seq 0, every scalar type and
// a DataSet) → DBIRTH (seq 1, arrays encoded with Tahu's generated protobuf code, since
// sparkplug-payload has no array support) → DDATA by alias (seq 2) → NDATA with seq 4 (a
// deliberate gap) → wait for NCMD Node Control/Rebirth → NBIRTH/DBIRTH again → DDATA
// (phase 2) → "done"; the test then kills this process so the broker publishes the will.
// Every event and every value sent is appended to the events file as one JSON line.
"use strict";
const fs = require("fs");
const mqtt = require("mqtt");
const Long = require("long");
const sparkplug = require("sparkplug-payload").get("spBv1.0");
const proto = require("sparkplug-payload/lib/sparkplugPayloadProto").org.eclipse.tahu.protobuf;

const [port, eventsFile] = process.argv.slice(2);
const G = "tahu", E = "edge1", D = "dev1";
const node = (t) => `spBv1.0/${G}/${t}/${E}`;
const dev = (t) => `spBv1.0/${G}/${t}/${E}/${D}`;
const ADDR_N = `spBv1.0/${G}/${E}#`;
const ADDR_D = `spBv1.0/${G}/${E}/${D}#`;
const log = (o) => fs.appendFileSync(eventsFile, JSON.stringify(o) + "\n");
const now = () => Date.now();

const bdSeq = 0;
let seq = 0;
const nextSeq = () => { const s = seq; seq = (seq + 1) % 256; return s; };

// name, alias, type, value, expected value_str of the connector's record
const NODE_METRICS = [
  ["i8", 1, "Int8", -5, "-5"],
  ["i16", 2, "Int16", -30000, "-30000"],
  ["i32", 3, "Int32", -2000000000, "-2000000000"],
  ["i64", 4, "Int64", Long.fromString("-9000000000123"), "-9000000000123"],
  ["u8", 5, "UInt8", 255, "255"],
  ["u16", 6, "UInt16", 65535, "65535"],
  ["u32", 7, "UInt32", 4000000000, "4000000000"],
  ["u64", 8, "UInt64", Long.fromString("18446744073709551615", true), "18446744073709551615"],
  ["f", 9, "Float", 3.25, "3.25"],
  ["d", 10, "Double", 2.718281828459045, "2.718281828459045"],
  ["b", 11, "Boolean", true, "true"],
  ["s", 12, "String", "grüße", "grüße"],
  ["dt", 13, "DateTime", Long.fromNumber(1700000000123), "1700000000123"],
  ["txt", 14, "Text", "long text", "long text"],
  ["uuid", 15, "UUID", "123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-426614174000"],
  ["raw", 16, "Bytes", Buffer.from([0, 1, 254, 255]), Buffer.from([0, 1, 254, 255]).toString("base64")],
  ["table", 17, "DataSet",
    { numOfColumns: 2, columns: ["id", "name"], types: ["Int32", "String"], rows: [[-1, "a"], [2, "b"]] },
    JSON.stringify({ columns: ["id", "name"], types: ["Int32", "String"], rows: [[-1, "a"], [2, "b"]] })],
];

function le(kind, values) {
  const size = { i8: 1, u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, f: 4, d: 8, i64: 8 }[kind];
  const b = Buffer.alloc(size * values.length);
  values.forEach((v, i) => {
    const o = i * size;
    ({ i8: () => b.writeInt8(v, o), u8: () => b.writeUInt8(v, o), i16: () => b.writeInt16LE(v, o),
       u16: () => b.writeUInt16LE(v, o), i32: () => b.writeInt32LE(v, o), u32: () => b.writeUInt32LE(v, o),
       f: () => b.writeFloatLE(v, o), d: () => b.writeDoubleLE(v, o), i64: () => b.writeBigInt64LE(BigInt(v), o) })[kind]();
  });
  return b;
}
function boolArray(values) {
  const b = Buffer.alloc(4 + Math.ceil(values.length / 8));
  b.writeUInt32LE(values.length, 0);
  values.forEach((v, i) => { if (v) b[4 + (i >> 3)] |= 0x80 >> (i % 8); });
  return b;
}

// name, alias, datatype code, bytes_value, expected value_str (the record's JSON array text)
const ARRAYS = [
  ["a_i8", 101, 22, le("i8", [-23, 123]), "[-23,123]"],
  ["a_i16", 102, 23, le("i16", [-32768, 7]), "[-32768,7]"],
  ["a_i32", 103, 24, le("i32", [-1, 315338746]), "[-1,315338746]"],
  ["a_i64", 104, 25, le("i64", ["-9000000000", "5"]), "[-9000000000,5]"],
  ["a_u8", 105, 26, le("u8", [0, 255]), "[0,255]"],
  ["a_u16", 106, 27, le("u16", [30, 52360]), "[30,52360]"],
  ["a_u32", 107, 28, le("u32", [4000000000]), "[4000000000]"],
  ["a_f", 108, 30, le("f", [1.5, -0.25]), "[1.5,-0.25]"],
  ["a_d", 109, 31, le("d", [1.23, 89.341]), "[1.23,89.341]"],
  ["a_b", 110, 32, boolArray([false, false, true, true, false, true, false, false, true, true, false, true]),
    "[false,false,true,true,false,true,false,false,true,true,false,true]"],
  ["a_s", 111, 33, Buffer.from("ab\0\0c\0"), '["ab","","c"]'],
  ["a_dt", 112, 34, le("i64", ["1700000000000"]), "[1700000000000]"],
];
const DEV_SCALAR = ["speed", 120, "Double", 12.5, "12.5"];

function encodeRaw(seqNo, metrics) {
  const msg = proto.Payload.create({ timestamp: now(), seq: seqNo, metrics: metrics.map((m) => proto.Payload.Metric.create(m)) });
  return Buffer.from(proto.Payload.encode(msg).finish());
}

const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
  clientId: "tahu-edge1", clean: true, protocolVersion: 4, reconnectPeriod: 0,
  will: {
    topic: node("NDEATH"), qos: 1, retain: false,
    payload: Buffer.from(sparkplug.encodePayload({ timestamp: now(), metrics: [{ name: "bdSeq", type: "UInt64", value: bdSeq }] })),
  },
});

let phase = 1;
let births = 0;
function birth() {
  seq = 0;
  births++;
  const metrics = [
    { name: "bdSeq", type: "Int64", value: bdSeq },
    { name: "Node Control/Rebirth", type: "Boolean", value: false },
    ...NODE_METRICS.map(([name, alias, type, value]) => ({ name, alias, type, value, timestamp: 1700000001000 })),
  ];
  client.publish(node("NBIRTH"), Buffer.from(sparkplug.encodePayload({ timestamp: now(), seq: nextSeq(), metrics })));
  NODE_METRICS.forEach(([name, , type, , str]) => log({ kind: "value", address: ADDR_N + name, str, type, phase }));
  // DBIRTH through Tahu's generated protobuf code (arrays are bytes_value, little-endian)
  const dm = ARRAYS.map(([name, alias, datatype, bytes]) => ({ name, alias, datatype, bytesValue: bytes, timestamp: 1700000002000 }));
  dm.push({ name: DEV_SCALAR[0], alias: DEV_SCALAR[1], datatype: 10, doubleValue: DEV_SCALAR[3], timestamp: 1700000002000 });
  client.publish(dev("DBIRTH"), encodeRaw(nextSeq(), dm));
  ARRAYS.forEach(([name, , , , str]) => log({ kind: "value", address: ADDR_D + name, str, phase }));
  log({ kind: "value", address: ADDR_D + DEV_SCALAR[0], str: DEV_SCALAR[4], phase });
}

function data(value) {
  // DDATA by alias only (no name), as the spec wants for DATA messages
  const msg = encodeRaw(nextSeq(), [{ alias: DEV_SCALAR[1], doubleValue: value, timestamp: 1700000003000 + phase }]);
  client.publish(dev("DDATA"), msg);
  log({ kind: "value", address: ADDR_D + DEV_SCALAR[0], str: String(value), event_time: (1700000003000 + phase) * 1000, phase });
}

client.on("connect", () => {
  client.subscribe([node("NCMD"), `spBv1.0/${G}/DCMD/${E}/#`], { qos: 1 }, () => {
    log({ kind: "connected" });
    birth();
    data(42.5);
    // deliberate gap: skip one seq number
    nextSeq();
    client.publish(node("NDATA"), Buffer.from(sparkplug.encodePayload({
      timestamp: now(), seq: nextSeq(), metrics: [{ alias: 10, type: "Double", value: 1.5 }] })));
    log({ kind: "value", address: ADDR_N + "d", str: "1.5", phase });
    log({ kind: "gap-sent" });
  });
});

client.on("message", (topic, payload) => {
  const p = sparkplug.decodePayload(payload);
  const rebirth = (p.metrics || []).find((m) => m.name === "Node Control/Rebirth");
  log({ kind: "ncmd", topic, rebirth: rebirth ? rebirth.value : null });
  if (topic === node("NCMD") && rebirth && rebirth.value === true && phase === 1) {
    phase = 2;
    birth();
    data(99.25);
    log({ kind: "done", births });
  }
});

client.on("error", (e) => { log({ kind: "error", message: String(e) }); process.exit(1); });

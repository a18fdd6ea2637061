// Decodes everything our simulator publishes under spBv1.0/<group>/ with Eclipse Tahu's
// `sparkplug-payload` and checks it as a host would: births name every metric with a
// datatype and (except bdSeq / Node Control) an alias; DDATA uses only known aliases; seq
// runs on by one and wraps 255 → 0; a rebirth NCMD is answered with NBIRTH seq 0 and the
// same bdSeq. Prints one JSON summary line and exits 0 when every check held.
// usage: node host_check.js <broker port> <group> <edge>
"use strict";
const mqtt = require("mqtt");
const sparkplug = require("sparkplug-payload").get("spBv1.0");
// sparkplug-payload has no array types (its decoded `type` is undefined for 22..34), so the
// datatype codes are read with its generated protobuf code.
const proto = require("sparkplug-payload/lib/sparkplugPayloadProto").org.eclipse.tahu.protobuf;

const [port, group, edge] = process.argv.slice(2);
const problems = [];
const aliases = new Map();
let lastSeq = null, wraps = 0, messages = 0, births = 0, rebirthSent = false, bdSeq = null, rebirthBdSeq = null;
const num = (v) => (v && typeof v === "object" && "low" in v ? Number(BigInt.asUintN(64, (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0))) : v);

const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: "tahu-host-check", clean: true, reconnectPeriod: 0 });
const finish = () => {
  console.log(JSON.stringify({ ok: problems.length === 0, problems: problems.slice(0, 10), messages, wraps, births,
    aliases: aliases.size, bdSeq, rebirthBdSeq }));
  client.end(true, () => process.exit(problems.length === 0 ? 0 : 1));
};
setTimeout(() => { problems.push("timed out"); finish(); }, 20000);

client.on("connect", () => client.subscribe(`spBv1.0/${group}/#`, { qos: 0 }, () => console.log("subscribed")));
client.on("message", (topic, payload) => {
  const type = topic.split("/")[2];
  if (type === "NCMD" || type === "DCMD") return;
  let p;
  try {
    p = sparkplug.decodePayload(payload);
  } catch (e) {
    problems.push(`${topic}: sparkplug-payload cannot decode: ${e}`);
    return;
  }
  messages++;
  const seq = num(p.seq);
  if (type === "NBIRTH") {
    births++;
    if (seq !== 0) problems.push(`NBIRTH seq ${seq}`);
    const bd = p.metrics.find((m) => m.name === "bdSeq");
    if (!bd) problems.push("NBIRTH without bdSeq");
    if (rebirthSent && bd) {
      rebirthBdSeq = num(bd.value);
      finish();
      return;
    }
    if (bd) bdSeq = num(bd.value);
    if (!p.metrics.some((m) => m.name === "Node Control/Rebirth" && m.value === false && m.alias === undefined)) {
      problems.push("NBIRTH without Node Control/Rebirth = false (no alias)");
    }
  } else if (lastSeq !== null && seq !== (lastSeq + 1) % 256) {
    problems.push(`${type} seq ${seq} after ${lastSeq}`);
  }
  if (lastSeq === 255 && seq === 0) wraps++;
  lastSeq = seq;
  if (type.endsWith("BIRTH")) {
    const raw = proto.Payload.decode(payload);
    raw.metrics.forEach((r, i) => { if (!r.datatype) problems.push(`${topic}: metric ${i} without datatype`); });
    for (const m of p.metrics) {
      if (!m.name) problems.push(`${topic}: metric without name`);
      if (m.alias !== undefined) aliases.set(num(m.alias), m.type);
      else if (m.name !== "bdSeq" && !m.name.startsWith("Node Control/")) problems.push(`${m.name} without alias`);
    }
  } else if (type.endsWith("DATA")) {
    for (const m of p.metrics) {
      if (m.name) problems.push(`${topic}: DATA metric with a name`);
      if (!aliases.has(num(m.alias))) problems.push(`${topic}: unknown alias ${num(m.alias)}`);
    }
  }
  if (wraps >= 1 && !rebirthSent && type.endsWith("DATA")) {
    rebirthSent = true;
    const cmd = sparkplug.encodePayload({ timestamp: Date.now(), metrics: [{ name: "Node Control/Rebirth", type: "Boolean", value: true }] });
    client.publish(`spBv1.0/${group}/NCMD/${edge}`, Buffer.from(cmd));
  }
});

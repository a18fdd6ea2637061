// node-opcua side of the OPC UA decode benchmark: decodes the same ReadResponse and
// PublishResponse bodies (written by `opcua_bench --dump DIR`) with node-opcua 2.182.2's
// own decoders, DataChangeNotification included, and prints values/s for one core.
//   node bench/opcua_decode_nodeopcua.js DIR [seconds-per-case] [repetitions]
"use strict";
const path = require("path");
const fs = require("fs");
require(path.join(__dirname, "..", "tests", "interop", "opcua-js", "node18"));  // Web Crypto on Node.js 18
const op = require(path.join(__dirname, "..", "tests", "interop", "opcua-js", "node_modules", "node-opcua"));

const dir = process.argv[2];
const seconds = parseFloat(process.argv[3] || "2");
const reps = parseInt(process.argv[4] || "5", 10);
const VALUES = 1000;

function bench(name, file, Type) {
  const buf = fs.readFileSync(path.join(dir, file));
  const rates = [];
  for (let r = 0; r < reps; r++) {
    let n = 0;
    const t0 = process.hrtime.bigint();
    const until = t0 + BigInt(Math.round(seconds * 1e9));
    let now = t0;
    while (now < until) {
      for (let k = 0; k < 20; k++) {
        const s = new op.BinaryStream(buf);
        op.decodeNodeId(s);
        const m = new Type();
        m.decode(s);
        if (Type === op.PublishResponse && m.notificationMessage.notificationData[0].monitoredItems.length !== VALUES) {
          throw new Error("bad decode");
        }
        if (Type === op.ReadResponse && m.results.length !== VALUES) throw new Error("bad decode");
      }
      n += 20;
      now = process.hrtime.bigint();
    }
    rates.push((n * VALUES) / (Number(now - t0) / 1e9));
  }
  rates.sort((a, b) => a - b);
  console.log(JSON.stringify({ case: name, median_values_per_s: Math.round(rates[Math.floor(rates.length / 2)]),
                               runs: rates.map(Math.round) }));
}

bench("ReadResponse", "read_response.bin", op.ReadResponse);
bench("PublishResponse", "publish_response.bin", op.PublishResponse);

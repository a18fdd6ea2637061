// The peer side of sparkplug_bench: Eclipse Tahu's sparkplug-payload decoding the same
// DDATA payload (written by `sparkplug_bench --write-payload FILE`) in a loop, on one
// core. Prints metrics (records) per CPU second (process.cpuUsage, like Google
// Benchmark's default CPU time) and per wall second, for `runs` runs of `seconds` each.
// Run: node bench/sparkplug_decode_node.js FILE [seconds] [runs]
"use strict";
const path = require("path");
const fs = require("fs");
const sparkplug = require(path.join(__dirname, "..", "tests", "interop", "sparkplug-js", "node_modules",
  "sparkplug-payload")).get("spBv1.0");

const [file, seconds = "3", runs = "5"] = process.argv.slice(2);
const buf = fs.readFileSync(file);
let sink = 0;
for (let r = 0; r < Number(runs); r++) {
  let metrics = 0;
  const end = process.hrtime.bigint() + BigInt(Number(seconds) * 1e9);
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let now = t0;
  while (now < end) {
    for (let i = 0; i < 100; i++) {
      const p = sparkplug.decodePayload(buf);
      metrics += p.metrics.length;
      sink += p.metrics[0].value;
    }
    now = process.hrtime.bigint();
  }
  const s = Number(now - t0) / 1e9;
  const c = process.cpuUsage(cpu0);
  const cpu = (c.user + c.system) / 1e6;
  console.log(JSON.stringify({ run: r, metrics_per_cpu_s: Math.round(metrics / cpu), metrics_per_wall_s: Math.round(metrics / s) }));
}
if (sink === 42) console.log("");

// node-opcua client side of the OPC UA whole-process load (bench/opcua_load.py): subscribes
// like the connector does (publishing 1000 ms, sampling 1000 ms, queue 1) to n variables and
// counts the values it receives; writes the count to <count-file> once a second.
// Variables: `scale` = s=Scale.0 .. s=Scale.<n-1> (ns=1) of tests/interop/opcua-js/server.js;
// `plant` = the first n plant variables of our simulator (docs/simulator-opcua.md).
// Monitored items are created 1000 per call (the simulator's MaxMonitoredItemsPerCall).
//   node bench/opcua_client_nodeopcua.js <endpoint> <n> <count-file> [scale|plant]
"use strict";
const path = require("path");
const fs = require("fs");
require(path.join(__dirname, "..", "tests", "interop", "opcua-js", "node18"));  // Web Crypto on Node.js 18
const op = require(path.join(__dirname, "..", "tests", "interop", "opcua-js", "node_modules", "node-opcua"));

const NAMES = ["Temperature", "Pressure", "Speed", "Level", "Count", "Running", "State", "Energy", "AlarmCode",
               "Setpoint"];
const EQUIPMENT = ["Mixer", "Pump", "Oven", "Conveyor", "Filler", "Press", "Boiler", "Chiller", "Robot", "Tank"];

// The node id of plant variable i of our simulator.
function plantNode(i) {
  const eq = Math.floor(i / 10), line = Math.floor(eq / 10), site = Math.floor(line / 10);
  const l = (line % 10) + 1;
  return `ns=1;s=Plant.Site${site + 1}.Line${l}.${EQUIPMENT[eq % 10]}${l}.${NAMES[i % 10]}`;
}

async function main() {
  const [url, nText, countFile, kind = "scale"] = process.argv.slice(2);
  const n = parseInt(nText, 10);
  const client = op.OPCUAClient.create({ endpointMustExist: false, keepSessionAlive: true,
                                         connectionStrategy: { maxRetry: 3, initialDelay: 200 } });
  await client.connect(url);
  const session = await client.createSession();
  const sub = await session.createSubscription2({ requestedPublishingInterval: 1000, requestedLifetimeCount: 30,
                                                  requestedMaxKeepAliveCount: 10, maxNotificationsPerPublish: 0,
                                                  publishingEnabled: true, priority: 0 });
  let count = 0;
  for (let start = 0; start < n; start += 1000) {
    const items = [];
    for (let i = start; i < Math.min(n, start + 1000); i++) {
      items.push({ nodeId: kind === "plant" ? plantNode(i) : `ns=1;s=Scale.${i}`, attributeId: op.AttributeIds.Value });
    }
    const group = await op.ClientMonitoredItemGroup.create(sub, items, { samplingInterval: 1000, queueSize: 1,
                                                                        discardOldest: true }, op.TimestampsToReturn.Both);
    group.on("changed", () => { count += 1; });
  }
  setInterval(() => fs.writeFileSync(countFile, String(count)), 1000);
  process.on("SIGTERM", () => process.exit(0));
}
main().catch((e) => { process.stderr.write(`client failed: ${e.stack || e}\n`); process.exit(1); });

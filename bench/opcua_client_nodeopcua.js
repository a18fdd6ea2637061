// node-opcua client side of the OPC UA whole-process load (bench/opcua_load.py): subscribes
// to s=Scale.0 .. s=Scale.<n-1> (ns=1) of tests/interop/opcua-js/server.js like the connector
// does (publishing 1000 ms, sampling 1000 ms, queue 1) and counts the values it receives.
// Writes the count to <count-file> once a second.
//   node bench/opcua_client_nodeopcua.js <endpoint> <n> <count-file>
"use strict";
const path = require("path");
const fs = require("fs");
const op = require(path.join(__dirname, "..", "tests", "interop", "opcua-js", "node_modules", "node-opcua"));

async function main() {
  const [url, nText, countFile] = process.argv.slice(2);
  const n = parseInt(nText, 10);
  const client = op.OPCUAClient.create({ endpointMustExist: false, keepSessionAlive: true,
                                         connectionStrategy: { maxRetry: 3, initialDelay: 200 } });
  await client.connect(url);
  const session = await client.createSession();
  const sub = await session.createSubscription2({ requestedPublishingInterval: 1000, requestedLifetimeCount: 30,
                                                  requestedMaxKeepAliveCount: 10, maxNotificationsPerPublish: 0,
                                                  publishingEnabled: true, priority: 0 });
  const items = [];
  for (let i = 0; i < n; i++) items.push({ nodeId: `ns=1;s=Scale.${i}`, attributeId: op.AttributeIds.Value });
  const group = await op.ClientMonitoredItemGroup.create(sub, items, { samplingInterval: 1000, queueSize: 1,
                                                                      discardOldest: true }, op.TimestampsToReturn.Both);
  let count = 0;
  group.on("changed", () => { count += 1; });
  setInterval(() => fs.writeFileSync(countFile, String(count)), 1000);
  process.on("SIGTERM", () => process.exit(0));
}
main().catch((e) => { process.stderr.write(`client failed: ${e.stack || e}\n`); process.exit(1); });

// The node-opcua side of bench/opcua_load.py: subscribes to the first N plant variables
// of our simulator at a publishing and sampling interval of 1 s and counts the
// notifications. Prints "ready <items>" once every monitored item exists, then one
// "count <notifications>" line per second.
// Usage: node load_client.js <endpoint> <items>
"use strict";
const {
  OPCUAClient, AttributeIds, MessageSecurityMode, SecurityPolicy, TimestampsToReturn,
  ClientSubscription, ClientMonitoredItemGroup,
} = require("node-opcua");

const NAMES = ["Temperature", "Pressure", "Speed", "Level", "Count", "Running", "State", "Energy", "AlarmCode",
               "Setpoint"];
const EQUIPMENT = ["Mixer", "Pump", "Oven", "Conveyor", "Filler", "Press", "Boiler", "Chiller", "Robot", "Tank"];

// The node id of plant variable i (docs/simulator-opcua.md).
function plantNode(i) {
  const eq = Math.floor(i / 10), line = Math.floor(eq / 10), site = Math.floor(line / 10);
  const l = (line % 10) + 1;
  return `ns=1;s=Plant.Site${site + 1}.Line${l}.${EQUIPMENT[eq % 10]}${l}.${NAMES[i % 10]}`;
}

async function main() {
  const [endpoint, items] = [process.argv[2], Number(process.argv[3])];
  const client = OPCUAClient.create({ endpointMustExist: false, securityMode: MessageSecurityMode.None,
                                      securityPolicy: SecurityPolicy.None,
                                      connectionStrategy: { maxRetry: 3, initialDelay: 200, maxDelay: 1000 } });
  await client.connect(endpoint);
  const session = await client.createSession();
  const sub = ClientSubscription.create(session, {
    requestedPublishingInterval: 1000, requestedLifetimeCount: 60, requestedMaxKeepAliveCount: 10,
    maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1 });
  let count = 0;
  const PER_CALL = 1000;  // the simulator's MaxMonitoredItemsPerCall
  for (let start = 0; start < items; start += PER_CALL) {
    const ids = [];
    for (let i = start; i < Math.min(items, start + PER_CALL); i++) {
      ids.push({ nodeId: plantNode(i), attributeId: AttributeIds.Value });
    }
    const group = ClientMonitoredItemGroup.create(sub, ids, { samplingInterval: 1000, discardOldest: true, queueSize: 1 },
                                                  TimestampsToReturn.Both);
    group.on("changed", () => { count++; });
    await new Promise((resolve, reject) => { group.on("initialized", resolve); group.on("err", reject); });
  }
  process.stdout.write(`ready ${items}\n`);
  setInterval(() => process.stdout.write(`count ${count}\n`), 1000);
  const stop = async () => { await sub.terminate(); await session.close(); await client.disconnect(); process.exit(0); };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((e) => { process.stderr.write(`load_client failed: ${e.stack || e}\n`); process.exit(1); });

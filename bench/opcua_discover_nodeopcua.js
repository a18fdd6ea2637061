// node-opcua client side of bench/opcua_discovery.py: discovers the variables below
// Objects/1:Plant of our simulator the way the connector does (breadth-first, one level per
// round, 1000 nodes per Browse request — the simulator's MaxNodesPerBrowse — continuation
// points followed with BrowseNext) and prints "DISCOVERED <variables> <seconds>", the time
// from before connect until the last level is browsed.
//   node bench/opcua_discover_nodeopcua.js <endpoint>
"use strict";
const path = require("path");
require(path.join(__dirname, "..", "tests", "interop", "opcua-js", "node18"));  // Web Crypto on Node.js 18
const op = require(path.join(__dirname, "..", "tests", "interop", "opcua-js", "node_modules", "node-opcua"));

async function main() {
  const [url] = process.argv.slice(2);
  const t0 = process.hrtime.bigint();
  const client = op.OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 1 } });
  await client.connect(url);
  const session = await client.createSession();
  const seen = new Set();
  let variables = 0;
  let level = ["ns=1;s=Plant"];
  while (level.length > 0) {
    const next = [];
    for (let i = 0; i < level.length; i += 1000) {
      const descs = level.slice(i, i + 1000).map((nodeId) => ({
        nodeId, browseDirection: op.BrowseDirection.Forward, referenceTypeId: "HierarchicalReferences",
        includeSubtypes: true, nodeClassMask: 0, resultMask: 63 }));
      let results = await session.browse(descs);
      for (;;) {
        const points = [];
        for (const r of results) {
          for (const ref of r.references || []) {
            const id = ref.nodeId.toString();
            if (seen.has(id)) continue;
            seen.add(id);
            if (ref.nodeClass === op.NodeClass.Variable) variables++;
            if (ref.nodeClass === op.NodeClass.Variable || ref.nodeClass === op.NodeClass.Object) next.push(id);
          }
          if (r.continuationPoint && r.continuationPoint.length > 0) points.push(r.continuationPoint);
        }
        if (points.length === 0) break;
        results = await session.browseNext(points, false);
      }
    }
    level = next;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(`DISCOVERED ${variables} ${seconds}\n`);
  await session.close();
  await client.disconnect();
}

main().catch((e) => {
  process.stderr.write(`discovery failed: ${e.stack || e}\n`);
  process.exit(1);
});

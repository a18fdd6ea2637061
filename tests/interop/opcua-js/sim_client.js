// A node-opcua client against our OPC UA simulator: browses, reads, translates a browse
// path and subscribes, then prints one JSON object with what it saw (values in a
// type-exact text form) for tests/interop/opcua_simulator_test.py to check.
// Usage: node sim_client.js <endpoint> <subscribe_ms>
"use strict";
require("./node18");  // before node-opcua: Web Crypto on Node.js 18
const {
  OPCUAClient, AttributeIds, MessageSecurityMode, SecurityPolicy, TimestampsToReturn,
  ClientSubscription, ClientMonitoredItem, makeBrowsePath, DataType, BrowseDirection,
} = require("node-opcua");

function text(variant) {
  const t = DataType[variant.dataType];
  const one = (v) => {
    if (t === "Int64" || t === "UInt64") {
      let big = (BigInt(v[0] >>> 0) << 32n) | BigInt(v[1] >>> 0);
      if (t === "Int64" && big >= (1n << 63n)) big -= 1n << 64n;
      return big.toString();
    }
    if (t === "DateTime") return v.toISOString();
    if (t === "ByteString") return v.toString("hex");
    if (t === "Float") return Math.fround(v).toString();
    return v === null ? null : v.toString();
  };
  const isArray = variant.arrayType !== 0;  // VariantArrayType.Scalar = 0
  return { type: t, array: isArray, value: isArray ? Array.from(variant.value).map(one) : one(variant.value) };
}

async function main() {
  const [endpoint, subscribeMs] = [process.argv[2], Number(process.argv[3] || 3000)];
  const client = OPCUAClient.create({
    applicationName: "uc-interop", endpointMustExist: true,
    securityMode: MessageSecurityMode.None, securityPolicy: SecurityPolicy.None,
    connectionStrategy: { maxRetry: 3, initialDelay: 200, maxDelay: 1000 },
  });
  const out = { endpoints: [], browse: {}, read: {}, translate: null, notifications: {}, statuses: [] };
  await client.connect(endpoint);
  for (const e of await client.getEndpoints()) out.endpoints.push({ url: e.endpointUrl, policy: e.securityPolicyUri });
  const session = await client.createSession();
  out.namespaces = (await session.readNamespaceArray());
  for (const folder of ["ns=1;s=Demo.Static", "ns=1;s=Demo.Dynamic", "i=85"]) {
    const r = await session.browse({ nodeId: folder, browseDirection: BrowseDirection.Forward,
                                     referenceTypeId: "HierarchicalReferences", includeSubtypes: true,
                                     resultMask: 63 });
    out.browse[folder] = r.references.map((x) => ({ id: x.nodeId.toString(), name: x.browseName.toString(),
                                                    cls: x.nodeClass }));
  }
  for (const ref of out.browse["ns=1;s=Demo.Static"]) {
    const dv = await session.read({ nodeId: ref.id, attributeId: AttributeIds.Value });
    const dt = await session.read({ nodeId: ref.id, attributeId: AttributeIds.DataType });
    out.read[ref.name] = { ...text(dv.value), status: dv.statusCode.name,
                           datatype: dt.value.value.toString(), has_source_ts: !!dv.sourceTimestamp };
  }
  const tr = await session.translateBrowsePath(
    makeBrowsePath("i=85", "/1:Plant/1:Site1/1:Line1/1:Mixer1/1:Temperature"));
  out.translate = { status: tr.statusCode.name, targets: tr.targets.map((t) => t.targetId.toString()) };

  const sub = ClientSubscription.create(session, {
    requestedPublishingInterval: 250, requestedLifetimeCount: 100, requestedMaxKeepAliveCount: 10,
    maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1 });
  for (const name of ["Counter", "Status", "Sine", "Text"]) {
    const item = ClientMonitoredItem.create(sub, { nodeId: `ns=1;s=Demo.Dynamic.${name}`, attributeId: AttributeIds.Value },
                                            { samplingInterval: 250, discardOldest: true, queueSize: 1 },
                                            TimestampsToReturn.Both);
    out.notifications[name] = [];
    item.on("changed", (dv) => {
      out.notifications[name].push({ ...text(dv.value), status: dv.statusCode.name,
                                     source: dv.sourceTimestamp ? dv.sourceTimestamp.toISOString() : null });
    });
  }
  await new Promise((r) => setTimeout(r, subscribeMs));
  await sub.terminate();
  await session.close();
  await client.disconnect();
  process.stdout.write("RESULT " + JSON.stringify(out) + "\n");
}

main().catch((e) => { process.stderr.write(`sim_client failed: ${e.stack || e}\n`); process.exit(1); });

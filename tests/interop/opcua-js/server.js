// node-opcua peer for the interop tests: a server on 127.0.0.1 with one variable of each
// common built-in type, arrays, a counter and a variable whose StatusCode changes.
//
//   node server.js <port> <pki-dir> [scale-count] [users]
//
// With "users" as the fourth argument the server refuses anonymous logins and accepts
// the user name "operator" with the password "s3cret-pw" only (UserName token policy
// "username_basic256Sha256" on the None endpoint: the password travels RSA-OAEP encrypted).
// Folder "Deadband" holds "Analog" (an AnalogDataItem, Double, EURange 0..200) and "Plain"
// (a plain Double), both set every 100 ms to the same value
// 100 + (t mod 5) + 40 * (floor(t / 5) mod 2) with t = floor(epoch ms / 100): steps of 1
// four times, then a jump of +36 or -44 (so a deadband of 5 absolute or 5 % of the
// EURange passes only the jumps).
// With scale-count, folder "Scale" holds that many Double variables s=Scale.<i>, all set to
// (epoch second + i) every second (for the many-items test and load runs).
// Prints "READY <endpoint-url> <namespace-uri of ns=1>" once it accepts connections. The fixed variables carry
// SOURCE_TS as source timestamp so tests can compare exactly; see EXPECTED for their values.
// "Counter" is the current epoch second; "Flaky" has that value too, with the StatusCode
// cycling Good / UncertainLastUsableValue / BadSensorFailure by counter % 3, and the counter
// second as its source timestamp.
"use strict";
const path = require("path");
require("./node18");  // before node-opcua: Web Crypto on Node.js 18
const {
  OPCUAServer, OPCUACertificateManager, Variant, DataType, DataValue, StatusCodes, VariantArrayType,
  MessageSecurityMode, SecurityPolicy,
} = require("node-opcua");

const port = parseInt(process.argv[2], 10);
const pki = process.argv[3];
const scaleCount = parseInt(process.argv[4] || "0", 10);
const users = process.argv[5] === "users";
const SOURCE_TS = new Date("2024-01-02T03:04:05.678Z");

function i64(v) {
  const b = BigInt.asUintN(64, BigInt(v));
  return [Number(b >> 32n), Number(b & 0xffffffffn)];
}

const FIXED = [
  ["Bool", DataType.Boolean, true],
  ["SByte", DataType.SByte, -100],
  ["Byte", DataType.Byte, 200],
  ["Int16", DataType.Int16, -30000],
  ["UInt16", DataType.UInt16, 60000],
  ["Int32", DataType.Int32, -2000000000],
  ["UInt32", DataType.UInt32, 4000000000],
  ["Int64", DataType.Int64, i64("-1234567890123")],
  ["UInt64", DataType.UInt64, i64("18446744073709551615")],
  ["Float", DataType.Float, 3.5],
  ["Double", DataType.Double, -12345.678901234567],
  ["String", DataType.String, "h\u00e9llo \u6c34"],
  ["DateTime", DataType.DateTime, new Date("2023-05-06T07:08:09.123Z")],
  ["ByteString", DataType.ByteString, Buffer.from([0, 1, 2, 254, 255])],
];
const ARRAYS = [
  ["DoubleArray", DataType.Double, [1.5, -2.25, 3]],
  ["Int32Array", DataType.Int32, [1, -2, 3, 2147483647]],
  ["StringArray", DataType.String, ["a", "", "c"]],
];

async function main() {
  const certificateManager = new OPCUACertificateManager({
    rootFolder: path.join(pki, "server"), automaticallyAcceptUnknownCertificate: true,
  });
  const server = new OPCUAServer({
    port, host: "127.0.0.1", hostname: "127.0.0.1", resourcePath: "/UA/Interop",
    serverCertificateManager: certificateManager,
    // With users, a Basic256Sha256 endpoint exists too: node-opcua offers the UserName token
    // policy (password encrypted with Basic256Sha256) on the None endpoint only then.
    securityModes: users ? [MessageSecurityMode.None, MessageSecurityMode.SignAndEncrypt] : [MessageSecurityMode.None],
    securityPolicies: users ? [SecurityPolicy.None, SecurityPolicy.Basic256Sha256] : [SecurityPolicy.None],
    allowAnonymous: !users,
    userManager: users ? { isValidUser: (user, password) => user === "operator" && password === "s3cret-pw" } : undefined,
    buildInfo: { productName: "uc-interop", buildNumber: "1", buildDate: new Date() },
    serverCapabilities: {
      operationLimits: { maxNodesPerRead: 5, maxNodesPerBrowse: 5, maxNodesPerTranslateBrowsePathsToNodeIds: 2 },
    },
  });
  await server.initialize();
  const addressSpace = server.engine.addressSpace;
  const ns = addressSpace.getOwnNamespace();
  const folder = ns.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: "Interop", nodeId: "s=Interop" });

  for (const [name, dataType, value] of FIXED) {
    const v = ns.addVariable({ componentOf: folder, browseName: name, nodeId: "s=" + name, dataType });
    v.setValueFromSource(new Variant({ dataType, arrayType: VariantArrayType.Scalar, value }), StatusCodes.Good, SOURCE_TS);
  }
  for (const [name, dataType, value] of ARRAYS) {
    const v = ns.addVariable({ componentOf: folder, browseName: name, nodeId: "s=" + name, dataType, valueRank: 1,
                               arrayDimensions: [value.length] });
    v.setValueFromSource(new Variant({ dataType, arrayType: VariantArrayType.Array, value }), StatusCodes.Good, SOURCE_TS);
  }
  const statuses = [StatusCodes.Good, StatusCodes.UncertainLastUsableValue, StatusCodes.BadSensorFailure];
  const second = () => Math.floor(Date.now() / 1000);
  ns.addVariable({
    componentOf: folder, browseName: "Counter", nodeId: "s=Counter", dataType: "UInt32", minimumSamplingInterval: 100,
    value: { timestamped_get: () => new DataValue({
      value: { dataType: DataType.UInt32, value: second() }, sourceTimestamp: new Date(second() * 1000),
      serverTimestamp: new Date() }) },
  });
  ns.addVariable({
    componentOf: folder, browseName: "Flaky", nodeId: "s=Flaky", dataType: "UInt32", minimumSamplingInterval: 100,
    value: { timestamped_get: () => {
      const s = second();
      return new DataValue({ value: { dataType: DataType.UInt32, value: s }, statusCode: statuses[s % 3],
                             sourceTimestamp: new Date(s * 1000), serverTimestamp: new Date() });
    } },
  });
  // Many children so Browse needs continuation points when the client caps references.
  const many = ns.addObject({ organizedBy: folder, browseName: "Many", nodeId: "s=Many" });
  for (let i = 0; i < 25; i++) {
    ns.addVariable({ componentOf: many, browseName: `Item${String(i).padStart(2, "0")}`, nodeId: `s=Many.${i}`,
                     dataType: "Int32", value: { dataType: DataType.Int32, value: i } });
  }

  const deadband = ns.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: "Deadband",
                                  nodeId: "s=Deadband" });
  const analog = ns.addAnalogDataItem({
    componentOf: deadband, browseName: "Analog", nodeId: "s=Deadband.Analog", dataType: "Double",
    engineeringUnitsRange: { low: 0, high: 200 }, minimumSamplingInterval: 50,
  });
  const plain = ns.addVariable({ componentOf: deadband, browseName: "Plain", nodeId: "s=Deadband.Plain",
                                 dataType: "Double", minimumSamplingInterval: 50 });
  const step = () => {
    const t = Math.floor(Date.now() / 100);
    const v = new Variant({ dataType: DataType.Double, value: 100 + (t % 5) + 40 * (Math.floor(t / 5) % 2) });
    analog.setValueFromSource(v, StatusCodes.Good, new Date(t * 100));
    plain.setValueFromSource(v, StatusCodes.Good, new Date(t * 100));
  };
  step();
  const stepTimer = setInterval(step, 100);
  addressSpace.registerShutdownTask(() => clearInterval(stepTimer));

  if (scaleCount > 0) {
    const scale = ns.addObject({ organizedBy: folder, browseName: "Scale", nodeId: "s=Scale" });
    const vars = [];
    for (let i = 0; i < scaleCount; i++) {
      vars.push(ns.addVariable({ componentOf: scale, browseName: `V${i}`, nodeId: `s=Scale.${i}`, dataType: "Double" }));
    }
    const tick = () => {
      const s = Math.floor(Date.now() / 1000);
      const ts = new Date(s * 1000);
      vars.forEach((v, i) => v.setValueFromSource(new Variant({ dataType: DataType.Double, value: s + i }),
                                                  StatusCodes.Good, ts));
    };
    tick();
    const timer = setInterval(tick, 1000);
    addressSpace.registerShutdownTask(() => clearInterval(timer));
  }
  await server.start();
  process.stdout.write(`READY opc.tcp://127.0.0.1:${port}/UA/Interop ${ns.namespaceUri}\n`);
  const stop = async () => {
    await server.shutdown(0);
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((e) => {
  process.stderr.write(`server failed: ${e.stack || e}\n`);
  process.exit(1);
});

// Loaded before node-opcua by every script that uses it. node-opcua 2.18x draws its random
// numbers from globalThis.crypto, which Node.js 18 (Debian 12's) provides only behind
// --experimental-global-webcrypto; from Node.js 19 it is always there. The same Web Crypto
// object is exported by the crypto module in every version since 15.
if (!globalThis.crypto) globalThis.crypto = require("crypto").webcrypto;

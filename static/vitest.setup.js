// Node 18 has Web Crypto only as require('node:crypto').webcrypto; the
// browser code under test uses the global.
import { webcrypto } from 'node:crypto';

if (!globalThis.crypto) globalThis.crypto = webcrypto;

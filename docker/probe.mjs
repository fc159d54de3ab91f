// Real operations for the containers' healthchecks and the docker test, run with the image's own node:
//   probe.mjs hypercall               physinfo to the hypervisor over NATS (in the hypervisor container)
//   probe.mjs xs-read <path>          XS_READ over xenstored's xs_wire socket (XENSTORED_PATH; dom0 container)
//   probe.mjs xs-write <path> <value> XS_WRITE, the same way
//   probe.mjs nats-healthz <port>     nats-server's monitoring /healthz on 127.0.0.1 (nats container)
// Exit status 0 only when the operation succeeded; the reason for a failure goes to stderr.
import { connect as netConnect } from 'node:net';

const TIMEOUT_MS = 4000;
const [, , op, ...args] = process.argv;

function fail(msg) {
  process.stderr.write(`probe ${op}: ${msg}\n`);
  process.exit(1);
}

setTimeout(() => fail(`no answer within ${TIMEOUT_MS} ms`), TIMEOUT_MS).unref();

// The hypervisor's container holds the identity store (DOMINION_IDENTITY_DIR), which mints every domain's
// credentials: the probe mints itself a control-domain user that expires in a minute and asks for physinfo,
// so the check is a hypercall served by the running hypervisor, not a liveness ping.
async function hypercall() {
  const { IdentityStore, mintDomainUser } = await import('@dominion/identity');
  const { credsAuthenticator, connect } = await import('@nats-io/transport-node');
  const { HypervisorClient } = await import('@dominion/hypervisor');
  const dir = process.env.DOMINION_IDENTITY_DIR;
  if (!dir) fail('DOMINION_IDENTITY_DIR is not set');
  const store = await IdentityStore.open(dir);
  const user = await mintDomainUser(store.account, 0, 'control', { expiresInSec: 60 });
  const nc = await connect({
    servers: process.env.DOMINION_NATS_URL ?? 'nats://127.0.0.1:4222',
    authenticator: credsAuthenticator(new TextEncoder().encode(user.creds)),
    inboxPrefix: user.inboxPrefix,
    name: 'healthcheck',
  });
  try {
    const info = await new HypervisorClient(nc, 0, { timeoutMs: TIMEOUT_MS - 1000 }).physinfo();
    process.stdout.write(`${JSON.stringify(info)}\n`);
  } finally {
    await nc.close();
  }
}

// One xs_wire request (header: type, req_id, tx_id, len; little-endian u32s) and its reply.
async function xsRequest(name, fields) {
  const { XS } = await import('@dominion/abi');
  const type = XS[name];
  const path = process.env.XENSTORED_PATH;
  if (!path) fail('XENSTORED_PATH is not set');
  const payload = Buffer.concat(fields.map((f) => Buffer.from(f)));
  const header = Buffer.alloc(16);
  header.writeUInt32LE(type, 0);
  header.writeUInt32LE(1, 4);
  header.writeUInt32LE(0, 8);
  header.writeUInt32LE(payload.length, 12);
  return new Promise((resolve, reject) => {
    const sock = netConnect(path);
    let got = Buffer.alloc(0);
    sock.on('error', (e) => reject(new Error(`${path}: ${e.message}`)));
    sock.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length < 16 || got.length < 16 + got.readUInt32LE(12)) return;
      sock.destroy();
      const body = got.subarray(16, 16 + got.readUInt32LE(12)).toString('utf8');
      if (got.readUInt32LE(0) === XS.XS_ERROR)
        reject(new Error(`${body.replace(/\0$/, '')} (${fields[0].replace(/\0$/, '')})`));
      else resolve(body);
    });
    sock.write(Buffer.concat([header, payload]));
  });
}

async function natsHealthz(port) {
  const r = await fetch(`http://127.0.0.1:${port}/healthz`);
  const body = await r.text();
  if (r.status !== 200) fail(`HTTP ${r.status}: ${body}`);
  process.stdout.write(body.endsWith('\n') ? body : `${body}\n`);
}

try {
  switch (op) {
    case 'hypercall':
      await hypercall();
      break;
    case 'xs-read':
      if (args.length !== 1) fail('usage: xs-read <path>');
      process.stdout.write(`${await xsRequest('XS_READ', [`${args[0]}\0`])}\n`);
      break;
    case 'xs-write':
      if (args.length !== 2) fail('usage: xs-write <path> <value>');
      await xsRequest('XS_WRITE', [`${args[0]}\0`, args[1]]);
      break;
    case 'nats-healthz':
      if (!/^[0-9]+$/.test(args[0] ?? '')) fail('usage: nats-healthz <monitoring port>');
      await natsHealthz(args[0]);
      break;
    default:
      fail('expected one of hypercall, xs-read, xs-write, nats-healthz');
  }
  process.exit(0);
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}

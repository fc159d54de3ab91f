// A ring stream over TLS (DOMINION_GRPC_TLS_*): the backend serves with a certificate from a throwaway CA
// made by openssl; a frontend trusting that CA does I/O, while a plaintext frontend and one trusting another
// CA never get a stream, and no request of theirs reaches the backend.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { grpcServerCredentials, loadGrpcTls } from '@dominion/runtime';
import { tempDir, waitFor } from '@dominion/testing';
import { Backend, Front, domain, pattern, target, vbdDevice, type Domain } from './fixtures.js';
import { makeTestPki, type TestPki } from '@dominion/testing';

const dom5: Domain = domain(5);
const tmp = tempDir('dominion-ring-tls-');
let pki: TestPki;
let be: Backend;
const fronts: Front[] = [];

beforeAll(async () => {
  execFileSync('openssl', ['version']);
  pki = makeTestPki(tmp.path);
  const tls = loadGrpcTls({ DOMINION_GRPC_TLS_CERT: pki.cert, DOMINION_GRPC_TLS_KEY: pki.key });
  be = await new Backend().listen(0, { credentials: grpcServerCredentials(tls) });
  be.keys.set(5, dom5.key);
  be.devices.set(vbdDevice(5), { frontendId: 5, ringRefs: [8], alive: true });
});

afterEach(() => {
  for (const f of fronts.splice(0)) f.stream.close();
});

afterAll(() => {
  be?.kill();
  tmp.remove();
});

function front(tls: Parameters<typeof loadGrpcTls>[0] | null): Front {
  const f = new Front(dom5, target(be, 5, 8), { tls: tls === null ? null : loadGrpcTls(tls) });
  fronts.push(f);
  return f.start();
}

/** The frontend keeps redialing and never reaches Connected. */
async function neverConnects(f: Front): Promise<void> {
  await waitFor(() => f.stream.lastError, 5000, 'a failed dial');
  expect(f.stream.state).not.toBe('connected');
  expect(f.stream.connects).toBe(0);
}

describe('ring streams over TLS', () => {
  it('a frontend trusting the CA writes and reads; a plaintext one never connects', async () => {
    const served = be.served.length;
    const plain = front(null);
    const good = front({ DOMINION_GRPC_TLS_CA: pki.ca });
    await good.stream.whenConnected();
    expect((await good.write(0, pattern(7))).status).toBe(0);
    const r = await good.read(0);
    expect(r.rsp.status).toBe(0);
    expect(Buffer.compare(r.page, pattern(7))).toBe(0);

    await neverConnects(plain);
    expect(be.served.length - served).toBe(2); // only the TLS frontend's write and read
  });

  it('a frontend trusting another CA is refused, beside one trusting the right CA', async () => {
    const other = front({ DOMINION_GRPC_TLS_CA: pki.otherCa });
    const good = front({ DOMINION_GRPC_TLS_CA: pki.ca });
    await good.stream.whenConnected();
    await neverConnects(other);
  });

  it('takes its TLS from DOMINION_GRPC_TLS_* by default, so services need no change', async () => {
    const saved = process.env.DOMINION_GRPC_TLS_CA;
    process.env.DOMINION_GRPC_TLS_CA = pki.ca;
    try {
      const f = new Front(dom5, target(be, 5, 8), { tls: undefined });
      fronts.push(f);
      await f.start().stream.whenConnected();
      expect((await f.write(8, pattern(9))).status).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.DOMINION_GRPC_TLS_CA;
      else process.env.DOMINION_GRPC_TLS_CA = saved;
    }
  });
});

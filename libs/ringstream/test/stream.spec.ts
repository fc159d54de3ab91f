// The stream's own mechanics: pushes split into bounded messages, detach, the handshake deadline, and a
// frontend that will not be fooled by its backend (a relayed challenge, a response it never asked for).
import { afterEach, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import { issueRingChallenge } from '@dominion/identity';
import { BLKIF_OP, encodeRequest } from '@dominion/blkif';
import type { WireBackMessage, WireFrontMessage } from '@dominion/proto';
import { waitFor } from '@dominion/testing';
import { RING_CHANNEL_OPTIONS, ringServiceDefinition, splitPush } from '../src/index.js';
import {
  Backend,
  BACKEND,
  Front,
  RawRingClient,
  bindRetrying,
  domain,
  pattern,
  rw,
  target,
  vbdDevice,
  type Domain,
} from './fixtures.js';

const dom5: Domain = domain(5);
const servers: Array<{ kill(): void }> = [];
const fronts: Front[] = [];

afterEach(() => {
  for (const f of fronts.splice(0)) f.stream.close();
  for (const s of servers.splice(0)) s.kill();
});

async function backend(opts: { handshakeTimeoutMs?: number; maxBatchBytes?: number } = {}): Promise<Backend> {
  const be = await new Backend().listen(0, opts);
  be.keys.set(5, dom5.key);
  be.devices.set(vbdDevice(5), { frontendId: 5, ringRefs: [8], alive: true });
  servers.push(be);
  return be;
}

describe('splitPush', () => {
  it('gives each part the producer index after its last entry, across the u32 wrap', () => {
    const parts = splitPush([3, 3, 3, 3, 3], 2, (n) => n, 6);
    expect(parts).toEqual([
      { prod: 0xffffffff, entries: [3, 3] },
      { prod: 1, entries: [3, 3] },
      { prod: 2, entries: [3] },
    ]);
    // an entry bigger than the limit still goes, alone
    expect(splitPush([10, 1], 7, (n) => n, 4)).toEqual([
      { prod: 6, entries: [10] },
      { prod: 7, entries: [1] },
    ]);
    expect(splitPush([], 9, (n: number) => n, 4)).toEqual([]);
  });
});

describe('ring stream mechanics', () => {
  it('splits a big push of responses into bounded messages, each with its own rsp_prod', async () => {
    const be = await backend({ maxBatchBytes: 9000 });
    be.gate.close();
    const raw = new RawRingClient(be.endpoint);
    try {
      await raw.connect(dom5, target(be, 5, 8));
      const reqs = Array.from({ length: 8 }, (_, i) => ({
        req: encodeRequest(rw(BLKIF_OP.BLKIF_OP_READ, BigInt(i + 1), i * 8, 100 + i)),
        copies: [],
      }));
      raw.call.write({ requests: { reqProd: 8, requests: reqs } });
      await waitFor(() => be.held === 8);
      be.gate.release(); // all eight answered before one push
      await waitFor(() => raw.received.length === 6);
      const batches = raw.received.slice(2).map((m) => ('responses' in m ? m.responses : undefined)!);
      // two 4 KiB pages and two 16-byte responses fit in 9000 bytes, a third page would not
      expect(batches.map((b) => b.rspProd)).toEqual([2, 4, 6, 8]);
      expect(batches.map((b) => b.responses.length)).toEqual([2, 2, 2, 2]);
    } finally {
      raw.close();
    }
  });

  it('splits a big push of requests into bounded messages, each with its own req_prod', async () => {
    const prods: number[] = [];
    const endpoint = await rogue((call, m) => {
      if (m.msg === 'hello') call.write({ challenge: challengeFor(5) });
      else if (m.msg === 'proof') call.write({ connected: { ringSize: 32, backend: BACKEND } });
      else if (m.msg === 'requests') prods.push(m.requests.reqProd);
    });
    const f = new Front(
      dom5,
      { endpoint, backend: BACKEND, device: vbdDevice(5), ringRef: 8 },
      { maxBatchBytes: 9000 },
    );
    f.start();
    fronts.push(f);
    await f.stream.whenConnected();
    for (let i = 0; i < 8; i++) void f.write(i * 8, pattern(i)).catch(() => undefined);
    await waitFor(() => prods.length === 4);
    expect(prods).toEqual([2, 4, 6, 8]);
  });

  it('detach() ends the streams of a device; the frontend redials and, its device gone, is refused', async () => {
    const be = await backend();
    const f = new Front(dom5, target(be, 5, 8)).start();
    fronts.push(f);
    await f.stream.whenConnected();
    expect(be.svc.detach({ device: vbdDevice(6) }, 'device detached')).toBe(0);
    be.devices.delete(vbdDevice(5));
    expect(be.svc.detach({ device: vbdDevice(5) }, 'device detached')).toBe(1);
    await waitFor(() => f.stream.state === 'refused');
    expect(f.stream.lastError?.message).toContain(`${vbdDevice(5)} does not exist`);
    expect(be.closed[0]?.message).toContain('device detached');
  });

  it('stops redialing once its FrontRing was closed directly', async () => {
    const be = await backend();
    const f = new Front(dom5, target(be, 5, 8)).start();
    fronts.push(f);
    await f.stream.whenConnected();
    f.ring.close('device closed');
    be.kill();
    await waitFor(() => f.stream.state === 'closed', 5000, 'the stream to close');
    await expect(f.stream.whenConnected()).rejects.toThrow(/closed/);
  });

  it('ends a stream that does not prove itself in time with DEADLINE_EXCEEDED', async () => {
    const be = await backend({ handshakeTimeoutMs: 100 });
    const raw = new RawRingClient(be.endpoint);
    try {
      const t = target(be, 5, 8);
      raw.call.write({ hello: { device: t.device, ringRef: 8, frontendDomid: 5, queue: 0, protocol: 'x86_64-abi' } });
      const st = await raw.status;
      expect(st.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      expect(st.details).toContain(`ring stream of dom5 for ${vbdDevice(5)} queue 0: no proof of identity in time`);
    } finally {
      raw.close();
    }
  });
});

function challengeFor(fe: number) {
  return { ...issueRingChallenge({ backend: BACKEND, device: vbdDevice(fe), ringRef: 8, frontendDomid: fe }) };
}

/** A backend that does the handshake as told by `script`, to misbehave where the test wants. */
async function rogue(
  script: (call: grpc.ServerDuplexStream<WireFrontMessage, WireBackMessage>, m: WireFrontMessage) => void,
): Promise<string> {
  const server = new grpc.Server(RING_CHANNEL_OPTIONS);
  server.addService(ringServiceDefinition(), {
    Connect: (call: grpc.ServerDuplexStream<WireFrontMessage, WireBackMessage>) => {
      call.on('data', (m: WireFrontMessage) => script(call, m));
      call.on('error', () => undefined);
    },
  });
  const port = await bindRetrying(server, 0);
  servers.push({ kill: () => server.forceShutdown() });
  return `127.0.0.1:${port}`;
}

describe('a frontend facing a misbehaving backend', () => {
  it('refuses to sign a challenge for another device (a relay), and says so', async () => {
    const endpoint = await rogue((call, m) => {
      if (m.msg === 'hello')
        call.write({
          challenge: {
            ...issueRingChallenge({ backend: BACKEND, device: vbdDevice(6), ringRef: 8, frontendDomid: 5 }),
          },
        });
    });
    const f = new Front(dom5, { endpoint, backend: BACKEND, device: vbdDevice(5), ringRef: 8 }).start();
    fronts.push(f);
    await expect(f.stream.whenConnected()).rejects.toThrow(
      /challenge is for backend 1 device \/local\/domain\/1\/backend\/vbd\/6\/51712/,
    );
    expect(f.stream.state).toBe('refused');
  });

  it('drops a stream whose backend answers a request never made, and keeps the request for the next one', async () => {
    let streams = 0;
    const endpoint = await rogue((call, m) => {
      if (m.msg === 'hello') {
        streams++;
        call.write({
          challenge: {
            ...issueRingChallenge({ backend: BACKEND, device: vbdDevice(5), ringRef: 8, frontendDomid: 5 }),
          },
        });
      } else if (m.msg === 'proof') call.write({ connected: { ringSize: 32, backend: BACKEND } });
      else if (m.msg === 'requests' && streams === 1) {
        const bogus = Buffer.alloc(16);
        bogus.writeBigUInt64LE(999n, 0);
        call.write({ responses: { rspProd: 1, responses: [{ rsp: bogus, copies: [] }] } });
      }
    });
    const f = new Front(dom5, { endpoint, backend: BACKEND, device: vbdDevice(5), ringRef: 8 }).start();
    fronts.push(f);
    await f.stream.whenConnected();
    void f.read(0).catch(() => undefined);
    await waitFor(() => f.stream.connects === 2, 5000, 'the frontend to redial');
    expect(f.ring.lastError?.message).toContain('response id 999 matches no request in flight');
    expect(f.ring.inFlight).toBe(1);
    expect(f.ring.reissued).toBe(1);
  });
});

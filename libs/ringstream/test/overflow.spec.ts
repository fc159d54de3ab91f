// A frontend that breaks the ring (more requests outstanding than RING_SIZE, a reused id, a malformed
// entry, a batch before the handshake ends) loses its own stream, with the reason; another frontend's
// stream on the same backend goes on serving I/O.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { status } from '@grpc/grpc-js';
import { BLKIF_OP, encodeRequest } from '@dominion/blkif';
import type { WireRequest } from '@dominion/proto';
import {
  Backend,
  Front,
  RING_SIZE,
  RawRingClient,
  domain,
  pattern,
  rw,
  target,
  vbdDevice,
  type Domain,
} from './fixtures.js';

const dom5: Domain = domain(5);
const dom7: Domain = domain(7);
let be: Backend;
let good: Front;

beforeAll(async () => {
  be = await new Backend().listen();
  be.keys.set(5, dom5.key).set(7, dom7.key);
  be.devices.set(vbdDevice(5), { frontendId: 5, ringRefs: [8], alive: true });
  be.devices.set(vbdDevice(7), { frontendId: 7, ringRefs: [8], alive: true });
  good = new Front(dom5, target(be, 5, 8)).start();
  await good.stream.whenConnected();
});

afterAll(() => {
  good.stream.close();
  be.kill();
});

function requests(ids: number[]): WireRequest[] {
  return ids.map((id) => ({ req: encodeRequest(rw(BLKIF_OP.BLKIF_OP_READ, BigInt(id), 0, 100 + id)), copies: [] }));
}

/** dom7 connects honestly to its own device, then sends `batches`; resolves with the stream's status. */
async function misbehave(batches: Array<{ reqProd: number; requests: WireRequest[] }>) {
  const raw = new RawRingClient(be.endpoint);
  try {
    await raw.connect(dom7, target(be, 7, 8));
    expect(raw.received.map((m) => m.msg)).toEqual(['challenge', 'connected']);
    for (const b of batches) raw.call.write({ requests: b });
    return await raw.status;
  } finally {
    raw.close();
  }
}

/** Meanwhile dom5's stream serves a full ring of writes and reads them back. */
async function goodStillWorks(): Promise<void> {
  const n = RING_SIZE;
  const w = await Promise.all(Array.from({ length: n }, (_, i) => good.write(i * 8, pattern(i + 50))));
  expect(w.every((r) => r.status === 0)).toBe(true);
  const r = await Promise.all(Array.from({ length: n }, (_, i) => good.read(i * 8)));
  r.forEach((x, i) => expect(x.page.equals(pattern(i + 50))).toBe(true));
  expect(good.stream.state).toBe('connected');
  expect(good.stream.connects).toBe(1);
}

describe('a misbehaving frontend', () => {
  it(`is cut off when it puts more than RING_SIZE (${RING_SIZE}) requests outstanding`, async () => {
    // dom7's requests are never answered, so its outstanding count only grows; dom5's are served
    const never = new Promise<void>(() => undefined);
    be.hold = (_req, fe) => (fe === 7 ? never : Promise.resolve());
    const ids = Array.from({ length: RING_SIZE + 1 }, (_, i) => i + 1);
    const [st] = await Promise.all([
      misbehave([
        { reqProd: 16, requests: requests(ids.slice(0, 16)) },
        { reqProd: RING_SIZE + 1, requests: requests(ids.slice(16)) },
      ]),
      goodStillWorks(),
    ]);
    be.hold = undefined;
    expect(st.code).toBe(status.INTERNAL);
    expect(st.metadata.get('xen-errno')).toEqual(['EPROTO']);
    expect(st.details).toContain(
      `frontend overflowed the ring: req_prod ${RING_SIZE + 1} puts ${RING_SIZE + 1} requests outstanding on a ring of ${RING_SIZE} slots`,
    );
    await goodStillWorks();
  });

  it('is cut off for an id still outstanding, naming it', async () => {
    const st = await misbehave([{ reqProd: 2, requests: requests([4, 4]) }]);
    expect(st.code).toBe(status.INTERNAL);
    expect(st.details).toContain('request id 4 is already outstanding');
    await goodStillWorks();
  });

  it('is cut off for an entry too short to be a blkif request, naming where it was', async () => {
    const st = await misbehave([{ reqProd: 2, requests: [...requests([1]), { req: Buffer.alloc(40), copies: [] }] }]);
    expect(st.code).toBe(status.INTERNAL);
    expect(st.details).toContain('request 1 of the batch up to req_prod 2: blkif request of 40 bytes');
    await goodStillWorks();
  });

  it('is cut off for a req_prod that does not match its batch', async () => {
    const st = await misbehave([{ reqProd: 5, requests: requests([1, 2]) }]);
    expect(st.details).toContain('req_prod 5 does not follow req_cons 0 by the 2 requests in the batch');
    await goodStillWorks();
  });

  it('is cut off for a batch sent before its proof was checked', async () => {
    const raw = new RawRingClient(be.endpoint);
    try {
      const t = target(be, 7, 8);
      raw.call.write({ hello: { device: t.device, ringRef: 8, frontendDomid: 7, queue: 0, protocol: 'x86_64-abi' } });
      raw.call.write({ requests: { reqProd: 1, requests: requests([1]) } });
      const st = await raw.status;
      expect(st.code).toBe(status.INTERNAL);
      expect(st.details).toContain(
        'ring stream of dom7 for /local/domain/1/backend/vbd/7/51712 queue 0: requests instead of a proof',
      );
    } finally {
      raw.close();
    }
    await goodStillWorks();
  });
});

// blkif requests and responses over a real grpc-js stream on 127.0.0.1: writes carry their pages to the
// backend, reads fill the frontend's granted pages, responses come back in any order, one stream per queue.
import { afterEach, describe, expect, it } from '@jest/globals';
import { BLKIF_OP, BLKIF_RING_IDS, BLKIF_RSP } from '@dominion/blkif';
import { FrontRing, GrantTable, MultiQueueFront } from '@dominion/ring';
import { waitFor } from '@dominion/testing';
import { Backend, BACKEND, Front, RING_SIZE, domain, pattern, rw, target, vbdDevice, type Domain } from './fixtures.js';

const dom5: Domain = domain(5);
let be: Backend;
const fronts: Front[] = [];

async function setup(): Promise<Front> {
  be = await new Backend().listen();
  be.keys.set(5, dom5.key);
  be.devices.set(vbdDevice(5), { frontendId: 5, ringRefs: [8], alive: true });
  const f = new Front(dom5, target(be, 5, 8));
  fronts.push(f);
  f.stream.start();
  await f.stream.whenConnected();
  return f;
}

afterEach(() => {
  for (const f of fronts.splice(0)) f.stream.close();
  be?.kill();
});

describe('ring stream round trips', () => {
  it('writes carry their pages, reads fill granted pages, and grants are revoked on completion', async () => {
    const f = await setup();
    const data = [pattern(1), pattern(2), pattern(3)];
    const w = await Promise.all(data.map((d, i) => f.write(i * 8, d)));
    expect(w.map((r) => r.status)).toEqual([0, 0, 0]);
    // the bytes reached the backend's disk through the grant copies of the requests
    expect(Buffer.compare(be.disk.subarray(8 * 512, 16 * 512), data[1])).toBe(0);

    const r = await Promise.all([2, 0, 1].map((i) => f.read(i * 8)));
    expect(r.map((x) => x.rsp.status)).toEqual([0, 0, 0]);
    expect(Buffer.compare(r[0].page, data[2])).toBe(0);
    expect(Buffer.compare(r[1].page, data[0])).toBe(0);
    expect(Buffer.compare(r[2].page, data[1])).toBe(0);
    expect(f.grants.size).toBe(0);
    expect(f.ring.inFlight).toBe(0);
  });

  it('a full ring of requests goes out at once and the rest waits for slots', async () => {
    const f = await setup();
    be.gate.close();
    const n = RING_SIZE + 8;
    const all = Array.from({ length: n }, (_, i) => f.write(i * 8, pattern(i)));
    await expect(waitForHeld(RING_SIZE)).resolves.toBe(RING_SIZE);
    expect(f.ring.inFlight).toBe(RING_SIZE);
    expect(f.ring.queued).toBe(8);
    be.gate.release();
    expect((await Promise.all(all)).every((r) => r.status === 0)).toBe(true);
    for (let i = 0; i < n; i++) expect(Buffer.compare(be.disk.subarray(i * 4096, (i + 1) * 4096), pattern(i))).toBe(0);
  });

  it('takes responses in any order', async () => {
    const f = await setup();
    const order: bigint[] = [];
    const release = new Map<bigint, () => void>();
    be.hold = (req) => new Promise((r) => release.set(req.id, r));
    const reqs = Array.from({ length: 6 }, (_, i) =>
      f.read(i * 8).then((x) => {
        order.push(BLKIF_RING_IDS.responseId(x.rsp) as bigint);
        return x;
      }),
    );
    await waitFor(() => release.size === 6);
    for (const id of [4n, 2n, 6n, 1n, 5n, 3n]) {
      release.get(id)!();
      await waitFor(() => order.includes(id));
    }
    await Promise.all(reqs);
    expect(order).toEqual([4n, 2n, 6n, 1n, 5n, 3n]);
  });

  it('answers a request the backend fails with its error status, and the stream goes on', async () => {
    const f = await setup();
    be.hold = (req) => (req.id === 2n ? Promise.reject(new Error('disk on fire')) : Promise.resolve());
    const [a, b, c] = await Promise.all([f.write(0, pattern(1)), f.write(8, pattern(2)), f.read(0)]);
    expect([a.status, b.status, c.rsp.status]).toEqual([BLKIF_RSP.BLKIF_RSP_OKAY, BLKIF_RSP.BLKIF_RSP_ERROR, 0]);
    expect(f.stream.state).toBe('connected');
  });

  it('multi-queue: one stream per queue, each checked against its own queue-<n>/ring-ref', async () => {
    be = await new Backend().listen();
    be.keys.set(5, dom5.key);
    const refs = [8, 9, 10, 11];
    be.devices.set(vbdDevice(5), { frontendId: 5, ringRefs: refs, alive: true });
    const grants = new GrantTable();
    const queues = refs.map((ref, q) => {
      const ring = new FrontRing({
        size: RING_SIZE,
        backendDomid: BACKEND,
        grants,
        ...BLKIF_RING_IDS,
        label: `queue-${q}`,
      });
      const f = new Front(dom5, target(be, 5, ref), { queue: q, ring, grants });
      fronts.push(f);
      return f;
    });
    for (const f of queues) f.stream.start();
    await Promise.all(queues.map((f) => f.stream.whenConnected()));
    expect(be.svc.connected).toBe(4);

    const mq = new MultiQueueFront(queues.map((f) => f.ring));
    let id = 1n;
    const done = Array.from({ length: 64 }, (_, i) => {
      const page = pattern(i);
      const gref = grants.grant(BACKEND, page, true);
      return mq.submit(rw(BLKIF_OP.BLKIF_OP_WRITE, id++, i * 8, gref), [{ ref: gref }]);
    });
    expect((await Promise.all(done)).every((r) => r.status === 0)).toBe(true);
    const perQueue = [0, 1, 2, 3].map((q) => be.served.filter((s) => s.queue === q).length);
    expect(perQueue.every((n) => n > 0)).toBe(true);
    expect(perQueue.reduce((a, b) => a + b)).toBe(64);
    for (let i = 0; i < 64; i++) expect(Buffer.compare(be.disk.subarray(i * 4096, (i + 1) * 4096), pattern(i))).toBe(0);
  });
});

async function waitForHeld(n: number): Promise<number> {
  const end = Date.now() + 5000;
  while (be.held !== n) {
    if (Date.now() > end) throw new Error(`backend holds ${be.held} requests, expected ${n}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return be.held;
}

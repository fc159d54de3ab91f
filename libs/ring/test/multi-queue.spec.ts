import { BackRing, FrontRing, GrantTable, MultiQueueFront, type RequestBatch } from '../src/index.js';
import { BACKEND, ids, rejection, tick, type TReq, type TRsp } from './fixtures/rings.js';

function device(queues: number, size: number) {
  const grants = new GrantTable();
  const sent: RequestBatch<TReq>[][] = [];
  const rings = Array.from({ length: queues }, (_, q) => {
    const ring = new FrontRing<TReq, TRsp>({
      size,
      backendDomid: BACKEND,
      grants,
      ...ids,
      label: `vbd 51712 queue-${q}`,
    });
    sent.push([]);
    ring.connect((b) => sent[q].push(b));
    return ring;
  });
  return { mq: new MultiQueueFront(rings), rings, sent };
}

describe('MultiQueueFront', () => {
  it('spreads requests over the queues, one stream each', async () => {
    const { mq, sent } = device(2, 4);
    for (let id = 0; id < 4; id++) void mq.submit({ id, op: 'r' });
    await tick();
    expect(sent.map((s) => s.flatMap((b) => b.requests.map((r) => r.req.id)))).toEqual([
      [0, 2],
      [1, 3],
    ]);
    expect(mq.inFlight).toBe(4);
  });

  it('sends new work to the queue whose backend keeps up', async () => {
    const { mq, rings, sent } = device(2, 4);
    const back1 = new BackRing<TReq, TRsp>({ size: 4, send: (b) => rings[1].receive(b), autoFlush: false, ...ids });
    for (let id = 0; id < 4; id++) void mq.submit({ id, op: 'r' });
    await tick();
    // queue 1's backend answers everything; queue 0's is stuck
    for (const r of back1.receive(sent[1].shift()!)) back1.respond({ id: r.id as number, status: 0 });
    back1.flush();
    expect(rings.map((r) => r.inFlight)).toEqual([2, 0]);
    void mq.submit({ id: 10, op: 'r' });
    void mq.submit({ id: 11, op: 'r' });
    await tick();
    expect(sent[1].flatMap((b) => b.requests.map((r) => r.req.id))).toEqual([10, 11]);
    expect(rings[0].inFlight).toBe(2);
  });

  it('honours an explicit queue and refuses one the device does not have', async () => {
    const { mq, sent } = device(2, 4);
    void mq.submit({ id: 1, op: 'r' }, [], 1);
    await tick();
    expect(sent[1]).toHaveLength(1);
    expect((await rejection(mq.submit({ id: 2, op: 'r' }, [], 2))).message).toMatch(
      /queue-2 does not exist: the device has 2 queues/,
    );
  });

  it('skips closed queues and fails once all are closed', async () => {
    const { mq, rings } = device(2, 4);
    rings[0].close();
    expect(mq.pick()).toBe(1);
    expect(mq.pick()).toBe(1);
    mq.close();
    expect((await rejection(mq.submit({ id: 1, op: 'r' }))).kind).toBe('ESHUTDOWN');
  });
});

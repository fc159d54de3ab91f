// Frontend and backend rings driven message by message, as a transport would: batches, out-of-order
// responses, slot exhaustion and backpressure, misbehaving peers on either side, reconnection.
import { BackRing, FrontRing, GrantTable, RingError, type ResponseBatch } from '../src/index.js';
import { BACKEND, ids, link, rejection, thrown, tick, type TReq, type TRsp } from './fixtures/rings.js';

const ok = (id: number): TRsp => ({ id, status: 0 });

describe('batching', () => {
  it('pushes everything produced before one notification as one message, and responses likewise', async () => {
    const { front, back, toBack, toFront } = link(32);
    const done = [0, 1, 2].map((id) => front.submit({ id, op: 'read' }));
    await tick();
    expect(toBack).toHaveLength(1);
    expect(toBack[0].reqProd).toBe(3);
    expect(toBack[0].requests.map((r) => r.req.id)).toEqual([0, 1, 2]);

    const got = back.receive(toBack.shift()!);
    expect(got.map((r) => r.id)).toEqual([0, 1, 2]);
    // answered out of order, all before one push
    back.respond(ok(2));
    back.respond(ok(0));
    back.respond(ok(1));
    await tick();
    expect(toFront).toHaveLength(1);
    expect(toFront[0].rspProd).toBe(3);
    expect(toFront[0].responses.map((r) => r.rsp.id)).toEqual([2, 0, 1]);
    front.receive(toFront.shift()!);
    expect(await Promise.all(done)).toEqual([ok(0), ok(1), ok(2)]);
    expect(front.inFlight).toBe(0);
  });

  it('leaves pushing to the caller with autoFlush off', async () => {
    const { front, toBack } = link(8, { autoFlush: false });
    void front.submit({ id: 1, op: 'w' });
    void front.submit({ id: 2, op: 'w' });
    await tick();
    expect(toBack).toHaveLength(0);
    expect(front.flush()).toBe(2);
    expect(front.flush()).toBe(0);
    expect(toBack).toHaveLength(1);
  });
});

describe('slots and backpressure', () => {
  it('never has more than RING_SIZE outstanding; a bounded queue waits, beyond it ENOSPC', async () => {
    const { front, back, toBack, toFront } = link(4, { maxQueued: 2 });
    const done = [0, 1, 2, 3, 4, 5].map((id) => front.submit({ id, op: 'read' }));
    expect(front.inFlight).toBe(4);
    expect(front.queued).toBe(2);
    const refused = await rejection(front.submit({ id: 6, op: 'read' }));
    expect(refused).toBeInstanceOf(RingError);
    expect(refused.kind).toBe('ENOSPC');
    expect(refused.message).toMatch(/request id 6 refused: 4 requests in flight fill the ring and 2 wait already/);

    await tick();
    expect(toBack.map((b) => b.requests.length)).toEqual([4]);
    back.receive(toBack.shift()!);
    expect(back.pending).toBe(4);
    back.respond(ok(1)); // a slow backend answers one
    await tick();
    front.receive(toFront.shift()!);
    await tick();
    // exactly one queued request took the freed slot
    expect(toBack.map((b) => b.requests.map((r) => r.req.id))).toEqual([[4]]);
    expect(toBack[0].reqProd).toBe(5);
    expect(front.inFlight).toBe(4);
    expect(front.queued).toBe(1);
    back.receive(toBack.shift()!);
    expect(back.pending).toBe(4);

    for (const id of [0, 2, 3, 4]) back.respond(ok(id));
    await tick();
    front.receive(toFront.shift()!);
    await tick();
    back.receive(toBack.shift()!);
    back.respond(ok(5));
    await tick();
    front.receive(toFront.shift()!);
    expect((await Promise.all(done)).map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('refuses a second request with an id already in flight', async () => {
    const { front } = link(4);
    void front.submit({ id: 9, op: 'r' });
    expect((await rejection(front.submit({ id: 9, op: 'r' }))).message).toMatch(/request id 9 is already in flight/);
    expect(front.inFlight).toBe(1);
  });
});

describe('a misbehaving backend', () => {
  it('answering an unknown id breaks the ring with EPROTO naming the id; a valid batch goes through', async () => {
    const { front, back, toBack, toFront } = link(8);
    const a = front.submit({ id: 1, op: 'r' });
    void front.submit({ id: 2, op: 'r' });
    await tick();
    back.receive(toBack.shift()!);
    back.respond(ok(1));
    await tick();
    front.receive(toFront.shift()!); // allowed
    expect(await a).toEqual(ok(1));

    const err = thrown(() => front.receive({ rspProd: 2, responses: [{ rsp: ok(77), copies: [] }] }));
    expect(err).toBeInstanceOf(RingError);
    expect(err.kind).toBe('EPROTO');
    expect(err.message).toMatch(/response id 77 matches no request in flight/);
    expect(front.state).toBe('disconnected');
    expect(front.inFlight).toBe(1); // request 2 waits for the next stream
  });

  it('answering the same id twice in one batch is refused whole', async () => {
    const { front, back, toBack } = link(8);
    const a = front.submit({ id: 1, op: 'r' });
    await tick();
    back.receive(toBack.shift()!);
    const twice: ResponseBatch<TRsp> = {
      rspProd: 2,
      responses: [
        { rsp: ok(1), copies: [] },
        { rsp: ok(1), copies: [] },
      ],
    };
    expect(thrown(() => front.receive(twice)).message).toMatch(
      /response id 1 matches no request in flight \(unknown, or already answered\)/,
    );
    expect(front.inFlight).toBe(1); // nothing of the batch was applied
    let settled = false;
    void a.then(() => (settled = true));
    await tick();
    expect(settled).toBe(false);
  });

  it('answering a request it was never sent is refused', async () => {
    const { front } = link(8, { autoFlush: false });
    void front.submit({ id: 1, op: 'r' }); // produced, not pushed
    expect(thrown(() => front.receive({ rspProd: 1, responses: [{ rsp: ok(1), copies: [] }] })).kind).toBe('EPROTO');
  });

  it('an rsp_prod that does not match its responses, or overflows the ring, is refused', async () => {
    const a = link(4);
    void a.front.submit({ id: 1, op: 'r' });
    await tick();
    expect(thrown(() => a.front.receive({ rspProd: 3, responses: [{ rsp: ok(1), copies: [] }] })).message).toMatch(
      /rsp_prod 3 does not follow rsp_cons 0 by the 1 responses/,
    );
    const b = link(4);
    expect(thrown(() => b.front.receive({ rspProd: 5, responses: [] })).message).toMatch(
      /backend overflowed the ring: rsp_prod 5/,
    );
  });
});

describe('a misbehaving frontend', () => {
  it('overflowing the ring fails that stream only, with EPROTO', () => {
    const sent: ResponseBatch<TRsp>[] = [];
    const evil = new BackRing<TReq, TRsp>({ size: 4, send: (b) => sent.push(b), ...ids });
    const good = new BackRing<TReq, TRsp>({ size: 4, send: (b) => sent.push(b), ...ids });
    const five = { reqProd: 5, requests: [0, 1, 2, 3, 4].map((id) => ({ req: { id, op: 'w' }, copies: [] })) };
    const err = thrown(() => evil.receive(five));
    expect(err.kind).toBe('EPROTO');
    expect(err.message).toMatch(
      /frontend overflowed the ring: req_prod 5 puts 5 requests outstanding on a ring of 4 slots/,
    );
    expect(evil.state).toBe('broken');
    expect(thrown(() => evil.receive({ reqProd: 5, requests: [] })).kind).toBe('ENOTCONN');
    expect(evil.respond(ok(0))).toBe(false);

    // the other stream, the same four requests within the slots
    const four = { reqProd: 4, requests: [0, 1, 2, 3].map((id) => ({ req: { id, op: 'w' }, copies: [] })) };
    expect(good.receive(four)).toHaveLength(4);
    expect(good.state).toBe('connected');
  });

  it('topping up past the slots while responses are unpushed counts them as answered, as rsp_prod_pvt does', () => {
    const back = new BackRing<TReq, TRsp>({ size: 2, send: () => undefined, autoFlush: false, ...ids });
    back.receive({
      reqProd: 2,
      requests: [
        { req: { id: 0, op: 'w' }, copies: [] },
        { req: { id: 1, op: 'w' }, copies: [] },
      ],
    });
    back.respond(ok(0));
    // one slot free: a third request is fine, a fourth overflows
    expect(back.receive({ reqProd: 3, requests: [{ req: { id: 2, op: 'w' }, copies: [] }] })).toHaveLength(1);
    expect(thrown(() => back.receive({ reqProd: 4, requests: [{ req: { id: 3, op: 'w' }, copies: [] }] })).kind).toBe(
      'EPROTO',
    );
  });

  it('a req_prod that lies about its batch, or an id reused while outstanding, is refused', () => {
    const a = new BackRing<TReq, TRsp>({ size: 8, send: () => undefined, ...ids });
    expect(
      thrown(() => a.receive({ reqProd: 2, requests: [{ req: { id: 0, op: 'w' }, copies: [] }] })).message,
    ).toMatch(/req_prod 2 does not follow req_cons 0 by the 1 requests/);
    const b = new BackRing<TReq, TRsp>({ size: 8, send: () => undefined, ...ids });
    b.receive({ reqProd: 1, requests: [{ req: { id: 5, op: 'w' }, copies: [] }] });
    expect(
      thrown(() => b.receive({ reqProd: 2, requests: [{ req: { id: 5, op: 'w' }, copies: [] }] })).message,
    ).toMatch(/request id 5 is already outstanding/);
  });

  it('the backend answering an id nobody asked for is its own bug (EINVAL), the ring lives on', () => {
    const back = new BackRing<TReq, TRsp>({ size: 8, send: () => undefined, ...ids });
    back.receive({ reqProd: 1, requests: [{ req: { id: 5, op: 'w' }, copies: [] }] });
    expect(thrown(() => back.respond(ok(6))).kind).toBe('EINVAL');
    expect(back.respond(ok(5))).toBe(true);
    expect(back.state).toBe('connected');
  });
});

describe('reconnection', () => {
  it('re-issues every request still in flight, in order, on the new stream', async () => {
    const { front, back, toBack, toFront } = link(8);
    const done = [0, 1, 2, 3, 4].map((id) => front.submit({ id, op: 'w' }));
    await tick();
    back.receive(toBack.shift()!);
    back.respond(ok(1));
    back.respond(ok(3));
    await tick();
    front.receive(toFront.shift()!);
    // the backend dies with 0, 2, 4 in flight; the guest keeps submitting
    front.disconnect();
    back.close();
    const late = front.submit({ id: 5, op: 'w' });
    await tick();
    expect(toBack).toHaveLength(0); // stalls, no error

    const toBack2: typeof toBack = [];
    const toFront2: typeof toFront = [];
    const back2 = new BackRing<TReq, TRsp>({ size: 8, send: (b) => toFront2.push(b), ...ids });
    expect(front.connect((b) => toBack2.push(b))).toBe(3);
    expect(front.reissued).toBe(3);
    expect(toBack2).toHaveLength(1);
    expect(toBack2[0].reqProd).toBe(4); // a fresh ring starts at 0
    expect(toBack2[0].requests.map((r) => r.req.id)).toEqual([0, 2, 4, 5]);
    for (const r of back2.receive(toBack2.shift()!)) back2.respond(ok(r.id as number));
    await tick();
    front.receive(toFront2.shift()!);
    expect((await Promise.all([...done, late])).map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('a disconnected ring takes no responses (ENOTCONN) and keeps its requests in flight', async () => {
    const { front, back, toBack } = link(8, { autoFlush: false });
    void front.submit({ id: 1, op: 'w' });
    front.flush();
    back.receive(toBack.shift()!);
    front.disconnect();
    expect(thrown(() => front.receive({ rspProd: 1, responses: [{ rsp: ok(1), copies: [] }] })).kind).toBe('ENOTCONN');
    expect(front.inFlight).toBe(1);
  });

  it('close() fails everything in flight or queued with ESHUTDOWN and revokes their grants', async () => {
    const grants = new GrantTable();
    const { front } = link(1, { grants, maxQueued: 1 });
    const ref = grants.grant(BACKEND, Buffer.alloc(4096));
    const a = front.submit({ id: 1, op: 'r' }, [{ ref }]);
    const b = front.submit({ id: 2, op: 'r' });
    front.close('device detached');
    expect((await rejection(a)).message).toMatch(/request id 1 abandoned: device detached/);
    expect((await rejection(b)).kind).toBe('ESHUTDOWN');
    expect(grants.get(ref)).toBeUndefined();
    expect((await rejection(front.submit({ id: 3, op: 'r' }))).kind).toBe('ESHUTDOWN');
    expect(() => front.connect(() => undefined)).toThrow(/closed ring/);
  });
});

describe('indices across the 2^32 wrap', () => {
  it('carries req_prod and rsp_prod through the wrap', async () => {
    const start = 0xfffffffe;
    const { front, back, toBack, toFront } = link(4, { firstIndex: start }, { firstIndex: start });
    const seen: number[] = [];
    for (let round = 0; round < 3; round++) {
      const done = [0, 1, 2].map((i) => front.submit({ id: round * 3 + i, op: 'r' }));
      await tick();
      const batch = toBack.shift()!;
      seen.push(batch.reqProd);
      for (const r of back.receive(batch)) back.respond(ok(r.id as number));
      await tick();
      const rb = toFront.shift()!;
      seen.push(rb.rspProd);
      front.receive(rb);
      await Promise.all(done);
    }
    expect(seen).toEqual([1, 1, 4, 4, 7, 7]);
  });
});

describe('a FrontRing on its own', () => {
  it('refuses a ring size that is not a power of two', () => {
    expect(() => new FrontRing<TReq, TRsp>({ size: 24, backendDomid: 2, grants: new GrantTable(), ...ids })).toThrow(
      /not a power of two/,
    );
  });
});

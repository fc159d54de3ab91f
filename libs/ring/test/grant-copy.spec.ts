// Payload travels as grant copies checked by the granting frontend: a response may fill only pages
// granted to that backend, writable, for that request. Each refusal sits beside an allowed response.
import { GNTST } from '@dominion/abi';
import { BackRing, GrantTable, RingError, type RequestBatch, type ResponseBatch } from '../src/index.js';
import { BACKEND, ids, link, rejection, tick, type TReq, type TRsp } from './fixtures/rings.js';

const ok = (id: number) => ({ id, status: 0 });

describe('grant copies', () => {
  it('carries a readonly grant’s bytes to the backend with the request (a write)', async () => {
    const { front, back, grants, toBack } = link(8);
    const page = Buffer.alloc(4096, 0);
    page.write('guest data', 512);
    const ref = grants.grant(BACKEND, page, true);
    void front.submit({ id: 1, op: 'write' }, [{ ref, offset: 512, length: 512 }]);
    await tick();
    const [req] = back.receive(toBack.shift()!);
    expect(Buffer.from(req.read(ref, 512, 10)).toString()).toBe('guest data');
    // bytes the frontend did not hand over cannot be read
    const e1 = thrownRing(() => req.read(ref, 0, 512));
    expect(e1.kind).toBe('EFAULT');
    expect(e1.gntst).toBe(GNTST.GNTST_bad_copy_arg);
    expect(thrownRing(() => req.read(ref + 1)).gntst).toBe(GNTST.GNTST_bad_gntref);
  });

  it('fills a writable grant from the response (a read) and revokes the grant at completion', async () => {
    const { front, back, grants, toBack, toFront } = link(8);
    const page = Buffer.alloc(4096);
    const ref = grants.grant(BACKEND, page);
    const done = front.submit({ id: 1, op: 'read' }, [{ ref }]);
    await tick();
    expect(toBack[0].requests[0].copies).toEqual([]); // a buffer to fill travels empty
    back.receive(toBack.shift()!);
    back.respond(ok(1), [{ ref, offset: 1024, data: Buffer.from('disk data') }]);
    await tick();
    front.receive(toFront.shift()!);
    expect(await done).toEqual(ok(1));
    expect(page.subarray(1024, 1033).toString()).toBe('disk data');
    expect(grants.get(ref)).toBeUndefined();
  });

  it('refuses each bad copy with its GNTST status, failing that request only', async () => {
    const grants = new GrantTable();
    const { front, back, toBack, toFront } = link(8, { grants });
    const pages = [0, 1, 2, 3, 4, 5].map(() => Buffer.alloc(4096, 0xaa));
    const good = grants.grant(BACKEND, pages[0]);
    const ro = grants.grant(BACKEND, pages[1], true);
    const mine = grants.grant(BACKEND, pages[2]);
    const theirs = grants.grant(BACKEND, pages[3]);
    const edge = grants.grant(BACKEND, pages[4]);
    const toOther = grants.grant(9, pages[5]); // granted to another domain, used by no request
    const allowed = front.submit({ id: 1, op: 'read' }, [{ ref: good }]);
    const intoReadonly = front.submit({ id: 2, op: 'write' }, [{ ref: ro }]);
    const intoOthersRequest = front.submit({ id: 3, op: 'read' }, [{ ref: mine }]);
    const victim = front.submit({ id: 4, op: 'read' }, [{ ref: theirs }]);
    const unknownRef = front.submit({ id: 5, op: 'read' });
    const pastPage = front.submit({ id: 6, op: 'read' }, [{ ref: edge }]);
    const foreign = front.submit({ id: 7, op: 'read' });
    await tick();
    back.receive(toBack.shift()!);
    back.respond(ok(2), [{ ref: ro, offset: 0, data: Buffer.from('x') }]);
    back.respond(ok(3), [
      { ref: mine, offset: 0, data: Buffer.from('ok') },
      { ref: theirs, offset: 0, data: Buffer.from('x') },
    ]);
    back.respond(ok(5), [{ ref: 4242, offset: 0, data: Buffer.from('x') }]);
    back.respond(ok(6), [{ ref: edge, offset: 4095, data: Buffer.from('xy') }]);
    back.respond(ok(7), [{ ref: toOther, offset: 0, data: Buffer.from('x') }]);
    back.respond(ok(1), [{ ref: good, offset: 0, data: Buffer.from('fine') }]);
    await tick();
    front.receive(toFront.shift()!); // one batch: the allowed response beside the refused ones

    expect(await allowed).toEqual(ok(1));
    expect(pages[0].subarray(0, 4).toString()).toBe('fine');
    const cases: Array<[Promise<unknown>, number, RegExp]> = [
      [intoReadonly, GNTST.GNTST_general_error, /request id 2 refused: grant ref \d+ is readonly/],
      [
        intoOthersRequest,
        GNTST.GNTST_permission_denied,
        /request id 3 refused: grant ref \d+ was not granted for request id 3/,
      ],
      [unknownRef, GNTST.GNTST_bad_gntref, /request id 5 refused: grant ref 4242 is not granted \(GNTST_bad_gntref\)/],
      [pastPage, GNTST.GNTST_bad_copy_arg, /request id 6 refused: .*2 bytes at offset 4095/],
      [foreign, GNTST.GNTST_permission_denied, /request id 7 refused: .*granted to domain 9, not to domain 2/],
    ];
    for (const [p, status, msg] of cases) {
      const e = await rejection(p);
      expect(e).toBeInstanceOf(RingError);
      expect(e.kind).toBe('EFAULT');
      expect(e.gntst).toBe(status);
      expect(e.message).toMatch(msg);
    }
    // all or nothing: request 3's own valid copy was not applied either
    expect(pages[2].subarray(0, 2)).toEqual(Buffer.from([0xaa, 0xaa]));
    expect(pages[3][0]).toBe(0xaa);
    // the failed requests' grants are revoked too; request 4 is untouched and still in flight
    expect(grants.get(ro)).toBeUndefined();
    expect(grants.get(mine)).toBeUndefined();
    expect(grants.get(theirs)).toBeDefined();
    expect(front.inFlight).toBe(1);
    expect(front.state).toBe('connected');
    back.respond(ok(4), [{ ref: theirs, offset: 0, data: Buffer.from('late') }]);
    await tick();
    front.receive(toFront.shift()!);
    expect(await victim).toEqual(ok(4));
    expect(pages[3].subarray(0, 4).toString()).toBe('late');
  });

  it('refuses to submit a request whose grants are not the backend’s or already belong to another request', async () => {
    const { front, grants } = link(8);
    const toOther = grants.grant(9, Buffer.alloc(4096));
    const ref = grants.grant(BACKEND, Buffer.alloc(4096));
    expect((await rejection(front.submit({ id: 1, op: 'r' }, [{ ref: toOther }]))).message).toMatch(
      /request id 1: grant ref \d+ is granted to domain 9, not to backend domain 2/,
    );
    expect((await rejection(front.submit({ id: 1, op: 'r' }, [{ ref: 4242 }]))).message).toMatch(
      /grant ref 4242 is not granted/,
    );
    void front.submit({ id: 2, op: 'r' }, [{ ref }]);
    expect((await rejection(front.submit({ id: 3, op: 'r' }, [{ ref }]))).message).toMatch(
      /already belongs to request id 2/,
    );
    expect(
      (await rejection(front.submit({ id: 4, op: 'r' }, [{ ref: toOther, offset: 4000, length: 200 }]))).kind,
    ).toBe('EINVAL');
  });

  it('re-points the grants of requests in flight when a new backend domain takes over', async () => {
    const { front, back, grants, toBack } = link(8);
    const page = Buffer.alloc(4096);
    const ref = grants.grant(BACKEND, page);
    const done = front.submit({ id: 1, op: 'read' }, [{ ref }]);
    await tick();
    back.receive(toBack.shift()!);
    front.disconnect();
    const toFront2: Array<ResponseBatch<TRsp>> = [];
    const toSpare: Array<RequestBatch<TReq>> = [];
    const spare = new BackRing<TReq, TRsp>({ size: 8, send: (b) => toFront2.push(b), ...ids });
    expect(front.connect((b) => toSpare.push(b), { backendDomid: 7 })).toBe(1);
    expect(grants.get(ref)!.domid).toBe(7);
    spare.receive(toSpare.shift()!);
    spare.respond(ok(1), [{ ref, offset: 0, data: Buffer.from('from spare') }]);
    await tick();
    front.receive(toFront2.shift()!);
    expect(await done).toEqual(ok(1));
    expect(page.subarray(0, 10).toString()).toBe('from spare');
  });
});

function thrownRing(f: () => unknown): RingError {
  try {
    f();
  } catch (e) {
    return e as RingError;
  }
  throw new Error('expected a RingError');
}

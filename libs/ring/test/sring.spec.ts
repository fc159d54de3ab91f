// The shared page against golden bytes written from io/ring.h's layout: req_prod u32 @0, req_event u32 @4,
// rsp_prod u32 @8, rsp_event u32 @12, pvt @16, padding to 64, ring[] from 64. Entries here are netif rx
// sized (8 bytes, 256 slots per page) so the page head fits on a screen.
import { RingError, SharedBackRing, SharedFrontRing, SharedRing } from '../src/index.js';
import { hex } from '@dominion/testing';

const INITIALISED_HEAD = hex`
  00000000   # req_prod  @0   0
  01000000   # req_event @4   1: SHARED_RING_INIT asks for an event at the first request
  00000000   # rsp_prod  @8   0
  01000000   # rsp_event @12  1
  00000000   # pvt       @16
  0000000000000000 0000000000000000 0000000000000000 0000000000000000 0000000000000000 00000000  # pad to 64
`;

const TWO_PUSHED_ONE_ANSWERED = hex`
  02000000   # req_prod  @0   2 requests pushed
  03000000   # req_event @4   3: the backend's final check wants an event at the next request
  01000000   # rsp_prod  @8   1 response pushed
  01000000   # rsp_event @12  1 (the frontend has not re-armed yet)
  00000000   # pvt       @16
  0000000000000000 0000000000000000 0000000000000000 0000000000000000 0000000000000000 00000000  # pad to 64
  f1f2f3f4f5f6f7f8   # ring[0] @64: request 0, overwritten by response 0
  a1a2a3a4a5a6a7a8   # ring[1] @72: request 1
  0000000000000000   # ring[2] @80: unused
`;

describe('SharedRing page layout', () => {
  it('is initialised by the frontend as SHARED_RING_INIT leaves it', () => {
    const s = SharedRing.init(1, 8);
    expect(s.size).toBe(256);
    expect(s.page.length).toBe(4096);
    expect(s.page.subarray(0, 64)).toEqual(INITIALISED_HEAD);
  });

  it('shows produced entries and indices at Xen’s offsets', () => {
    const s = SharedRing.init(1, 8);
    const front = new SharedFrontRing(s);
    const back = new SharedBackRing(SharedRing.attach(s.page, 8));
    front.produceRequest(hex`b1b2b3b4b5b6b7b8`);
    front.produceRequest(hex`a1a2a3a4a5a6a7a8`);
    expect(front.pushRequests()).toBe(true); // req_event 1 lies in 1..2
    expect(back.consumeRequest()).toEqual(hex`b1b2b3b4b5b6b7b8`);
    expect(back.consumeRequest()).toEqual(hex`a1a2a3a4a5a6a7a8`);
    expect(back.finalCheckForRequests()).toBe(false); // sets req_event = 3
    back.produceResponse(hex`f1f2f3f4f5f6f7f8`);
    expect(back.pushResponses()).toBe(true); // rsp_event 1 lies in 1..1
    expect(s.page.subarray(0, 88)).toEqual(TWO_PUSHED_ONE_ANSWERED);
  });
});

describe('SharedFrontRing / SharedBackRing', () => {
  it('notifies only when the consumer asked: a busy consumer is not kicked again', () => {
    const s = SharedRing.init(1, 112);
    const front = new SharedFrontRing(s);
    const back = new SharedBackRing(s);
    front.produceRequest(Buffer.from([1]));
    expect(front.pushRequests()).toBe(true);
    // The backend has not re-armed req_event (still 1): a second push needs no event.
    front.produceRequest(Buffer.from([2]));
    expect(front.pushRequests()).toBe(false);
    expect(back.unconsumedRequests()).toBe(2);
    back.consumeRequest();
    back.consumeRequest();
    expect(back.finalCheckForRequests()).toBe(false);
    expect(s.reqEvent).toBe(3);
    front.produceRequest(Buffer.from([3]));
    expect(front.pushRequests()).toBe(true);
    expect(back.finalCheckForRequests()).toBe(true); // work arrived: keep going instead of sleeping
  });

  it('never lets the frontend produce more than RING_SIZE outstanding', () => {
    const s = SharedRing.init(1, 112);
    const front = new SharedFrontRing(s);
    for (let i = 0; i < 32; i++) front.produceRequest(Buffer.from([i]));
    expect(front.freeRequests).toBe(0);
    expect(() => front.produceRequest(Buffer.from([32]))).toThrow(/ring full: 32 requests outstanding/);
    front.pushRequests();
    const back = new SharedBackRing(s);
    back.consumeRequest();
    back.produceResponse(Buffer.from([0]));
    back.pushResponses();
    front.consumeResponse();
    expect(front.freeRequests).toBe(1);
    front.produceRequest(Buffer.from([32]));
  });

  it('refuses a frontend that pushed more requests than the ring has slots', () => {
    const s = SharedRing.init(1, 112);
    const back = new SharedBackRing(s);
    s.reqProd = 32;
    expect(back.unconsumedRequests()).toBe(32);
    s.reqProd = 33; // a misbehaving frontend
    const err = captured(() => back.unconsumedRequests());
    expect(err).toBeInstanceOf(RingError);
    expect(err.kind).toBe('EPROTO');
    expect(err.message).toMatch(/req_prod 33 is 33 ahead of rsp_prod_pvt 0, ring has 32 slots/);
  });

  it('refuses a backend that pushed more responses than the ring has slots', () => {
    const s = SharedRing.init(1, 112);
    const front = new SharedFrontRing(s);
    s.rspProd = 32;
    expect(front.unconsumedResponses()).toBe(32);
    s.rspProd = 40;
    expect(captured(() => front.unconsumedResponses()).kind).toBe('EPROTO');
  });

  it('copies a request out once: the frontend rewriting the slot afterwards changes nothing', () => {
    const s = SharedRing.init(1, 8);
    const front = new SharedFrontRing(s);
    const back = new SharedBackRing(s);
    front.produceRequest(hex`0101010101010101`);
    front.pushRequests();
    const got = back.consumeRequest();
    s.entry(0).fill(0xee);
    expect(got).toEqual(hex`0101010101010101`);
  });

  it('keeps working across the 2^32 wrap of the indices', () => {
    const s = SharedRing.init(1, 112);
    const start = 0xfffffffe;
    s.reqProd = start;
    s.rspProd = start;
    const front = new SharedFrontRing(s, start);
    const back = new SharedBackRing(s, start);
    for (let i = 0; i < 4; i++) front.produceRequest(Buffer.from([0x10 + i]));
    front.pushRequests();
    expect(s.page.subarray(0, 4)).toEqual(hex`02000000`); // req_prod wrapped to 2
    expect(s.page[64 + 30 * 112]).toBe(0x10); // index 0xfffffffe -> slot 30
    expect(s.page[64 + 31 * 112]).toBe(0x11);
    expect(s.page[64 + 0 * 112]).toBe(0x12); // index 0 -> slot 0
    expect(back.unconsumedRequests()).toBe(4);
    const seen = [0, 1, 2, 3].map(() => back.consumeRequest()[0]);
    expect(seen).toEqual([0x10, 0x11, 0x12, 0x13]);
    for (let i = 0; i < 4; i++) back.produceResponse(Buffer.from([i]));
    back.pushResponses();
    expect(front.unconsumedResponses()).toBe(4);
    expect(front.freeRequests).toBe(28);
  });
});

function captured(f: () => unknown): RingError {
  try {
    f();
  } catch (e) {
    return e as RingError;
  }
  throw new Error('expected a RingError');
}

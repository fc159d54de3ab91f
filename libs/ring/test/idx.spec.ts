import { idxAdd, idxDiff, prodOverflow, pushNeedsNotify, ringSlot } from '../src/index.js';

const MAX = 0xffffffff;

describe('RING_IDX arithmetic', () => {
  it('wraps at 2^32', () => {
    expect(idxAdd(MAX, 1)).toBe(0);
    expect(idxAdd(MAX - 1, 4)).toBe(2);
    expect(idxDiff(2, MAX - 1)).toBe(4); // 2 is four ahead of 0xfffffffe
    expect(idxDiff(0, MAX)).toBe(1);
    expect(idxDiff(5, 5)).toBe(0);
  });

  it('masks an index to its slot, continuing across the wrap', () => {
    expect(ringSlot(MAX - 1, 32)).toBe(30);
    expect(ringSlot(MAX, 32)).toBe(31);
    expect(ringSlot(idxAdd(MAX, 1), 32)).toBe(0);
    expect(ringSlot(33, 32)).toBe(1);
  });
});

describe('push and check notify: (new - event) < (new - old)', () => {
  it('notifies when the peer’s event index lies in the newly produced range', () => {
    expect(pushNeedsNotify(13, 10, 11)).toBe(true); // peer waits for the first new entry
    expect(pushNeedsNotify(13, 10, 13)).toBe(true); // ... or the last one
  });

  it('stays quiet when the peer was already told, or asked for a later entry', () => {
    expect(pushNeedsNotify(13, 10, 10)).toBe(false); // event at old: announced by the previous push
    expect(pushNeedsNotify(13, 10, 14)).toBe(false); // peer batches: wants an event only after 14
    expect(pushNeedsNotify(10, 10, 11)).toBe(false); // nothing produced
  });

  it('holds across the wrap', () => {
    expect(pushNeedsNotify(2, MAX - 1, MAX)).toBe(true);
    expect(pushNeedsNotify(2, MAX - 1, 0)).toBe(true);
    expect(pushNeedsNotify(2, MAX - 1, 3)).toBe(false);
    expect(pushNeedsNotify(2, MAX - 1, MAX - 1)).toBe(false);
  });
});

describe('prod overflow: prod - pvt > size', () => {
  it('allows exactly size outstanding and refuses one more, across the wrap too', () => {
    expect(prodOverflow(32, 0, 32)).toBe(false);
    expect(prodOverflow(33, 0, 32)).toBe(true);
    expect(prodOverflow(30, MAX - 1, 32)).toBe(false); // 32 ahead
    expect(prodOverflow(31, MAX - 1, 32)).toBe(true); // 33 ahead
    expect(prodOverflow(MAX, 0, 32)).toBe(true); // "behind" is 2^32-1 ahead: nonsense from a peer
  });
});

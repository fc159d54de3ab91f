import { DomidAllocator, DOMID_QUARANTINE_MS } from '../src/domid-allocator.js';
import { create, failure, makeHv } from './helpers.js';

const T0 = 1_000_000;

describe('DomidAllocator', () => {
  it('hands out the next id after the last one, never the one just freed', () => {
    const a = new DomidAllocator();
    expect(a.allocate(T0)).toBe(1);
    expect(a.allocate(T0)).toBe(2);
    a.release(2, T0);
    expect(a.allocate(T0)).toBe(3);
    a.release(1, T0);
    expect(a.allocate(T0)).toBe(4);
  });

  it('keeps a freed id out for 60 s after it is freed, then lets it back on the next wrap', () => {
    const a = new DomidAllocator({ last: 0x7fed });
    expect(a.allocate(T0)).toBe(0x7fee);
    a.release(0x7fee, T0);
    expect(a.allocate(T0)).toBe(0x7fef); // the highest id below DOMID_FIRST_RESERVED
    // wraps to 1, skipping dom0's 0
    expect(a.allocate(T0)).toBe(1);
    expect(a.isQuarantined(0x7fee, T0 + DOMID_QUARANTINE_MS - 1)).toBe(true);
    expect(a.isQuarantined(0x7fee, T0 + DOMID_QUARANTINE_MS)).toBe(false);
  });

  it('on the wrap, skips ids in use and ids still in quarantine; EAGAIN while all free ones are quarantined', () => {
    const c = new DomidAllocator();
    for (let i = 1; i < 0x7ff0; i++) expect(c.allocate(T0)).toBe(i);
    c.release(5, T0); // freed first
    c.release(9, T0 + 30_000);
    const err = failure(() => c.allocate(T0 + 59_000));
    expect(err.kind).toBe('EAGAIN');
    expect(err.message).toMatch(/2 recently freed ids are quarantined; the first frees in 1 s/);
    expect(c.allocate(T0 + 60_000)).toBe(5); // 9 is still quarantined
    expect(failure(() => c.allocate(T0 + 60_000)).kind).toBe('EAGAIN');
    expect(c.allocate(T0 + 90_000)).toBe(9);
    expect(failure(() => c.allocate(T0 + 90_000))).toMatchObject({
      kind: 'ENOSPC',
      message: expect.stringMatching(/all 32751 ids are in use/),
    });
  });

  it('gives the engine ids that never repeat back to back, with the quarantine on the injected clock', () => {
    const { hv, clock } = makeHv();
    const a = create(hv, 'a');
    hv.hypercall(0, 'destroydomain', { domid: a });
    const b = create(hv, 'b');
    expect([a, b]).toEqual([1, 2]);
    hv.hypercall(0, 'destroydomain', { domid: b });
    clock.advance(61_000);
    expect(create(hv, 'c')).toBe(3);
  });
});

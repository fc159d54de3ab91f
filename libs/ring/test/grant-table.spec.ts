import { GNTST } from '@dominion/abi';
import { GrantTable, RingError } from '../src/index.js';

const page = (fill = 0) => Buffer.alloc(4096, fill);

describe('GrantTable', () => {
  it('hands out refs after the 8 reserved entries and looks them up', () => {
    const t = new GrantTable();
    const p = page(7);
    const ref = t.grant(3, p, true);
    expect(ref).toBe(8);
    expect(t.grant(3, page())).toBe(9);
    expect(t.get(ref)).toEqual({ ref: 8, domid: 3, page: p, readonly: true });
    expect(t.size).toBe(2);
  });

  it('checks a copy as Xen would: allowed beside each refused case', () => {
    const t = new GrantTable();
    const rw = t.grant(3, page());
    const ro = t.grant(3, page(), true);
    const other = t.grant(4, page());
    expect(t.check(3, rw, 0, 4096, true).status).toBe(GNTST.GNTST_okay);
    expect(t.check(3, ro, 512, 512, false).status).toBe(GNTST.GNTST_okay);
    expect(t.check(3, 4242, 0, 1, false)).toEqual({
      status: GNTST.GNTST_bad_gntref,
      reason: 'grant ref 4242 is not granted (GNTST_bad_gntref)',
    });
    expect(t.check(3, other, 0, 1, false).status).toBe(GNTST.GNTST_permission_denied);
    expect(t.check(3, other, 0, 1, false).reason).toMatch(/granted to domain 4, not to domain 3/);
    expect(t.check(3, ro, 0, 1, true).status).toBe(GNTST.GNTST_general_error);
    expect(t.check(3, rw, 4000, 97, true).status).toBe(GNTST.GNTST_bad_copy_arg);
    expect(t.check(3, rw, 4000, 96, true).status).toBe(GNTST.GNTST_okay);
  });

  it('revokes, and a revoked ref is no longer usable', () => {
    const t = new GrantTable();
    const ref = t.grant(3, page());
    t.revoke(ref);
    expect(t.get(ref)).toBeUndefined();
    expect(t.check(3, ref, 0, 1, false).status).toBe(GNTST.GNTST_bad_gntref);
    expect(() => t.revoke(ref)).toThrow(/grant ref 8 is not granted/);
  });

  it('re-points a grant at a new backend domain', () => {
    const t = new GrantTable();
    const ref = t.grant(3, page());
    t.regrant(ref, 5);
    expect(t.check(5, ref, 0, 1, true).status).toBe(GNTST.GNTST_okay);
    expect(t.check(3, ref, 0, 1, true).status).toBe(GNTST.GNTST_permission_denied);
  });

  it('refuses a page that is not 4096 bytes and a grantee that is not a domain', () => {
    const t = new GrantTable();
    expect(() => t.grant(3, Buffer.alloc(512))).toThrow(/a page is 4096 bytes, not 512/);
    expect(() => t.grant(0x7ff0, page())).toThrow(RingError);
  });

  it('runs out with ENOSPC and reuses revoked refs then', () => {
    const t = new GrantTable({ maxEntries: 10 });
    const a = t.grant(1, page());
    t.grant(1, page());
    let err: unknown;
    try {
      t.grant(1, page());
    } catch (e) {
      err = e;
    }
    expect((err as RingError).kind).toBe('ENOSPC');
    t.revoke(a);
    expect(t.grant(1, page())).toBe(a);
  });
});

// getdomainkey (a Dominion addition): any domain may read any live domain's user key; unknown domids are
// ESRCH, a domain with no key on record ENOENT, and a hypervisor without identities ENOSYS.
import { DOMID } from '@dominion/abi';
import { create, failure, makeHv } from './helpers.js';

const KEY = (d: number): string => `U-key-of-${d}`;

describe('getdomainkey', () => {
  it("answers any domain with another domain's key, its own, or dom0's", () => {
    const keys = new Map<number, string>([[0, KEY(0)]]);
    const { hv } = makeHv({ domainKey: (d) => keys.get(d) });
    const a = create(hv, 'a');
    const b = create(hv, 'b');
    keys.set(a, KEY(a)).set(b, KEY(b));
    expect(hv.hypercall(a, 'getdomainkey', { domid: b }).result).toEqual({ domid: b, key: KEY(b) });
    expect(hv.hypercall(a, 'getdomainkey', { domid: DOMID.DOMID_SELF }).result).toEqual({ domid: a, key: KEY(a) });
    expect(hv.hypercall(b, 'getdomainkey', { domid: 0 }).result).toEqual({ domid: 0, key: KEY(0) });
  });

  it('refuses an unknown or destroyed domid (ESRCH), a domain without a key (ENOENT) and bad arguments (EINVAL)', () => {
    const keys = new Map<number, string>();
    const { hv } = makeHv({ domainKey: (d) => keys.get(d) });
    const a = create(hv, 'a');
    const b = create(hv, 'b');
    keys.set(a, KEY(a)).set(b, KEY(b));
    expect(hv.hypercall(a, 'getdomainkey', { domid: b }).result).toEqual({ domid: b, key: KEY(b) });
    hv.hypercall(0, 'destroydomain', { domid: b });
    expect(failure(() => hv.hypercall(a, 'getdomainkey', { domid: b }))).toMatchObject({
      kind: 'ESRCH',
      message: `getdomainkey: domain ${b} does not exist`,
    });
    expect(failure(() => hv.hypercall(a, 'getdomainkey', { domid: 999 })).kind).toBe('ESRCH');
    expect(failure(() => hv.hypercall(a, 'getdomainkey', { domid: 0 }))).toMatchObject({
      kind: 'ENOENT',
      message: 'getdomainkey: domain 0 has no user key on record',
    });
    expect(failure(() => hv.hypercall(a, 'getdomainkey', { domid: -1 })).kind).toBe('EINVAL');
    expect(failure(() => hv.hypercall(a, 'getdomainkey', { domid: a, extra: 1 })).kind).toBe('EINVAL');
    // A caller that does not exist (a destroyed domain's late request) gets nothing.
    expect(failure(() => hv.hypercall(b, 'getdomainkey', { domid: a })).kind).toBe('ESRCH');
  });

  it('is ENOSYS on a hypervisor that mints no identities', () => {
    const { hv } = makeHv();
    const a = create(hv, 'a');
    expect(failure(() => hv.hypercall(a, 'getdomainkey', { domid: a }))).toMatchObject({
      kind: 'ENOSYS',
      message: 'getdomainkey: this hypervisor mints no identities (the bus runs without auth)',
    });
  });

  it("createdomain's user_key (the bootstrap exchange) must look like a user nkey; the engine only checks its shape", () => {
    const { hv } = makeHv();
    const key = `U${'A'.repeat(55)}`;
    expect(hv.hypercall(0, 'createdomain', { name: 'k', target_memkb: 1024, user_key: key }).result).toEqual({
      domid: 1,
    });
    for (const bad of ['UABC', `S${'A'.repeat(55)}`, `U${'a'.repeat(55)}`, 42])
      expect(
        failure(() => hv.hypercall(0, 'createdomain', { name: 'bad', target_memkb: 1024, user_key: bad })),
      ).toMatchObject({
        kind: 'EINVAL',
      });
  });
});

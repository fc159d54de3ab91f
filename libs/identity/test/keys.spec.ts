// Key material and minting, checked by decoding the JWTs with @nats-io/jwt (which verifies signatures).
import { beforeAll, describe, expect, it } from '@jest/globals';
import { decode, parseCreds, type Account, type User } from '@nats-io/jwt';
import { DOMID } from '@dominion/abi';
import {
  ACCOUNT_LIMITS,
  IdentityError,
  createIdentity,
  inboxPrefixOf,
  mintDomainUser,
  permissionsFor,
  replyBelongsTo,
  seedOfCreds,
  type IdentityMaterial,
} from '../src/index.js';

describe('key material', () => {
  let m: IdentityMaterial;
  beforeAll(async () => {
    m = await createIdentity();
  });

  it('has an operator, an account with a separate signing key, and a system account with one user', () => {
    expect(m.operator.publicKey).toMatch(/^O[A-Z2-7]{55}$/);
    expect(m.account.publicKey).toMatch(/^A[A-Z2-7]{55}$/);
    expect(m.account.signingPublicKey).toMatch(/^A[A-Z2-7]{55}$/);
    expect(m.account.signingPublicKey).not.toBe(m.account.publicKey);
    expect(m.system.publicKey).toMatch(/^A/);
    expect(m.system.user.publicKey).toMatch(/^U/);
    for (const seed of [m.operator.seed, m.account.seed, m.account.signingSeed, m.system.seed, m.system.user.seed])
      expect(seed).toMatch(/^S[OAU]/);
  });

  it('signs both accounts with the operator, with explicit limits; the domain account lists its signing key', () => {
    const acc = decode<Account>(m.account.jwt);
    expect(acc.iss).toBe(m.operator.publicKey);
    expect(acc.sub).toBe(m.account.publicKey);
    expect(acc.nats.signing_keys).toEqual([m.account.signingPublicKey]);
    expect(acc.nats.limits).toEqual({
      subs: -1,
      data: -1,
      payload: -1,
      imports: -1,
      exports: -1,
      wildcards: true,
      conn: -1,
      leaf: 0,
      disallow_bearer: true,
    });
    expect(ACCOUNT_LIMITS.conn).toBe(-1);
    const sys = decode<Account>(m.system.jwt);
    expect(sys.iss).toBe(m.operator.publicKey);
    expect(sys.nats.limits?.conn).toBe(-1);
  });

  it('gives the system user the claims-update subjects and its inbox, nothing else', () => {
    const u = decode<User>(m.system.user.jwt);
    expect(u.iss).toBe(m.system.publicKey);
    expect(u.nats.pub).toEqual({ allow: ['$SYS.REQ.CLAIMS.UPDATE', '$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE'] });
    expect(u.nats.sub).toEqual({ allow: ['_INBOX.sys.>'] });
    expect(m.system.user.inboxPrefix).toBe('_INBOX.sys');
  });

  it('mints a domain user signed by the signing key, on behalf of the account, with its role’s permissions', async () => {
    const u = await mintDomainUser(m.account, 5, 'guest');
    const c = decode<User>(u.jwt);
    expect(c.iss).toBe(m.account.signingPublicKey); // not the account identity key
    expect(c.nats.issuer_account).toBe(m.account.publicKey);
    expect(c.sub).toBe(u.userPublicKey);
    expect(c.name).toBe('dom5');
    expect(c.exp).toBeUndefined();
    const p = permissionsFor('guest', 5);
    expect(c.nats.pub).toEqual({ allow: p.pub });
    expect(c.nats.sub).toEqual({ allow: p.sub });
    expect(c.nats.resp).toEqual({ max: 1, ttl: 0 });
    expect(c.nats.allowed_connection_types).toEqual(['STANDARD']);
    expect(c.nats.tags).toEqual(['domid:5', 'role:guest']);
    expect(u.inboxPrefix).toBe('_INBOX.dom5');
    const parsed = await parseCreds(new TextEncoder().encode(u.creds));
    expect(parsed.jwt).toBe(u.jwt);
    expect(parsed.key).toBe(u.seed);
    expect(seedOfCreds(u.creds)).toBe(u.seed);
  });

  it('gives every incarnation of a domain a new key', async () => {
    const a = await mintDomainUser(m.account, 5, 'guest');
    const b = await mintDomainUser(m.account, 5, 'guest');
    expect(a.userPublicKey).not.toBe(b.userPublicKey);
  });

  it('sets the expiry it is asked for', async () => {
    const now = Date.UTC(2030, 0, 1);
    const u = await mintDomainUser(m.account, 7, 'driver', { expiresInSec: 90, now });
    expect(decode(u.jwt).exp).toBe(now / 1000 + 90);
    expect(u.expiresAt).toBe(now / 1000 + 90);
    await expect(mintDomainUser(m.account, 7, 'driver', { expiresInSec: 0 })).rejects.toMatchObject({ kind: 'EINVAL' });
  });

  it('refuses a domid its role cannot have, naming both', async () => {
    await expect(mintDomainUser(m.account, 0, 'guest')).rejects.toThrow(/domid 0 for role guest/);
    await expect(mintDomainUser(m.account, 0x7ff0, 'driver')).rejects.toBeInstanceOf(IdentityError);
    await expect(mintDomainUser(m.account, 3, 'hypervisor')).rejects.toThrow(/DOMID_XEN/);
    await expect(mintDomainUser(m.account, 1, 'root' as never)).rejects.toMatchObject({ kind: 'EINVAL' });
    await expect(mintDomainUser(m.account, 0, 'control')).resolves.toMatchObject({ inboxPrefix: '_INBOX.dom0' });
  });
});

describe('permission templates (README table)', () => {
  it('guest 5', () => {
    expect(permissionsFor('guest', 5)).toEqual({
      pub: ['xen.hv.5.*', 'xen.evtchn.*.*.5', 'xen.xs.5', 'xen.console.5.out'],
      sub: ['xen.evtchn.5.>', 'xen.xs.watch.5.>', 'xen.virq.5', 'xen.console.5.in', '_INBOX.dom5.>'],
      resp: { max: 1, ttl: 0 },
    });
  });

  it('driver domain 3 (a ZFS storage domain serves xen.zfs.*.*)', () => {
    expect(permissionsFor('driver', 3)).toEqual({
      pub: ['xen.hv.3.*', 'xen.evtchn.*.*.3', 'xen.xs.3', 'xen.console.3.out'],
      sub: ['xen.evtchn.3.>', 'xen.xs.watch.3.>', 'xen.virq.3', 'xen.console.3.in', '_INBOX.dom3.>', 'xen.zfs.*.*'],
      resp: { max: 1, ttl: 0 },
    });
  });

  it('control domain 0', () => {
    expect(permissionsFor('control', 0)).toEqual({
      pub: [
        'xen.hv.0.*',
        'xen.evtchn.*.*.0',
        'xen.xs.0',
        'xen.console.0.out',
        'xen.toolstack.0.*',
        'xen.zfs.0.*',
        'xen.xs.watch.*.*',
        'xen.console.*.in',
        '_INBOX.>',
      ],
      sub: [
        'xen.evtchn.0.>',
        'xen.xs.watch.0.>',
        'xen.virq.0',
        'xen.console.0.in',
        '_INBOX.dom0.>',
        'xen.xs.*',
        'xen.toolstack.*.*',
        'xen.console.*.out',
        'xen.bootstrap',
      ],
    });
  });

  it('the hypervisor', () => {
    expect(permissionsFor('hypervisor', DOMID.DOMID_XEN)).toEqual({
      pub: ['xen.virq.*', 'xen.evtchn.*.ctl', 'xen.evtchn.*.*.*', '_INBOX.>'],
      sub: ['xen.hv.*.*', '_INBOX.xen.>'],
    });
    expect(inboxPrefixOf(DOMID.DOMID_XEN)).toBe('_INBOX.xen');
  });

  it('keeps one domain’s inbox out of another’s (dom5 is not a prefix of dom55)', () => {
    expect(permissionsFor('guest', 55).sub).toContain('_INBOX.dom55.>');
    expect(permissionsFor('guest', 5).sub).not.toContain('_INBOX.dom55.>');
    expect(replyBelongsTo(5, '_INBOX.dom5.abc.1')).toBe(true);
    expect(replyBelongsTo(5, '_INBOX.dom55.abc.1')).toBe(false);
    expect(replyBelongsTo(5, 'xen.virq.6')).toBe(false);
    expect(replyBelongsTo(5, undefined)).toBe(false);
    expect(replyBelongsTo(DOMID.DOMID_XEN, '_INBOX.xen.q.2')).toBe(true);
  });
});

import { describe, expect, it } from '@jest/globals';
import { BootstrapSecrets, IdentityError } from '../src/index.js';

describe('BootstrapSecrets', () => {
  it('accepts an issued secret once; a second use is refused', () => {
    const r = new BootstrapSecrets();
    const s = r.issue('blkback-1');
    expect(r.pending('blkback-1')).toBe(true);
    expect(() => r.redeem('blkback-1', s)).not.toThrow();
    expect(r.pending('blkback-1')).toBe(false);
    expect(() => r.redeem('blkback-1', s)).toThrow(/already used/);
  });

  it('refuses unknown names and wrong secrets with EACCES; a wrong guess does not burn the right secret', () => {
    const r = new BootstrapSecrets();
    const s = r.issue('netback');
    expect(() => r.redeem('zfs', s)).toThrow(
      new IdentityError('EACCES', 'bootstrap: no secret was issued for domain zfs'),
    );
    expect(() => r.redeem('netback', s + 'x')).toThrow(
      expect.objectContaining({ kind: 'EACCES', message: 'bootstrap: wrong secret for domain netback' }),
    );
    expect(() => r.redeem('netback', '')).toThrow(expect.objectContaining({ kind: 'EACCES' }));
    expect(() => r.redeem('netback', s)).not.toThrow();
  });

  it('makes a re-issued secret replace the old one', () => {
    const r = new BootstrapSecrets();
    const old = r.issue('guest1');
    const fresh = r.issue('guest1');
    expect(fresh).not.toBe(old);
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(() => r.redeem('guest1', old)).toThrow(/wrong secret/);
    expect(() => r.redeem('guest1', fresh)).not.toThrow();
  });

  it('persists hashes only, with the used state', () => {
    const r = new BootstrapSecrets();
    const a = r.issue('a');
    r.register('b', 'a-secret-from-compose-env');
    r.redeem('a', a);
    const state = r.toJSON();
    expect(JSON.stringify(state)).not.toContain(a);
    expect(JSON.stringify(state)).not.toContain('a-secret-from-compose-env');
    const back = BootstrapSecrets.fromJSON(JSON.parse(JSON.stringify(state)));
    expect(() => back.redeem('a', a)).toThrow(/already used/);
    expect(() => back.redeem('b', 'a-secret-from-compose-env')).not.toThrow();
  });

  it('refuses bad names, short registered secrets and malformed state with EINVAL', () => {
    const r = new BootstrapSecrets();
    expect(() => r.issue('')).toThrow(expect.objectContaining({ kind: 'EINVAL' }));
    expect(() => r.issue('has space')).toThrow(/domain name/);
    expect(() => r.register('x', 'short')).toThrow(/shorter than 16/);
    expect(() => BootstrapSecrets.fromJSON({ x: { sha256: 'zz', used: false } })).toThrow(/entry x is malformed/);
  });
});

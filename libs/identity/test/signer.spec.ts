// The native signer against nkeys' own: Ed25519 is deterministic, so the signatures must be identical.
import { describe, expect, it } from '@jest/globals';
import { createAccount, createUser, fromPublic } from '@nats-io/nkeys';
import { NkeySigner, rawPublicKey, seedText } from '../src/index.js';

describe('NkeySigner', () => {
  it('signs exactly as nkeys does, and verifies what nkeys signed', () => {
    const kp = createUser();
    const s = new NkeySigner(seedText(kp), kp.getPublicKey());
    const msg = new TextEncoder().encode('xen.evtchn.6.1.5');
    const mine = s.sign(msg);
    expect(Buffer.from(mine).toString('hex')).toBe(Buffer.from(kp.sign(msg)).toString('hex'));
    expect(fromPublic(kp.getPublicKey()).verify(msg, mine)).toBe(true);
    expect(s.verify(msg, kp.sign(msg))).toBe(true);
    expect(s.verify(new TextEncoder().encode('xen.evtchn.6.1.7'), mine)).toBe(false);
  });

  it('derives the public key when it is not given, and refuses one that is not the seed’s', () => {
    const kp = createAccount();
    expect(new NkeySigner(seedText(kp)).getPublicKey()).toBe(kp.getPublicKey());
    expect(() => new NkeySigner(seedText(kp), createAccount().getPublicKey())).toThrow(/does not belong/);
  });

  it('reads the 32 raw bytes of a public nkey and refuses a damaged one', () => {
    const kp = createUser();
    expect(rawPublicKey(kp.getPublicKey())).toHaveLength(32);
    const damaged = kp.getPublicKey().slice(0, -1) + (kp.getPublicKey().endsWith('A') ? 'B' : 'A');
    expect(() => rawPublicKey(damaged)).toThrow(/not a public nkey/);
  });
});

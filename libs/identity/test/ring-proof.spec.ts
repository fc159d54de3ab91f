// Ring-stream proofs: a proof is good for one backend, one device, one ring-ref, one nonce, before expiry,
// from the key the hypervisor vouches for, and nothing else.
import { describe, expect, it } from '@jest/globals';
import { createUser } from '@nats-io/nkeys';
import {
  RING_PROOF_CONTEXT,
  issueRingChallenge,
  ringChallengeBytes,
  seedText,
  signRingChallenge,
  verifyRingProof,
  type RingBinding,
} from '../src/index.js';

const dom5 = createUser();
const dom6 = createUser();
const seed5 = seedText(dom5);
const key5 = dom5.getPublicKey();
const vbd: RingBinding = { backend: 1, device: '/local/domain/1/backend/vbd/5/51712', ringRef: 8, frontendDomid: 5 };

describe('ring proof', () => {
  it('signs fixed, context-prefixed bytes (hand-written here)', () => {
    const bytes = ringChallengeBytes({
      backend: 1,
      device: '/local/domain/1/backend/vbd/5/51712',
      ringRef: 8,
      frontend: 5,
      expiresAt: 1_800_000_000_000,
      nonce: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8',
    });
    expect(new TextDecoder().decode(bytes)).toBe(
      'dominion-ring-proof-v1\n' +
        'backend=1\n' +
        'device=/local/domain/1/backend/vbd/5/51712\n' +
        'ring-ref=8\n' +
        'frontend=5\n' +
        'expires=1800000000000\n' +
        'nonce=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8',
    );
    expect(RING_PROOF_CONTEXT).toBe('dominion-ring-proof-v1');
  });

  it('accepts the frontend’s proof on the stream it was issued for, verifiable by nkeys too', () => {
    const c = issueRingChallenge(vbd);
    const proof = signRingChallenge(c, seed5, vbd);
    expect(() => verifyRingProof(c, proof, key5, vbd)).not.toThrow();
    expect(dom5.verify(ringChallengeBytes(c), Buffer.from(proof.sig, 'base64url'))).toBe(true);
  });

  it('refuses the same proof replayed on another backend, device, ring-ref or for another frontend', () => {
    const c = issueRingChallenge(vbd);
    const proof = signRingChallenge(c, seed5, vbd);
    for (const other of [
      { ...vbd, backend: 2 },
      { ...vbd, device: '/local/domain/1/backend/vbd/5/51728' },
      { ...vbd, ringRef: 9 },
      { ...vbd, frontendDomid: 6 },
    ]) {
      expect(() => verifyRingProof(c, proof, key5, other)).toThrow(expect.objectContaining({ kind: 'EACCES' }));
      // ... and a challenge rewritten for the other stream no longer matches the signature.
      const moved = {
        ...c,
        backend: other.backend,
        device: other.device,
        ringRef: other.ringRef,
        frontend: other.frontendDomid,
      };
      expect(() => verifyRingProof(moved, proof, key5, other)).toThrow(/signature does not verify/);
    }
  });

  it('refuses a proof for an earlier challenge on the same stream (fresh nonce per stream)', () => {
    const first = issueRingChallenge(vbd);
    const old = signRingChallenge(first, seed5, vbd);
    const second = issueRingChallenge(vbd);
    expect(second.nonce).not.toBe(first.nonce);
    expect(() => verifyRingProof(second, old, key5, vbd)).toThrow(/signature does not verify/);
    expect(() => verifyRingProof(second, signRingChallenge(second, seed5, vbd), key5, vbd)).not.toThrow();
  });

  it('refuses an expired challenge', () => {
    const c = issueRingChallenge(vbd, { ttlMs: 1000, now: 10_000 });
    const proof = signRingChallenge(c, seed5, vbd, 10_500);
    expect(() => verifyRingProof(c, proof, key5, vbd, 11_000)).not.toThrow();
    expect(() => verifyRingProof(c, proof, key5, vbd, 11_001)).toThrow(/expired 1 ms ago/);
    expect(() => signRingChallenge(c, seed5, vbd, 11_001)).toThrow(expect.objectContaining({ kind: 'EACCES' }));
  });

  it('refuses another domain’s key: domain 6 cannot prove it is domain 5', () => {
    const c = issueRingChallenge(vbd);
    const forged = signRingChallenge(c, seedText(dom6), vbd);
    expect(() => verifyRingProof(c, forged, key5, vbd)).toThrow(/does not verify against dom5's key/);
    expect(() => verifyRingProof(c, forged, dom6.getPublicKey(), vbd)).not.toThrow(); // it is 6's signature
  });

  it('does not sign a challenge for a stream the frontend did not open (a relaying backend)', () => {
    const elsewhere = issueRingChallenge({ ...vbd, backend: 3, device: '/local/domain/3/backend/vbd/5/51712' });
    expect(() => signRingChallenge(elsewhere, seed5, vbd)).toThrow(/challenge is for backend 3/);
  });

  it('is not a NATS login: a signature of the raw nonce (what CONNECT signs) does not pass', () => {
    const c = issueRingChallenge(vbd);
    const raw = { sig: Buffer.from(dom5.sign(new TextEncoder().encode(c.nonce))).toString('base64url') };
    expect(() => verifyRingProof(c, raw, key5, vbd)).toThrow(/signature does not verify/);
  });

  it('refuses malformed input with EINVAL, naming it', () => {
    const c = issueRingChallenge(vbd);
    expect(() => verifyRingProof(c, { sig: 'short' }, key5, vbd)).toThrow(expect.objectContaining({ kind: 'EINVAL' }));
    expect(() => verifyRingProof(c, signRingChallenge(c, seed5, vbd), 'UNOTAKEY', vbd)).toThrow(
      /not a NATS user public key/,
    );
    expect(() => verifyRingProof({ ...c, nonce: 'x' }, { sig: 'x' }, key5, vbd)).toThrow(/nonce/);
    expect(() => issueRingChallenge({ ...vbd, device: 'a\nb' })).toThrow(/not a XenStore path/);
    expect(() => issueRingChallenge({ ...vbd, ringRef: -1 })).toThrow(/ring-ref -1/);
    expect(() => issueRingChallenge({ ...vbd, backend: 0x7ff0 })).toThrow(/backend 32752 is not a domid/);
  });
});

// Proof of identity on a ring stream (ARCHITECTURE §2): the backend issues a fresh challenge bound to itself,
// the device, the ring-ref, the frontend it expects and an expiry; the frontend signs it with its domain's
// nkey; the backend verifies against the user key the hypervisor vouches for that domid. A proof is useless
// anywhere else: it names one backend, one device, one ring-ref and one nonce, and expires.
//
// The signed bytes start with a context string, so a signature made here can never pass as a NATS login (the
// same key signs the server's raw nonce at CONNECT) and a NATS nonce can never be turned into a ring proof.
// Transport-independent: the challenge and proof are plain JSON-able objects.
import { randomBytes, verify } from 'node:crypto';
import { isDomId, type DomId } from '@dominion/abi';
import { IdentityError } from './errors.js';
import { checkUserPublicKey, signerOf } from './keys.js';
import { publicKeyObject } from './signer.js';

export const RING_PROOF_CONTEXT = 'dominion-ring-proof-v1';
export const RING_CHALLENGE_TTL_MS = 5000;
const NONCE_BYTES = 32;
/** XENSTORE_ABS_PATH_MAX. */
const DEVICE_MAX = 3072;

/** What a stream is for: the device's backend, its path, the ring-ref, the domain at the other end. */
export interface RingBinding {
  backend: DomId;
  /** The backend device dir, e.g. `/local/domain/1/backend/vbd/5/51712` (the frontend's `backend` node). */
  device: string;
  ringRef: number;
  frontendDomid: DomId;
}

export interface RingChallenge {
  backend: DomId;
  device: string;
  ringRef: number;
  frontend: DomId;
  /** ms since the epoch. */
  expiresAt: number;
  /** 32 random bytes, base64url. */
  nonce: string;
}

export interface RingProof {
  /** Ed25519 signature of the challenge's canonical bytes, base64url. */
  sig: string;
}

function checkBinding(b: RingBinding, where: string): void {
  if (!isDomId(b.backend)) throw new IdentityError('EINVAL', `${where}: backend ${String(b.backend)} is not a domid`);
  if (!isDomId(b.frontendDomid))
    throw new IdentityError('EINVAL', `${where}: frontend ${String(b.frontendDomid)} is not a domid`);
  if (
    typeof b.device !== 'string' ||
    b.device.length === 0 ||
    b.device.length > DEVICE_MAX ||
    !/^[\x21-\x7e]+$/.test(b.device)
  )
    throw new IdentityError('EINVAL', `${where}: device ${JSON.stringify(b.device)} is not a XenStore path`);
  if (!Number.isInteger(b.ringRef) || b.ringRef < 0 || b.ringRef > 0xffffffff)
    throw new IdentityError('EINVAL', `${where}: ring-ref ${String(b.ringRef)} is not a grant reference (u32)`);
}

function bindingOf(c: RingChallenge): RingBinding {
  return { backend: c.backend, device: c.device, ringRef: c.ringRef, frontendDomid: c.frontend };
}

function checkChallenge(c: RingChallenge, where: string): void {
  if (typeof c !== 'object' || c === null) throw new IdentityError('EINVAL', `${where}: challenge is not an object`);
  checkBinding(bindingOf(c), where);
  if (!Number.isSafeInteger(c.expiresAt)) throw new IdentityError('EINVAL', `${where}: expiresAt is not an integer`);
  if (
    typeof c.nonce !== 'string' ||
    Buffer.from(c.nonce, 'base64url').length !== NONCE_BYTES ||
    !/^[A-Za-z0-9_-]+$/.test(c.nonce)
  )
    throw new IdentityError('EINVAL', `${where}: nonce is not ${NONCE_BYTES} base64url bytes`);
}

/** The signed bytes: one field per line, in a fixed order, after the context string. */
export function ringChallengeBytes(c: RingChallenge): Uint8Array {
  return new TextEncoder().encode(
    [
      RING_PROOF_CONTEXT,
      `backend=${c.backend}`,
      `device=${c.device}`,
      `ring-ref=${c.ringRef}`,
      `frontend=${c.frontend}`,
      `expires=${c.expiresAt}`,
      `nonce=${c.nonce}`,
    ].join('\n'),
  );
}

function describe(b: RingBinding): string {
  return `backend ${b.backend} device ${b.device} ring-ref ${b.ringRef} frontend ${b.frontendDomid}`;
}

/** Refuses a challenge issued for another stream. */
function checkBound(c: RingChallenge, expected: RingBinding, who: string): void {
  const got = bindingOf(c);
  if (
    got.backend !== expected.backend ||
    got.device !== expected.device ||
    got.ringRef !== expected.ringRef ||
    got.frontendDomid !== expected.frontendDomid
  )
    throw new IdentityError('EACCES', `${who}: challenge is for ${describe(got)}, not ${describe(expected)}`);
}

/** The backend's side: a fresh challenge for one stream. Keep it; verify against this copy, not one sent back. */
export function issueRingChallenge(binding: RingBinding, opts: { ttlMs?: number; now?: number } = {}): RingChallenge {
  checkBinding(binding, 'ring challenge');
  const ttl = opts.ttlMs ?? RING_CHALLENGE_TTL_MS;
  if (!Number.isInteger(ttl) || ttl <= 0)
    throw new IdentityError('EINVAL', `ring challenge: ttlMs ${ttl} is not a positive integer`);
  return {
    backend: binding.backend,
    device: binding.device,
    ringRef: binding.ringRef,
    frontend: binding.frontendDomid,
    expiresAt: (opts.now ?? Date.now()) + ttl,
    nonce: randomBytes(NONCE_BYTES).toString('base64url'),
  };
}

/**
 * The frontend's side: signs the challenge with its domain's seed, but only if it is for the backend, device
 * and ring-ref the frontend itself dialed (from its own XenStore device dir). Otherwise a backend could relay
 * another backend's challenge and log in there as this domain.
 */
export function signRingChallenge(
  challenge: RingChallenge,
  seed: string,
  expected: RingBinding,
  now = Date.now(),
): RingProof {
  checkChallenge(challenge, 'ring proof');
  checkBound(challenge, expected, `dom${expected.frontendDomid} signing a ring challenge`);
  if (now > challenge.expiresAt) throw new IdentityError('EACCES', `ring challenge for ${describe(expected)} expired`);
  const kp = signerOf(seed, `dom${expected.frontendDomid} ring proof seed`, 'SU');
  return { sig: Buffer.from(kp.sign(ringChallengeBytes(challenge))).toString('base64url') };
}

/**
 * The backend's check: the proof signs this challenge (its own copy) with `expectedPublicKey`, the challenge
 * is for this backend, device, ring-ref and frontend, and it has not expired. Throws EACCES (refused) or
 * EINVAL (malformed); returns nothing on success.
 */
export function verifyRingProof(
  challenge: RingChallenge,
  proof: RingProof,
  expectedPublicKey: string,
  expected: RingBinding,
  now = Date.now(),
): void {
  const who = `ring stream of dom${expected.frontendDomid} on backend ${expected.backend} device ${expected.device}`;
  checkBinding(expected, who);
  checkChallenge(challenge, who);
  checkUserPublicKey(expectedPublicKey);
  checkBound(challenge, expected, who);
  if (now > challenge.expiresAt)
    throw new IdentityError('EACCES', `${who}: challenge expired ${now - challenge.expiresAt} ms ago`);
  const sig =
    typeof proof?.sig === 'string' && /^[A-Za-z0-9_-]+$/.test(proof.sig)
      ? Buffer.from(proof.sig, 'base64url')
      : undefined;
  if (sig?.length !== 64) throw new IdentityError('EINVAL', `${who}: proof signature is not 64 base64url bytes`);
  if (!verify(null, ringChallengeBytes(challenge), publicKeyObject(expectedPublicKey), sig))
    throw new IdentityError(
      'EACCES',
      `${who}: signature does not verify against dom${expected.frontendDomid}'s key ${expectedPublicKey}`,
    );
}

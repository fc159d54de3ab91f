// Ed25519 for nkeys through node:crypto (OpenSSL). nkeys' own KeyPair re-derives the key pair in pure
// JavaScript (tweetnacl) on every call: five scalar multiplications to encode one JWT, ~20 ms per minted
// user in Node and ~300 ms under Jest. Ed25519 is deterministic, so this signer's signatures are byte for
// byte nkeys' (tested), and @nats-io/jwt takes it wherever it takes a KeyPair. nkeys still makes, encodes
// and validates every key; this file only signs and verifies.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { fromPublic, fromSeed, type KeyPair } from '@nats-io/nkeys';
import { IdentityError } from './errors.js';

const enc = new TextEncoder();
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
// DER headers of an Ed25519 PKCS#8 private key and SPKI public key (RFC 8410), followed by the 32 raw bytes.
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

/** RFC 4648 base32 without padding, the encoding of nkeys. */
function base32Decode(s: string): Buffer {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of s) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new IdentityError('EINVAL', `nkey: ${JSON.stringify(ch)} is not a base32 character`);
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** The 32 raw bytes of a public nkey (validated by nkeys: prefix and checksum). Layout: prefix, key, crc16. */
export function rawPublicKey(publicKey: string): Buffer {
  try {
    fromPublic(publicKey);
  } catch (e) {
    throw new IdentityError('EINVAL', `${JSON.stringify(publicKey)}: not a public nkey (${(e as Error).message})`);
  }
  return base32Decode(publicKey).subarray(1, 33);
}

/** A public nkey as a node:crypto key, for verifying. */
export function publicKeyObject(publicKey: string): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519, rawPublicKey(publicKey)]), format: 'der', type: 'spki' });
}

/** The 32 raw bytes of an nkey seed (validated by nkeys). Layout: two prefix bytes, seed, crc16. */
function rawSeed(seed: string): Buffer {
  fromSeed(enc.encode(seed)); // throws on a bad prefix or checksum
  return base32Decode(seed).subarray(2, 34);
}

export class NkeySigner implements KeyPair {
  private readonly privateKey: KeyObject;
  private readonly rawPublic: Buffer;
  private readonly publicKey: string;

  /**
   * `publicKey`, when known, is checked against the seed natively; without it nkeys derives it (one slow
   * scalar multiplication).
   */
  constructor(
    private readonly seed: string,
    publicKey?: string,
  ) {
    const raw = rawSeed(seed);
    this.privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, raw]), format: 'der', type: 'pkcs8' });
    this.rawPublic = createPublicKey(this.privateKey)
      .export({ format: 'der', type: 'spki' })
      .subarray(SPKI_ED25519.length);
    this.publicKey = publicKey ?? fromSeed(enc.encode(seed)).getPublicKey();
    if (!rawPublicKey(this.publicKey).equals(this.rawPublic))
      throw new IdentityError('EINVAL', `seed does not belong to public key ${this.publicKey}`);
  }

  getPublicKey(): string {
    return this.publicKey;
  }
  /** NaCl's secret-key layout (seed then public key), raw: @nats-io/jwt only checks that it exists. */
  getPrivateKey(): Uint8Array {
    return new Uint8Array(Buffer.concat([rawSeed(this.seed), this.rawPublic]));
  }
  getSeed(): Uint8Array {
    return enc.encode(this.seed);
  }
  sign(input: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, input, this.privateKey));
  }
  verify(input: Uint8Array, sig: Uint8Array): boolean {
    return verify(null, input, createPublicKey(this.privateKey), sig);
  }
  clear(): void {
    // The seed is an immutable string owned by the caller; nothing to wipe here.
  }
  seal(): Uint8Array {
    throw new IdentityError('EINVAL', 'an Ed25519 nkey cannot seal');
  }
  open(): Uint8Array | null {
    throw new IdentityError('EINVAL', 'an Ed25519 nkey cannot open');
  }
}

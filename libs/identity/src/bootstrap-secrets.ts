// One-time bootstrap secrets (ARCHITECTURE §1): a service that compose or Kubernetes starts before it has a
// domid presents its domain name and a secret, and dom0 exchanges them, once, for its domain's credentials.
// Only a SHA-256 of each secret is kept (so a dump of the registry reveals none), and the comparison runs in
// constant time. Used, unknown and wrong secrets are all refused with EACCES.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { IdentityError } from './errors.js';

const SECRET_BYTES = 32;

interface Entry {
  hash: Buffer;
  used: boolean;
}

/** The registry's persistent form: hashes only. */
export type BootstrapSecretsState = Record<string, { sha256: string; used: boolean }>;

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

function checkName(name: string): void {
  if (typeof name !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(name))
    throw new IdentityError(
      'EINVAL',
      `bootstrap: domain name ${JSON.stringify(name)} is not 1..64 printable characters`,
    );
}

export class BootstrapSecrets {
  private readonly entries = new Map<string, Entry>();

  /** A fresh secret for `name` (32 random bytes, base64url); it replaces any earlier one. */
  issue(name: string): string {
    checkName(name);
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    this.entries.set(name, { hash: digest(secret), used: false });
    return secret;
  }

  /** Registers a secret chosen elsewhere (the set-up command's, in compose's environment). */
  register(name: string, secret: string): void {
    checkName(name);
    if (typeof secret !== 'string' || secret.length < 16)
      throw new IdentityError('EINVAL', `bootstrap: the secret for ${name} is shorter than 16 characters`);
    this.entries.set(name, { hash: digest(secret), used: false });
  }

  /** Accepts `secret` for `name` once; a used, unknown or wrong secret throws EACCES. */
  redeem(name: string, secret: string): void {
    checkName(name);
    const e = this.entries.get(name);
    // Hash before comparing: equal lengths for timingSafeEqual, and no early exit on the secret's bytes.
    const ok = e !== undefined && typeof secret === 'string' && timingSafeEqual(e.hash, digest(secret));
    if (!e) throw new IdentityError('EACCES', `bootstrap: no secret was issued for domain ${name}`);
    if (!ok) throw new IdentityError('EACCES', `bootstrap: wrong secret for domain ${name}`);
    if (e.used) throw new IdentityError('EACCES', `bootstrap: the secret for domain ${name} was already used`);
    e.used = true;
  }

  /** Whether `name` holds a secret not yet used. */
  pending(name: string): boolean {
    return this.entries.get(name)?.used === false;
  }

  toJSON(): BootstrapSecretsState {
    const out: BootstrapSecretsState = {};
    for (const [name, e] of this.entries) out[name] = { sha256: e.hash.toString('hex'), used: e.used };
    return out;
  }

  static fromJSON(state: BootstrapSecretsState): BootstrapSecrets {
    const r = new BootstrapSecrets();
    for (const [name, e] of Object.entries(state)) {
      checkName(name);
      if (!/^[0-9a-f]{64}$/.test(e?.sha256 ?? '') || typeof e.used !== 'boolean')
        throw new IdentityError('EINVAL', `bootstrap state: entry ${name} is malformed`);
      r.entries.set(name, { hash: Buffer.from(e.sha256, 'hex'), used: e.used });
    }
    return r;
  }
}

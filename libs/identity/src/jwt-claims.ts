// Reading the claims of a JWT this library signed and stored itself. Signatures are not verified here: the
// JWTs come from the 0600 identity file, next to the seeds that signed them, so anyone able to forge one
// could replace the seeds as well. Consistency (subjects and issuers matching the seeds) is checked instead.
import type { ClaimsData } from '@nats-io/jwt';
import { IdentityError } from './errors.js';

export function claimsOf<T>(jwt: unknown, what: string): ClaimsData<T> {
  const parts = typeof jwt === 'string' ? jwt.split('.') : [];
  if (parts.length !== 3) throw new IdentityError('EINVAL', `${what}: not a JWT`);
  let c: ClaimsData<T>;
  try {
    c = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as ClaimsData<T>;
  } catch (e) {
    throw new IdentityError('EINVAL', `${what}: claims are not JSON (${(e as Error).message})`);
  }
  if (typeof c?.sub !== 'string' || typeof c.iss !== 'string' || typeof c.nats !== 'object' || c.nats === null)
    throw new IdentityError('EINVAL', `${what}: claims lack sub, iss or nats`);
  return c;
}

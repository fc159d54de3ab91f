// Destroying a domain revokes its credentials: the account JWT gets `revocations: { <user key>: <time> }`,
// re-signed by the operator, persisted, and pushed to the server as a claims update. The server then
// disconnects the user at once and refuses its reconnects (reference/nats-identity.md: ~2 ms).
import { encodeAccount, type Account } from '@nats-io/jwt';
import type { NatsConnection } from '@nats-io/transport-node';
import { IdentityError } from './errors.js';
import { claimsOf } from './jwt-claims.js';
import { checkUserPublicKey, signerOf, type OperatorKeys } from './keys.js';
import type { IdentityStore } from './store.js';

/** The full resolver's claims-update subject (works for any account, connected or not). */
export const CLAIMS_UPDATE_SUBJECT = '$SYS.REQ.CLAIMS.UPDATE';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The revocations an account JWT carries (user key -> unix seconds). */
export function revocationsOf(accountJwt: string): Record<string, number> {
  return { ...(claimsOf<Account>(accountJwt, 'account JWT').nats.revocations ?? {}) };
}

/**
 * The account JWT with `users` revoked as of `at` (unix seconds): every JWT of those keys issued at or before
 * `at` is refused. Everything else in the account is kept; an earlier revocation of a key is never moved back.
 */
export async function revokedAccountJwt(
  operator: Pick<OperatorKeys, 'seed' | 'publicKey'>,
  accountJwt: string,
  users: readonly string[],
  at: number = Math.floor(Date.now() / 1000),
): Promise<string> {
  for (const u of users) checkUserPublicKey(u);
  const claims = claimsOf<Account>(accountJwt, 'account JWT');
  const revocations = { ...(claims.nats.revocations ?? {}) };
  for (const u of users) revocations[u] = Math.max(revocations[u] ?? 0, at);
  return encodeAccount(
    claims.name,
    claims.sub,
    { ...claims.nats, revocations },
    { signer: signerOf(operator.seed, 'operator seed', 'SO', operator.publicKey) },
  );
}

interface ClaimsUpdateReply {
  data?: { code?: number; message?: string };
  error?: { code?: number; description?: string };
}

/** Pushes an account JWT to the server through the system user's connection; resolves once it is in force. */
export async function pushAccountJwt(sys: NatsConnection, accountJwt: string, timeoutMs = 2000): Promise<void> {
  let text: string;
  try {
    text = dec.decode((await sys.request(CLAIMS_UPDATE_SUBJECT, enc.encode(accountJwt), { timeout: timeoutMs })).data);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const kind = /timeout/i.test(msg) ? 'ETIMEDOUT' : 'EIO';
    throw new IdentityError(kind, `${CLAIMS_UPDATE_SUBJECT}: ${msg}`);
  }
  let reply: ClaimsUpdateReply;
  try {
    reply = JSON.parse(text) as ClaimsUpdateReply;
  } catch {
    throw new IdentityError('EIO', `${CLAIMS_UPDATE_SUBJECT}: reply is not JSON: ${text.slice(0, 200)}`);
  }
  if (reply.data?.code !== 200) {
    const why = reply.error?.description ?? reply.data?.message ?? text.slice(0, 200);
    throw new IdentityError('EIO', `${CLAIMS_UPDATE_SUBJECT}: server refused the account JWT: ${why}`);
  }
}

export interface RevokeOptions {
  /** Revocation time, unix seconds; default now. */
  at?: number;
  timeoutMs?: number;
}

/**
 * Revokes users: the new account JWT is persisted first (so that a failed push, or a restart, still ends
 * with the user revoked: the next start preloads it), then pushed. Resolves the new account JWT.
 */
export async function revokeUser(
  store: IdentityStore,
  sys: NatsConnection,
  userPublicKeys: string | readonly string[],
  opts: RevokeOptions = {},
): Promise<string> {
  const users = typeof userPublicKeys === 'string' ? [userPublicKeys] : [...userPublicKeys];
  for (const u of users) checkUserPublicKey(u);
  const account = await store.updateAccountJwt(
    (current) => revokedAccountJwt(store.operator, current.jwt, users, opts.at),
    (jwt) => pushAccountJwt(sys, jwt, opts.timeoutMs),
  );
  return account.jwt;
}

/**
 * Revokes users in the store only, for a server that is not running yet (the launcher, before it starts
 * nats-server): the configuration written afterwards preloads this account JWT, and the full resolver keeps
 * the newer of it and its own copy. Resolves the new account JWT.
 */
export async function revokeUserOffline(
  store: IdentityStore,
  userPublicKeys: readonly string[],
  opts: Pick<RevokeOptions, 'at'> = {},
): Promise<string> {
  for (const u of userPublicKeys) checkUserPublicKey(u);
  const account = await store.updateAccountJwt((current) =>
    revokedAccountJwt(store.operator, current.jwt, userPublicKeys, opts.at),
  );
  return account.jwt;
}

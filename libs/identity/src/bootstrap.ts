// The bootstrap exchange (ARCHITECTURE §1): a service that compose or Kubernetes started before it has a domid
// presents its domain name, its one-time secret and the public half of a user key it has just made, on
// `xen.bootstrap`; dom0 redeems the secret, creates (or re-adopts) the domain with that key (createdomain's
// `user_key`), and answers the domid and the user JWT the hypervisor issued for the key.
//
// The service logs in for this one request as the shared bootstrap user, who may publish only the request
// and read only bootstrap inboxes. Nothing secret travels back: the answer's JWT is useless without the seed,
// which never leaves the service (the account disallows bearer tokens), so another bootstrapping service that
// reads the answer gains nothing. The secret travels once, to dom0 only (no one else may subscribe to
// `xen.bootstrap`), and is refused once used.
import { createUser as newUserKey, fromSeed } from '@nats-io/nkeys';
import { encodeUser } from '@nats-io/jwt';
import { isDomId, type DomId } from '@dominion/abi';
import { IdentityError } from './errors.js';
import { claimsOf } from './jwt-claims.js';
import { checkUserPublicKey, credsText, seedText, signerOf, type AccountSigner } from './keys.js';
import type { BusPermissions } from './roles.js';

/** dom0 serves the exchange here (request/reply; the name is in the body: names are not subject tokens). */
export const BOOTSTRAP_SUBJECT = 'xen.bootstrap';
/** The shared bootstrap user's inbox prefix. */
export const BOOTSTRAP_INBOX_PREFIX = '_INBOX.boot';
/** The bootstrap user's JWT name (what the server's log shows). */
export const BOOTSTRAP_USER_NAME = 'bootstrap';

/** The bootstrap user's exact permissions: the request, and answers in bootstrap inboxes. */
export function bootstrapPermissions(): BusPermissions {
  return { pub: [BOOTSTRAP_SUBJECT], sub: [`${BOOTSTRAP_INBOX_PREFIX}.>`] };
}

export interface BootstrapUser {
  jwt: string;
  seed: string;
  /** The .creds text handed to services that bootstrap (with their own secret each). Low-privilege. */
  creds: string;
  inboxPrefix: string;
  userPublicKey: string;
}

/** The shared bootstrap user (the set-up command mints it once; compose hands it to every service). */
export async function mintBootstrapUser(account: AccountSigner): Promise<BootstrapUser> {
  const perms = bootstrapPermissions();
  const ukp = newUserKey();
  const userPublicKey = ukp.getPublicKey();
  const jwt = await encodeUser(
    BOOTSTRAP_USER_NAME,
    userPublicKey,
    account.publicKey,
    {
      pub: { allow: perms.pub },
      sub: { allow: perms.sub },
      subs: -1,
      data: -1,
      payload: -1,
      allowed_connection_types: ['STANDARD'],
      tags: ['role:bootstrap'],
    },
    { signer: signerOf(account.signingSeed, 'account signing seed', 'SA', account.signingPublicKey) },
  );
  return { jwt, seed: seedText(ukp), creds: credsText(jwt, ukp), inboxPrefix: BOOTSTRAP_INBOX_PREFIX, userPublicKey };
}

/** The request body on BOOTSTRAP_SUBJECT. */
export interface BootstrapRequest {
  /** The domain name of the service's config. */
  name: string;
  /** Its one-time secret. */
  secret: string;
  /** The public half of the user key the service made for its domain (`U…`). */
  user_key: string;
}

/** The answer: the domain's id and its user JWT for `user_key`, with the inbox prefix to use. */
export interface BootstrapReply {
  domid: DomId;
  jwt: string;
  inbox_prefix: string;
}

/** dom0's check of a request body; EINVAL names the field. */
export function parseBootstrapRequest(body: unknown): BootstrapRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new IdentityError('EINVAL', 'bootstrap request: the body must be a JSON object');
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!['name', 'secret', 'user_key'].includes(k))
      throw new IdentityError('EINVAL', `bootstrap request: unknown field ${JSON.stringify(k)}`);
  for (const k of ['name', 'secret', 'user_key'] as const)
    if (typeof o[k] !== 'string' || o[k] === '')
      throw new IdentityError('EINVAL', `bootstrap request: ${k} must be a non-empty string`);
  try {
    checkUserPublicKey(o.user_key as string);
  } catch (e) {
    throw new IdentityError('EINVAL', `bootstrap request: user_key: ${(e as Error).message}`);
  }
  return { name: o.name as string, secret: o.secret as string, user_key: o.user_key as string };
}

/** The service's side: a fresh key for its domain; it sends `request`, keeps `seed` to itself. */
export function bootstrapKey(name: string, secret: string): { seed: string; request: BootstrapRequest } {
  const ukp = newUserKey();
  return { seed: seedText(ukp), request: { name, secret, user_key: ukp.getPublicKey() } };
}

/** The service's side: its .creds text from the answer and its own seed (refused if they do not match). */
export function credsFromBootstrapReply(reply: BootstrapReply, seed: string): string {
  if (!isDomId(reply?.domid) || typeof reply.jwt !== 'string')
    throw new IdentityError('EINVAL', 'bootstrap reply: expected { domid, jwt, inbox_prefix }');
  const kp = fromSeed(new TextEncoder().encode(seed));
  if (claimsOf(reply.jwt, `bootstrap reply for domain ${reply.domid}`).sub !== kp.getPublicKey())
    throw new IdentityError('EACCES', `bootstrap reply for domain ${reply.domid}: the JWT is not for this key`);
  return credsText(reply.jwt, kp);
}

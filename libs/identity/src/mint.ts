// A domain's NATS credentials: a fresh user key per incarnation (a revocation is per key, so a re-used key
// would come back to life with a newer JWT), and a user JWT signed by the account's signing key whose
// permissions are its role's template for its domid.
import { createUser as newUserKey } from '@nats-io/nkeys';
import { encodeUser } from '@nats-io/jwt';
import type { DomId } from '@dominion/abi';
import { IdentityError } from './errors.js';
import { checkUserPublicKey, credsText, seedText, signerOf, type AccountSigner } from './keys.js';
import { checkRoleDomid, inboxPrefixOf, permissionsFor, type DomainRole } from './roles.js';

export interface MintOptions {
  /** The JWT expires this many seconds after minting (the server then disconnects it); default: never. */
  expiresInSec?: number;
  /** Clock, ms since the epoch (tests). */
  now?: number;
}

export interface MintedUser {
  domid: DomId;
  role: DomainRole;
  jwt: string;
  /** The user's nkey seed: it logs in and signs ring proofs. Secret. */
  seed: string;
  /** The .creds file text the launcher hands to the domain's service (a 0600 file). Secret. */
  creds: string;
  /** The client option `inboxPrefix` the service must use; its permissions cover no other inbox. */
  inboxPrefix: string;
  /** What the hypervisor records for the domain: the key to revoke and to verify ring proofs against. */
  userPublicKey: string;
  /** Unix seconds, when expiresInSec was given. */
  expiresAt?: number;
}

/** The JWT's name: what the server's log and monitoring show next to the user key. */
export function userNameOf(role: DomainRole, domid: DomId): string {
  return role === 'hypervisor' ? 'xen' : `dom${domid}`;
}

/**
 * The user JWT of `domid` in `role` for a key the domain holds itself (a service that bootstraps makes its own
 * key and shows only the public half, so that its seed never travels). The JWT alone logs nobody in: the
 * account disallows bearer tokens, and every login signs the server's nonce with the seed.
 */
export async function issueUserJwt(
  account: AccountSigner,
  domid: DomId,
  role: DomainRole,
  userPublicKey: string,
  opts: MintOptions = {},
): Promise<{ jwt: string; expiresAt?: number }> {
  checkUserPublicKey(userPublicKey);
  const perms = permissionsFor(role, domid);
  const signer = signerOf(account.signingSeed, 'account signing seed', 'SA', account.signingPublicKey);
  let exp: number | undefined;
  if (opts.expiresInSec !== undefined) {
    if (!Number.isInteger(opts.expiresInSec) || opts.expiresInSec <= 0)
      throw new IdentityError(
        'EINVAL',
        `expiresInSec ${opts.expiresInSec} for dom${domid}: expected a positive integer`,
      );
    exp = Math.floor((opts.now ?? Date.now()) / 1000) + opts.expiresInSec;
  }
  const jwt = await encodeUser(
    userNameOf(role, domid),
    userPublicKey,
    account.publicKey,
    {
      pub: { allow: perms.pub },
      sub: { allow: perms.sub },
      ...(perms.resp ? { resp: perms.resp } : {}),
      subs: -1,
      data: -1,
      payload: -1,
      allowed_connection_types: ['STANDARD'],
      tags: [`domid:${domid}`, `role:${role}`],
    },
    { signer, exp },
  );
  return exp !== undefined ? { jwt, expiresAt: exp } : { jwt };
}

export async function mintDomainUser(
  account: AccountSigner,
  domid: DomId,
  role: DomainRole,
  opts: MintOptions = {},
): Promise<MintedUser> {
  checkRoleDomid(role, domid);
  const ukp = newUserKey();
  const userPublicKey = ukp.getPublicKey();
  const { jwt, expiresAt } = await issueUserJwt(account, domid, role, userPublicKey, opts);
  return {
    domid,
    role,
    jwt,
    seed: seedText(ukp),
    creds: credsText(jwt, ukp),
    inboxPrefix: inboxPrefixOf(domid),
    userPublicKey,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  };
}

// The key material of operator (JWT) mode, made with @nats-io/nkeys and @nats-io/jwt: an operator, the account
// every domain lives in (with a separate signing key that mints users, so the key that mints domains'
// credentials is not the account's identity key), and the system account whose user pushes claims updates.
import {
  createAccount as newAccountKey,
  createOperator as newOperatorKey,
  createUser as newUserKey,
  fromPublic,
  type KeyPair,
} from '@nats-io/nkeys';
import { encodeAccount, encodeOperator, encodeUser, fmtCreds, type OperatorLimits } from '@nats-io/jwt';
import { IdentityError } from './errors.js';
import { NkeySigner } from './signer.js';

const dec = new TextDecoder();

export interface OperatorKeys {
  name: string;
  seed: string;
  publicKey: string;
  jwt: string;
}

export interface AccountKeys {
  name: string;
  /** The account's identity key: it signs nothing (the operator signs the account JWT); kept to re-create it. */
  seed: string;
  publicKey: string;
  /** The key that signs domains' user JWTs (listed in the account JWT's `signing_keys`). */
  signingSeed: string;
  signingPublicKey: string;
  /** Signed by the operator; carries limits, signing keys and revocations. */
  jwt: string;
}

/** What minting needs: the account's public key and its signing key pair (not the account's identity key). */
export type AccountSigner = Pick<AccountKeys, 'publicKey' | 'signingSeed' | 'signingPublicKey'>;

export interface SystemUserKeys {
  seed: string;
  publicKey: string;
  jwt: string;
  /** The .creds file text (JWT + seed). */
  creds: string;
  inboxPrefix: string;
}

export interface SystemAccountKeys {
  name: string;
  seed: string;
  publicKey: string;
  jwt: string;
  /** The user that pushes claims updates ($SYS.REQ.CLAIMS.UPDATE) and nothing else. */
  user: SystemUserKeys;
}

export interface IdentityMaterial {
  operator: OperatorKeys;
  account: AccountKeys;
  system: SystemAccountKeys;
}

/**
 * Limits must be explicit: an account JWT without them allows no connections at all ("maximum account active
 * connections exceeded"). No leaf nodes, no JetStream (left out = 0), and no bearer tokens: every user must
 * sign the server's nonce with its own key.
 */
export const ACCOUNT_LIMITS: OperatorLimits = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: 0,
  disallow_bearer: true,
};

export const SYSTEM_INBOX_PREFIX = '_INBOX.sys';
/** The claims-update subjects: the full resolver's, and the per-account one the memory resolver also has. */
export const SYSTEM_USER_PUBLISH = ['$SYS.REQ.CLAIMS.UPDATE', '$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE'];

export function seedText(kp: KeyPair): string {
  return dec.decode(kp.getSeed());
}

/**
 * A signer for a seed, with a message that names what the seed was for. `publicKey`, when the caller knows
 * it, saves a slow derivation and is checked against the seed.
 */
export function signerOf(seed: string, what: string, prefix: 'SO' | 'SA' | 'SU', publicKey?: string): NkeySigner {
  if (typeof seed !== 'string' || !seed.startsWith(prefix)) {
    throw new IdentityError('EINVAL', `${what}: not an nkey seed starting with ${prefix}`);
  }
  try {
    return new NkeySigner(seed, publicKey);
  } catch (e) {
    throw new IdentityError('EINVAL', `${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Refuses anything but a user public key ('U…' with a valid checksum). */
export function checkUserPublicKey(key: string): void {
  let ok: boolean;
  try {
    ok = typeof key === 'string' && key.startsWith('U') && fromPublic(key).getPublicKey() === key;
  } catch {
    ok = false;
  }
  if (!ok) throw new IdentityError('EINVAL', `${JSON.stringify(key)} is not a NATS user public key`);
}

export function credsText(jwt: string, kp: Pick<KeyPair, 'getSeed'>): string {
  return dec.decode(fmtCreds(jwt, kp as KeyPair));
}

/** A new key of a kind, as its seed and public key (nkeys makes it). */
function newKey(make: () => KeyPair): { seed: string; publicKey: string; signer: NkeySigner } {
  const kp = make();
  const seed = seedText(kp);
  const publicKey = kp.getPublicKey();
  return { seed, publicKey, signer: new NkeySigner(seed, publicKey) };
}

export async function createOperator(name = 'dominion'): Promise<OperatorKeys> {
  const op = newKey(newOperatorKey);
  // The system account is named by the server configuration (system_account), not the operator JWT, so the
  // operator can be made first and everything else signed by it.
  const jwt = await encodeOperator(name, op.signer, {});
  return { name, seed: op.seed, publicKey: op.publicKey, jwt };
}

export async function createAccount(
  operator: Pick<OperatorKeys, 'seed' | 'publicKey'>,
  name = 'DOMINION',
): Promise<AccountKeys> {
  const op = signerOf(operator.seed, 'operator seed', 'SO', operator.publicKey);
  const acc = newKey(newAccountKey);
  const signing = newKey(newAccountKey);
  const jwt = await encodeAccount(
    name,
    acc.publicKey,
    { limits: { ...ACCOUNT_LIMITS }, signing_keys: [signing.publicKey] },
    { signer: op },
  );
  return {
    name,
    seed: acc.seed,
    publicKey: acc.publicKey,
    signingSeed: signing.seed,
    signingPublicKey: signing.publicKey,
    jwt,
  };
}

export async function createSystemAccount(
  operator: Pick<OperatorKeys, 'seed' | 'publicKey'>,
  name = 'SYS',
): Promise<SystemAccountKeys> {
  const op = signerOf(operator.seed, 'operator seed', 'SO', operator.publicKey);
  const acc = newKey(newAccountKey);
  const jwt = await encodeAccount(name, acc.publicKey, { limits: { ...ACCOUNT_LIMITS } }, { signer: op });
  const user = newKey(newUserKey);
  // A user with no allow lists has every right in its account: this one may only push claims.
  const userJwt = await encodeUser('claims-pusher', user.publicKey, acc.signer, {
    pub: { allow: [...SYSTEM_USER_PUBLISH] },
    sub: { allow: [`${SYSTEM_INBOX_PREFIX}.>`] },
    allowed_connection_types: ['STANDARD'],
  });
  return {
    name,
    seed: acc.seed,
    publicKey: acc.publicKey,
    jwt,
    user: {
      seed: user.seed,
      publicKey: user.publicKey,
      jwt: userJwt,
      creds: credsText(userJwt, user.signer),
      inboxPrefix: SYSTEM_INBOX_PREFIX,
    },
  };
}

/** Everything a fresh installation needs, generated once on first start (IdentityStore). */
export async function createIdentity(names: { operator?: string; account?: string } = {}): Promise<IdentityMaterial> {
  const operator = await createOperator(names.operator);
  return {
    operator,
    account: await createAccount(operator, names.account),
    system: await createSystemAccount(operator),
  };
}

// The identity's durable state: seeds and JWTs in one 0600 JSON file in a 0700 directory, generated on first
// start and loaded on every later one. One file, replaced atomically, so that a crash never leaves an account
// JWT that disagrees with its keys. The account JWT is rewritten on every revocation, so that the preload of
// the next nats-server start carries it (a restart must not resurrect a revoked user).
import { readFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import type { Account } from '@nats-io/jwt';
import { IdentityError } from './errors.js';
import { claimsOf } from './jwt-claims.js';
import { createIdentity, signerOf, type AccountKeys, type IdentityMaterial } from './keys.js';
import { createSecretFileExclusive, ensurePrivateDir, SECRET_FILE_MODE, writeSecretFile } from './secret-file.js';

export const IDENTITY_FILE = 'identity.json';
const FORMAT_VERSION = 1;

interface StoredIdentity {
  version: number;
  operator: { name: string; seed: string; jwt: string };
  account: { name: string; seed: string; signingSeed: string; jwt: string };
  system: {
    name: string;
    seed: string;
    jwt: string;
    user: { seed: string; jwt: string; creds: string; inboxPrefix: string };
  };
}

export interface IdentityStoreOptions {
  operatorName?: string;
  accountName?: string;
}

export class IdentityStore {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    /** The state directory (0700). */
    readonly dir: string,
    private material: IdentityMaterial,
  ) {}

  /** The identity file's path. */
  get file(): string {
    return join(this.dir, IDENTITY_FILE);
  }
  get operator(): IdentityMaterial['operator'] {
    return this.material.operator;
  }
  get account(): AccountKeys {
    return this.material.account;
  }
  get system(): IdentityMaterial['system'] {
    return this.material.system;
  }

  /** Loads the identity in `dir`, generating it on first start. */
  static async open(dir: string, opts: IdentityStoreOptions = {}): Promise<IdentityStore> {
    await ensurePrivateDir(dir);
    const file = join(dir, IDENTITY_FILE);
    let text = await readIfExists(file);
    if (text === undefined) {
      const fresh = await createIdentity({ operator: opts.operatorName, account: opts.accountName });
      if (await createSecretFileExclusive(file, serialize(fresh))) return new IdentityStore(dir, fresh);
      text = await readIfExists(file); // another process generated it first
      if (text === undefined) throw new IdentityError('EIO', `${file}: vanished while being created`);
    }
    await chmod(file, SECRET_FILE_MODE);
    return new IdentityStore(dir, parse(text, file));
  }

  /**
   * Replaces the account JWT: `build` makes the new one from the current account, it is persisted, then
   * `publish` (the claims push) runs. Updates run one at a time, in order, so that concurrent revocations
   * never lose one another and the server receives them in the order they were persisted.
   */
  updateAccountJwt(
    build: (current: AccountKeys) => Promise<string>,
    publish?: (jwt: string) => Promise<void>,
  ): Promise<AccountKeys> {
    const run = async (): Promise<AccountKeys> => {
      const current = this.material.account;
      const jwt = await build(current);
      checkAccountJwt(
        jwt,
        current.publicKey,
        this.material.operator.publicKey,
        current.signingPublicKey,
        'new account JWT',
      );
      const next: IdentityMaterial = { ...this.material, account: { ...current, jwt } };
      await writeSecretFile(this.file, serialize(next));
      this.material = next;
      if (publish) await publish(jwt);
      return next.account;
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new IdentityError('EIO', `${file}: ${(e as Error).message}`);
  }
}

function serialize(m: IdentityMaterial): string {
  const s: StoredIdentity = {
    version: FORMAT_VERSION,
    operator: { name: m.operator.name, seed: m.operator.seed, jwt: m.operator.jwt },
    account: { name: m.account.name, seed: m.account.seed, signingSeed: m.account.signingSeed, jwt: m.account.jwt },
    system: {
      name: m.system.name,
      seed: m.system.seed,
      jwt: m.system.jwt,
      user: {
        seed: m.system.user.seed,
        jwt: m.system.user.jwt,
        creds: m.system.user.creds,
        inboxPrefix: m.system.user.inboxPrefix,
      },
    },
  };
  return JSON.stringify(s, null, 2) + '\n';
}

/** The account JWT names this account, is issued by this operator, and lists this signing key. */
function checkAccountJwt(jwt: string, account: string, operator: string, signingKey: string, what: string): void {
  const c = claimsOf<Account>(jwt, what);
  if (c.sub !== account) throw new IdentityError('EIO', `${what}: subject ${c.sub} is not the account's ${account}`);
  if (c.iss !== operator)
    throw new IdentityError('EIO', `${what}: issued by ${c.iss}, expected the operator ${operator}`);
  const keys = (c.nats.signing_keys ?? []).map((k) => (typeof k === 'string' ? k : k.key));
  if (!keys.includes(signingKey)) throw new IdentityError('EIO', `${what}: does not list signing key ${signingKey}`);
}

/**
 * Parses and cross-checks the file: each JWT's subject is the public key of the seed stored with it, and
 * each is issued by the key above it (operator -> accounts -> system user).
 */
function parse(text: string, file: string): IdentityMaterial {
  let s: StoredIdentity;
  try {
    s = JSON.parse(text) as StoredIdentity;
  } catch (e) {
    throw new IdentityError('EIO', `${file}: not valid JSON (${(e as Error).message})`);
  }
  if (s?.version !== FORMAT_VERSION)
    throw new IdentityError('EIO', `${file}: format version ${String(s?.version)}, expected ${FORMAT_VERSION}`);
  try {
    const op = claimsOf(s.operator?.jwt, `${file}: operator.jwt`);
    signerOf(s.operator.seed, `${file}: operator.seed`, 'SO', op.sub);
    if (op.iss !== op.sub) throw new IdentityError('EIO', `${file}: operator.jwt is not self-signed`);
    const acc = claimsOf<Account>(s.account?.jwt, `${file}: account.jwt`);
    signerOf(s.account.seed, `${file}: account.seed`, 'SA', acc.sub);
    const signingKeys = (acc.nats.signing_keys ?? []).map((k) => (typeof k === 'string' ? k : k.key));
    const signingPublicKey = signingKeys.find((k) => {
      try {
        signerOf(s.account.signingSeed, 'account.signingSeed', 'SA', k);
        return true;
      } catch {
        return false;
      }
    });
    if (signingPublicKey === undefined)
      throw new IdentityError('EIO', `${file}: account.signingSeed is not one of the account JWT's signing keys`);
    checkAccountJwt(s.account.jwt, acc.sub, op.sub, signingPublicKey, `${file}: account.jwt`);
    const sys = claimsOf(s.system?.jwt, `${file}: system.jwt`);
    signerOf(s.system.seed, `${file}: system.seed`, 'SA', sys.sub);
    if (sys.iss !== op.sub) throw new IdentityError('EIO', `${file}: system.jwt is not issued by the operator`);
    const user = claimsOf(s.system.user?.jwt, `${file}: system.user.jwt`);
    signerOf(s.system.user.seed, `${file}: system.user.seed`, 'SU', user.sub);
    if (user.iss !== sys.sub)
      throw new IdentityError('EIO', `${file}: system.user.jwt is not issued by the system account`);
    return {
      operator: { name: s.operator.name, seed: s.operator.seed, publicKey: op.sub, jwt: s.operator.jwt },
      account: {
        name: s.account.name,
        seed: s.account.seed,
        publicKey: acc.sub,
        signingSeed: s.account.signingSeed,
        signingPublicKey,
        jwt: s.account.jwt,
      },
      system: {
        name: s.system.name,
        seed: s.system.seed,
        publicKey: sys.sub,
        jwt: s.system.jwt,
        user: { ...s.system.user, publicKey: user.sub },
      },
    };
  } catch (e) {
    if (e instanceof IdentityError) throw new IdentityError('EIO', e.message);
    throw new IdentityError('EIO', `${file}: ${(e as Error).message}`);
  }
}

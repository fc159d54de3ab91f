// Which user key each domain incarnation logs in with, kept on disk by whoever minted it, so that a restarted
// minter can still revoke it: the hypervisor for the domains it creates, the launcher for dom0 and itself.
// Public keys only (no seed), yet a 0600 file in the 0700 identity directory, replaced atomically and
// synced like every file there. One writer per file; a damaged file is refused (EIO), never started afresh
// (an empty table would forget keys that must still be revoked).
import { readFile } from 'node:fs/promises';
import { DOMID, isDomId, type DomId } from '@dominion/abi';
import { IdentityError } from './errors.js';
import { checkUserPublicKey } from './keys.js';
import { isDomainRole, type DomainRole } from './roles.js';
import { writeSecretFile } from './secret-file.js';

/** The hypervisor's table (domains it created), in the identity directory. */
export const DOMAIN_KEYS_FILE = 'domain-keys.json';
/** The launcher's table (dom0 and the hypervisor, minted afresh at every start), in the identity directory. */
export const LAUNCHED_KEYS_FILE = 'launched-keys.json';

const FORMAT_VERSION = 1;

/** A domain's id, or DOMID_XEN (the hypervisor's own user, in the launcher's table). */
const isPrincipal = (d: number): boolean => isDomId(d) || d === DOMID.DOMID_XEN;

export interface UserKeyEntry {
  /** The user's public nkey (`U…`): what revocation names and ring proofs are checked against. */
  key: string;
  role: DomainRole;
}

interface StoredTable {
  version: number;
  users: Record<string, UserKeyEntry>;
}

export class UserKeyTable {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly file: string,
    private readonly users: Map<DomId, UserKeyEntry>,
  ) {}

  /** Loads `file` (an absent file is an empty table; nothing is written until the first change). */
  static async open(file: string): Promise<UserKeyTable> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new UserKeyTable(file, new Map());
      throw new IdentityError('EIO', `${file}: ${(e as Error).message}`);
    }
    return new UserKeyTable(file, parseTable(text, file));
  }

  get(domid: DomId): UserKeyEntry | undefined {
    return this.users.get(domid);
  }

  entries(): Array<[DomId, UserKeyEntry]> {
    return [...this.users.entries()].sort((a, b) => a[0] - b[0]);
  }

  get size(): number {
    return this.users.size;
  }

  /** Records (or replaces) `domid`'s key; resolves once the file is durable. */
  async set(domid: DomId, entry: UserKeyEntry): Promise<void> {
    if (!isPrincipal(domid)) throw new IdentityError('EINVAL', `${this.file}: ${domid} is not a domid`);
    checkUserPublicKey(entry.key);
    if (!isDomainRole(entry.role)) throw new IdentityError('EINVAL', `${this.file}: role ${String(entry.role)}`);
    return this.change((m) => m.set(domid, { key: entry.key, role: entry.role }));
  }

  /** Forgets these domains' keys (after their revocation); resolves once the file is durable. */
  delete(...domids: DomId[]): Promise<void> {
    return this.change((m) => {
      for (const d of domids) m.delete(d);
    });
  }

  /** Changes are applied to a copy, persisted, then made visible: in order, one at a time. */
  private change(f: (m: Map<DomId, UserKeyEntry>) => void): Promise<void> {
    const run = async (): Promise<void> => {
      const next = new Map(this.users);
      f(next);
      await writeSecretFile(this.file, serialize(next));
      this.users.clear();
      for (const [k, v] of next) this.users.set(k, v);
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }
}

function serialize(m: Map<DomId, UserKeyEntry>): string {
  const users: Record<string, UserKeyEntry> = {};
  for (const [d, e] of [...m.entries()].sort((a, b) => a[0] - b[0])) users[String(d)] = e;
  return JSON.stringify({ version: FORMAT_VERSION, users } satisfies StoredTable, null, 2) + '\n';
}

function parseTable(text: string, file: string): Map<DomId, UserKeyEntry> {
  let s: StoredTable;
  try {
    s = JSON.parse(text) as StoredTable;
  } catch (e) {
    throw new IdentityError('EIO', `${file}: not valid JSON (${(e as Error).message})`);
  }
  if (s?.version !== FORMAT_VERSION)
    throw new IdentityError('EIO', `${file}: format version ${String(s?.version)}, expected ${FORMAT_VERSION}`);
  if (typeof s.users !== 'object' || s.users === null || Array.isArray(s.users))
    throw new IdentityError('EIO', `${file}: "users" is not an object`);
  const m = new Map<DomId, UserKeyEntry>();
  for (const [k, e] of Object.entries(s.users)) {
    const domid = /^(0|[1-9][0-9]{0,4})$/.test(k) ? Number(k) : NaN;
    if (!isPrincipal(domid)) throw new IdentityError('EIO', `${file}: entry ${JSON.stringify(k)} is not a domid`);
    if (!isDomainRole(e?.role)) throw new IdentityError('EIO', `${file}: domain ${k}: role ${String(e?.role)}`);
    try {
      checkUserPublicKey(e.key);
    } catch (err) {
      throw new IdentityError('EIO', `${file}: domain ${k}: ${(err as Error).message}`);
    }
    m.set(domid, { key: e.key, role: e.role });
  }
  return m;
}

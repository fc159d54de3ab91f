// The bus's identity at start (issue 3): the identity store in `<home>/identity` (generated on first start),
// the nats-server configuration of operator mode with its full resolver, and the credentials of the two
// domains the launcher starts itself. Only the hypervisor is given the store (DOMINION_IDENTITY_DIR): it
// holds the account signing key, which mints every other domain's credentials, and the system user, which
// pushes revocations. dom0 gets its own user's .creds file and nothing more.
//
// dom0 and the hypervisor get fresh users at every start. The previous start's users are revoked first, in
// the store only (nats-server is not running yet): the configuration written next preloads that account
// JWT, so old .creds files, wherever they were copied, stop working with this start.
import { join } from 'node:path';
import { DOMID } from '@dominion/abi';
import {
  DOMAIN_KEYS_FILE,
  LAUNCHED_KEYS_FILE,
  UserKeyTable,
  credentialsEnv,
  ensurePrivateDir,
  IdentityStore,
  mintDomainUser,
  revokeUserOffline,
  writeCredsFile,
  writeNatsServerConfig,
  type DomainRole,
} from '@dominion/identity';

export interface BusIdentity {
  /** The file to pass to `nats-server -c`. */
  configFile: string;
  /** The identity directory (the store and the key tables). */
  identityDir: string;
  /** Extra environment per service name (credentials; the store for the hypervisor). */
  env: Record<string, Record<string, string>>;
}

export async function prepareBusIdentity(home: string, port: number): Promise<BusIdentity> {
  const identityDir = join(home, 'identity');
  const store = await IdentityStore.open(identityDir);
  const launched = await UserKeyTable.open(join(identityDir, LAUNCHED_KEYS_FILE));
  const previous = launched.entries().map(([, e]) => e.key);
  if (previous.length > 0) await revokeUserOffline(store, previous);
  const natsDir = join(home, 'nats');
  await ensurePrivateDir(natsDir);
  const configFile = join(natsDir, 'nats-server.conf');
  await writeNatsServerConfig(store, configFile, { port, resolverDir: join(natsDir, 'resolver') });
  const credsDir = join(home, 'creds');
  await ensurePrivateDir(credsDir);
  // Recorded before the .creds file exists, so that a crash in between never leaves a key nobody revokes.
  const mint = async (name: string, domid: number, role: DomainRole): Promise<Record<string, string>> => {
    const u = await mintDomainUser(store.account, domid, role);
    await launched.set(domid, { key: u.userPublicKey, role });
    const file = join(credsDir, `${name}.creds`);
    await writeCredsFile(file, u.creds);
    return credentialsEnv(file, u.inboxPrefix);
  };
  return {
    configFile,
    identityDir,
    env: {
      xen: { ...(await mint('xen', DOMID.DOMID_XEN, 'hypervisor')), DOMINION_IDENTITY_DIR: identityDir },
      dom0: await mint('dom0', 0, 'control'),
    },
  };
}

/** The domain a user key belongs to, from the hypervisor's and the launcher's tables (for the log). */
export async function domainOfUserKey(identityDir: string, key: string): Promise<number | undefined> {
  for (const file of [DOMAIN_KEYS_FILE, LAUNCHED_KEYS_FILE]) {
    try {
      const hit = (await UserKeyTable.open(join(identityDir, file))).entries().find(([, e]) => e.key === key);
      if (hit) return hit[0];
    } catch {
      /* a damaged table only costs the log its domid */
    }
  }
  return undefined;
}

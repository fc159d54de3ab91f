// The bus's identity at start (issue 3): the identity store in `<home>/identity` (generated on first start),
// the nats-server configuration of operator mode with its full resolver, and the credentials of the two
// domains the launcher starts itself. Only the hypervisor is given the store (DOMINION_IDENTITY_DIR): it
// holds the account signing key, which mints every other domain's credentials, and the system user, which
// pushes revocations. dom0 gets its own user's .creds file and nothing more.
import { join } from 'node:path';
import { DOMID } from '@dominion/abi';
import {
  credentialsEnv,
  ensurePrivateDir,
  IdentityStore,
  mintDomainUser,
  writeCredsFile,
  writeNatsServerConfig,
  type DomainRole,
} from '@dominion/identity';

export interface BusIdentity {
  /** The file to pass to `nats-server -c`. */
  configFile: string;
  /** Extra environment per service name (credentials; the store for the hypervisor). */
  env: Record<string, Record<string, string>>;
}

export async function prepareBusIdentity(home: string, port: number): Promise<BusIdentity> {
  const identityDir = join(home, 'identity');
  const store = await IdentityStore.open(identityDir);
  const natsDir = join(home, 'nats');
  await ensurePrivateDir(natsDir);
  const configFile = join(natsDir, 'nats-server.conf');
  await writeNatsServerConfig(store, configFile, { port, resolverDir: join(natsDir, 'resolver') });
  const credsDir = join(home, 'creds');
  await ensurePrivateDir(credsDir);
  // A fresh user per start: revocation is per key, and nothing needs last start's keys.
  const mint = async (name: string, domid: number, role: DomainRole): Promise<Record<string, string>> => {
    const u = await mintDomainUser(store.account, domid, role);
    const file = join(credsDir, `${name}.creds`);
    await writeCredsFile(file, u.creds);
    return credentialsEnv(file, u.inboxPrefix);
  };
  return {
    configFile,
    env: {
      xen: { ...(await mint('xen', DOMID.DOMID_XEN, 'hypervisor')), DOMINION_IDENTITY_DIR: identityDir },
      dom0: await mint('dom0', 0, 'control'),
    },
  };
}

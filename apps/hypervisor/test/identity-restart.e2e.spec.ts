// A restarted hypervisor and the keys it handed out before (issue 3): the domid -> user key map is on disk
// (0600, in the identity directory), and since the domain table is not, a new incarnation revokes every
// user of the domains it does not know before it serves a hypercall: their domids are handed out again, and
// the old holder of a domid must not act as its new owner.
import 'reflect-metadata';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { DOMID } from '@dominion/abi';
import { HypervisorClient } from '@dominion/hypervisor';
import {
  DOMAIN_KEYS_FILE,
  IdentityStore,
  credentialsEnv,
  mintDomainUser,
  writeCredsFile,
  writeNatsServerConfig,
} from '@dominion/identity';
import { freePort, startNatsServer, tempDir, waitFor, type NatsServerHandle } from '@dominion/testing';
import { HypervisorModule } from '../src/hypervisor.module.js';

type Created = { domid: number; credentials?: { creds: string; inbox_prefix: string } };

describe('hypervisor restart with identity', () => {
  const tmp = tempDir('hv-restart-');
  const identityDir = join(tmp.path, 'identity');
  let srv: NatsServerHandle;
  let env: Record<string, string>;
  let app: INestApplicationContext | undefined;
  const conns: NatsConnection[] = [];

  const login = async (creds: string, inboxPrefix: string, reconnect = true): Promise<NatsConnection> => {
    const nc = await connect({
      servers: srv.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
      inboxPrefix,
      reconnect,
      reconnectTimeWait: 100,
    });
    conns.push(nc);
    return nc;
  };
  const startHypervisor = async (): Promise<void> => {
    const mod = await Test.createTestingModule({ imports: [HypervisorModule.forRoot({ env })] }).compile();
    app = await mod.init();
  };

  beforeAll(async () => {
    const store = await IdentityStore.open(identityDir);
    const conf = join(tmp.path, 'nats.conf');
    await writeNatsServerConfig(store, conf, { port: await freePort(), resolverDir: join(tmp.path, 'resolver') });
    srv = await startNatsServer({ noDefaultListen: true, args: ['-c', conf] });
    const xen = await mintDomainUser(store.account, DOMID.DOMID_XEN, 'hypervisor');
    await writeCredsFile(join(tmp.path, 'xen.creds'), xen.creds);
    env = {
      DOMINION_NATS_URL: srv.url,
      ...credentialsEnv(join(tmp.path, 'xen.creds'), xen.inboxPrefix),
      DOMINION_IDENTITY_DIR: identityDir,
      DOMINION_LOG_LEVEL: 'silent',
      DOMINION_HV_MEMORY_MIB: '4096',
      DOMINION_HV_DOM0_MEMORY_MIB: '512',
      DOMINION_HV_CPUS: '2',
    };
  });
  afterAll(async () => {
    for (const nc of conns) if (!nc.isClosed()) await nc.close();
    await app?.close();
    await srv?.stop();
    tmp.remove();
  });

  it("cuts off the previous start's domains, whose domids go to new domains with their own credentials", async () => {
    await startHypervisor();
    const store = await IdentityStore.open(identityDir);
    const dom0 = await mintDomainUser(store.account, 0, 'control');
    const hv0 = new HypervisorClient(await login(dom0.creds, dom0.inboxPrefix), 0);
    const old = (await hv0.call('createdomain', { name: 'old', target_memkb: 65536 })) as Created;
    const oldNc = await login(old.credentials?.creds ?? '', old.credentials?.inbox_prefix ?? '');
    await expect(new HypervisorClient(oldNc, old.domid).getDomainInfo()).resolves.toMatchObject({ name: 'old' });

    // The key is on disk before createdomain answers: 0600, in the 0700 identity directory.
    const file = join(identityDir, DOMAIN_KEYS_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const recorded = JSON.parse(await readFile(file, 'utf8')) as { users: Record<string, { key: string }> };
    expect(recorded.users[String(old.domid)]?.key).toBe(await hv0.getDomainKey(old.domid));

    await app?.close();
    app = undefined;
    // The old domain's process stays connected while no hypervisor runs...
    expect(oldNc.isClosed()).toBe(false);
    await startHypervisor();
    // ...and is cut off by the new hypervisor's start, which also refuses its credentials from then on.
    await waitFor(() => oldNc.isClosed(), 2000, "the previous start's domain to be cut off");
    await expect(login(old.credentials?.creds ?? '', old.credentials?.inbox_prefix ?? '', false)).rejects.toThrow(
      /authorization/i,
    );
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ version: 1, users: {} });

    // The same domid is handed out again: the new domain's credentials work where the old ones are refused.
    const fresh = (await hv0.call('createdomain', { name: 'fresh', target_memkb: 65536 })) as Created;
    expect(fresh.domid).toBe(old.domid);
    const freshNc = await login(fresh.credentials?.creds ?? '', fresh.credentials?.inbox_prefix ?? '');
    await expect(new HypervisorClient(freshNc, fresh.domid).getDomainInfo()).resolves.toMatchObject({ name: 'fresh' });

    // And a domain created by this start is revoked at destroy by it.
    await hv0.destroyDomain(fresh.domid);
    await waitFor(() => freshNc.isClosed(), 2000, 'the destroyed domain to be cut off');
  });
});

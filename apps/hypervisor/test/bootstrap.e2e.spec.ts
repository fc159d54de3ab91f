// The bootstrap exchange (issue 3, ARCHITECTURE §1), hypervisor and identity side, on a real nats-server in
// operator mode. A service started outside dom0's launcher holds only the shared bootstrap user and its
// one-time secret; it makes its own user key and presents name + secret + public key on `xen.bootstrap`.
// dom0's part is played here by a small responder (redeem the secret, createdomain with `user_key`, answer
// the JWT): the hypervisor issues the JWT for the service's key, so no seed ever travels.
import 'reflect-metadata';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { createUser } from '@nats-io/nkeys';
import { DOMID } from '@dominion/abi';
import { messageOf } from '@dominion/bus';
import { HypervisorClient } from '@dominion/hypervisor';
import {
  BOOTSTRAP_INBOX_PREFIX,
  BOOTSTRAP_SUBJECT,
  BootstrapRegistry,
  IdentityError,
  IdentityStore,
  bootstrapKey,
  credentialsEnv,
  credsFromBootstrapReply,
  credsText,
  mintBootstrapUser,
  mintDomainUser,
  parseBootstrapRequest,
  writeCredsFile,
  writeNatsServerConfig,
  type BootstrapReply,
  type BootstrapUser,
} from '@dominion/identity';
import { freePort, startNatsServer, tempDir, waitFor, type NatsServerHandle } from '@dominion/testing';
import { HypervisorModule } from '../src/hypervisor.module.js';

type Answer = BootstrapReply | { error: string; message: string };

describe('bootstrap exchange', () => {
  const tmp = tempDir('hv-bootstrap-');
  const registryFile = join(tmp.path, 'dom0', 'bootstrap-secrets.json');
  let srv: NatsServerHandle;
  let app: INestApplicationContext;
  let registry: BootstrapRegistry;
  let bootUser: BootstrapUser;
  let hv0: HypervisorClient;
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
  /** The service's side: one request as the bootstrap user. */
  const present = async (body: unknown): Promise<Answer> => {
    const boot = await login(bootUser.creds, bootUser.inboxPrefix, false);
    try {
      return JSON.parse(
        (await boot.request(BOOTSTRAP_SUBJECT, JSON.stringify(body), { timeout: 3000 })).string(),
      ) as Answer;
    } finally {
      await boot.close();
    }
  };

  beforeAll(async () => {
    const identityDir = join(tmp.path, 'identity');
    const store = await IdentityStore.open(identityDir);
    const conf = join(tmp.path, 'nats.conf');
    await writeNatsServerConfig(store, conf, { port: await freePort(), resolverDir: join(tmp.path, 'resolver') });
    srv = await startNatsServer({ noDefaultListen: true, args: ['-c', conf] });
    const xen = await mintDomainUser(store.account, DOMID.DOMID_XEN, 'hypervisor');
    await writeCredsFile(join(tmp.path, 'xen.creds'), xen.creds);
    const mod = await Test.createTestingModule({
      imports: [
        HypervisorModule.forRoot({
          env: {
            DOMINION_NATS_URL: srv.url,
            ...credentialsEnv(join(tmp.path, 'xen.creds'), xen.inboxPrefix),
            DOMINION_IDENTITY_DIR: identityDir,
            DOMINION_LOG_LEVEL: 'silent',
            DOMINION_HV_MEMORY_MIB: '4096',
            DOMINION_HV_DOM0_MEMORY_MIB: '512',
            DOMINION_HV_CPUS: '2',
          },
        }),
      ],
    }).compile();
    app = await mod.init();
    bootUser = await mintBootstrapUser(store.account);

    // dom0's part (to be built in apps/dom0): redeem, create with the presented key, answer the JWT.
    await mkdir(join(tmp.path, 'dom0'), { recursive: true, mode: 0o700 });
    registry = await BootstrapRegistry.open(registryFile);
    const dom0 = await mintDomainUser(store.account, 0, 'control');
    const dom0nc = await login(dom0.creds, dom0.inboxPrefix);
    hv0 = new HypervisorClient(dom0nc, 0);
    dom0nc.subscribe(BOOTSTRAP_SUBJECT, {
      callback: (_e, m) => {
        if (!m.reply?.startsWith(`${BOOTSTRAP_INBOX_PREFIX}.`)) return;
        void (async () => {
          try {
            const req = parseBootstrapRequest(JSON.parse(m.string()));
            await registry.redeem(req.name, req.secret);
            const r = (await hv0.call('createdomain', {
              name: req.name,
              target_memkb: 65536,
              user_key: req.user_key,
            })) as { domid: number; credentials: { jwt: string; inbox_prefix: string } };
            m.respond(JSON.stringify({ domid: r.domid, ...r.credentials } satisfies BootstrapReply));
          } catch (e) {
            const kind = (e as { kind?: string }).kind ?? 'EIO';
            m.respond(JSON.stringify({ error: kind, message: messageOf(e) }));
          }
        })();
      },
    });
    await dom0nc.flush();
  });
  afterAll(async () => {
    for (const nc of conns) if (!nc.isClosed()) await nc.close();
    await app?.close();
    await srv?.stop();
    tmp.remove();
  });

  it('exchanges name + one-time secret + its own public key for its domid and a JWT for that key', async () => {
    const secret = await registry.issue('svc');
    const { seed, request } = bootstrapKey('svc', secret);
    // Another bootstrapping service reading every bootstrap answer.
    const snooper = await login(bootUser.creds, bootUser.inboxPrefix);
    const snooped: string[] = [];
    snooper.subscribe(`${BOOTSTRAP_INBOX_PREFIX}.>`, {
      callback: (_e, m) => {
        snooped.push(m.string());
      },
    });
    await snooper.flush();

    const reply = (await present(request)) as BootstrapReply;
    expect(reply).toMatchObject({ inbox_prefix: `_INBOX.dom${reply.domid}` });
    const nc = await login(credsFromBootstrapReply(reply, seed), reply.inbox_prefix);
    const me = new HypervisorClient(nc, reply.domid);
    await expect(me.getDomainInfo()).resolves.toMatchObject({ domid: reply.domid, name: 'svc' });
    expect(await me.getDomainKey(reply.domid)).toBe(request.user_key);

    // The snooper saw the answer, and it is worthless without the service's seed.
    await waitFor(() => snooped.length === 1, 2000, 'the snooped answer');
    const stolen = JSON.parse(snooped[0]) as BootstrapReply;
    expect(stolen.jwt).toBe(reply.jwt);
    expect(() => credsFromBootstrapReply(stolen, bootstrapKey('x', 'y').seed)).toThrow(
      expect.objectContaining({ kind: 'EACCES' }),
    );
    const forged = credsText(stolen.jwt, createUser());
    await expect(login(forged, stolen.inbox_prefix, false)).rejects.toThrow(/authorization/i);

    // Destroying the domain revokes the service's key like any other.
    await hv0.destroyDomain(reply.domid);
    await waitFor(() => nc.isClosed(), 2000, 'the destroyed domain to be cut off');
  });

  it('refuses a used, wrong or unknown secret (EACCES), also after dom0 reloads its registry', async () => {
    const secret = await registry.issue('once');
    const first = await present(bootstrapKey('once', secret).request);
    expect(first).toMatchObject({ domid: expect.any(Number) });
    expect(await present(bootstrapKey('once', secret).request)).toMatchObject({
      error: 'EACCES',
      message: 'bootstrap: the secret for domain once was already used',
    });
    const other = await registry.issue('other');
    expect(await present(bootstrapKey('other', `${other}x`).request)).toMatchObject({
      error: 'EACCES',
      message: 'bootstrap: wrong secret for domain other',
    });
    expect(await present(bootstrapKey('nobody', other).request)).toMatchObject({
      error: 'EACCES',
      message: 'bootstrap: no secret was issued for domain nobody',
    });
    // The right secret still works after the wrong attempt.
    expect(await present(bootstrapKey('other', other).request)).toMatchObject({ domid: expect.any(Number) });
    const reloaded = await BootstrapRegistry.open(registryFile);
    await expect(reloaded.redeem('once', secret)).rejects.toMatchObject({ kind: 'EACCES' });
    expect(reloaded.pending('other')).toBe(false);
  });

  it('refuses a key already given to a domain, or not a user key (EINVAL); the bootstrap user can do nothing else', async () => {
    const secret = await registry.issue('dup-a');
    const a = bootstrapKey('dup-a', secret);
    expect(await present(a.request)).toMatchObject({ domid: expect.any(Number) });
    const secretB = await registry.issue('dup-b');
    expect(await present({ ...a.request, name: 'dup-b', secret: secretB })).toMatchObject({
      error: 'EINVAL',
      message: expect.stringContaining('was already given to a domain'),
    });
    expect(await present({ name: 'dup-b', secret: secretB, user_key: 'UNOTAKEY' })).toMatchObject({
      error: 'EINVAL',
      message: expect.stringContaining('user_key'),
    });
    expect(() => parseBootstrapRequest({ name: 'x', secret: 'y', user_key: a.request.user_key, extra: 1 })).toThrow(
      IdentityError,
    );
    await expect(
      hv0.call('createdomain', { name: 'dup-c', target_memkb: 65536, user_key: 'UNOTAKEY' }),
    ).rejects.toMatchObject({
      kind: 'EINVAL',
      message: expect.stringContaining('user_key "UNOTAKEY" is not a NATS user public key'),
    });
    // The domain named in the refused exchange was not left behind.
    expect((await hv0.listDomains()).map((d) => d.name)).not.toContain('dup-b');
    expect((await hv0.listDomains()).map((d) => d.name)).not.toContain('dup-c');

    // The bootstrap user: its request is answered (above); a hypercall is refused by the server.
    const boot = await login(bootUser.creds, bootUser.inboxPrefix, false);
    await expect(new HypervisorClient(boot, 1).getDomainInfo()).rejects.toMatchObject({ kind: 'EACCES' });
    await boot.close();
  });
});

// The hypervisor service with identity (issue 3), in-process on a real nats-server in operator mode: it mints
// each new domain's credentials in createdomain's reply and revokes them in destroydomain, but not when a
// domain merely crashes (the toolstack decides what a crash means).
import 'reflect-metadata';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { DOMID, SHUTDOWN } from '@dominion/abi';
import { subjects } from '@dominion/bus';
import { HypervisorClient } from '@dominion/hypervisor';
import {
  IdentityStore,
  LAUNCHED_KEYS_FILE,
  UserKeyTable,
  credentialsEnv,
  issueRingChallenge,
  seedOfCreds,
  signRingChallenge,
  verifyRingProof,
  mintDomainUser,
  writeCredsFile,
  writeNatsServerConfig,
  type MintedUser,
} from '@dominion/identity';
import { freePort, startNatsServer, tempDir, waitFor, type NatsServerHandle } from '@dominion/testing';
import { HypervisorModule } from '../src/hypervisor.module.js';

type Created = { domid: number; credentials?: { creds: string; inbox_prefix: string } };

/** The claims of a user JWT inside a .creds text (the test reads them; the server verifies them). */
function claimsOf(creds: string): { sub: string; nats: { tags?: string[] } } {
  const jwt = /-----BEGIN NATS USER JWT-----\s*\n\s*(\S+)\s*\n/.exec(creds)?.[1] ?? '';
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    sub: string;
    nats: { tags?: string[] };
  };
}
const tagsOf = (creds: string): string[] => claimsOf(creds).nats.tags ?? [];

describe('hypervisor service with identity', () => {
  const tmp = tempDir('hv-identity-');
  let srv: NatsServerHandle;
  let app: INestApplicationContext;
  const conns: NatsConnection[] = [];
  let hv0: HypervisorClient;
  let dom0Creds: MintedUser;

  const login = async (creds: string, inboxPrefix: string): Promise<NatsConnection> => {
    const nc = await connect({
      servers: srv.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
      inboxPrefix,
      reconnectTimeWait: 100,
    });
    conns.push(nc);
    return nc;
  };

  beforeAll(async () => {
    const identityDir = join(tmp.path, 'identity');
    const store = await IdentityStore.open(identityDir);
    const conf = join(tmp.path, 'nats.conf');
    await writeNatsServerConfig(store, conf, { port: await freePort(), resolverDir: join(tmp.path, 'resolver') });
    srv = await startNatsServer({ noDefaultListen: true, args: ['-c', conf] });
    const xen = await mintDomainUser(store.account, DOMID.DOMID_XEN, 'hypervisor');
    await writeCredsFile(join(tmp.path, 'xen.creds'), xen.creds);
    // dom0's user is the launcher's; the hypervisor learns its key from the launcher's table.
    dom0Creds = await mintDomainUser(store.account, 0, 'control');
    await (
      await UserKeyTable.open(join(identityDir, LAUNCHED_KEYS_FILE))
    ).set(0, { key: dom0Creds.userPublicKey, role: 'control' });
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
    hv0 = new HypervisorClient(await login(dom0Creds.creds, dom0Creds.inboxPrefix), 0);
  });
  afterAll(async () => {
    for (const nc of conns) if (!nc.isClosed()) await nc.close();
    await app?.close();
    await srv?.stop();
    tmp.remove();
  });

  it("mints a driver domain's role for driver_domain=1 and a guest's otherwise", async () => {
    const drv = (await hv0.call('createdomain', { name: 'drv', target_memkb: 65536, driver_domain: true })) as Created;
    const gst = (await hv0.call('createdomain', { name: 'gst', target_memkb: 65536 })) as Created;
    expect(tagsOf(drv.credentials?.creds ?? '')).toEqual([`domid:${drv.domid}`, 'role:driver']);
    expect(tagsOf(gst.credentials?.creds ?? '')).toEqual([`domid:${gst.domid}`, 'role:guest']);
    expect(gst.credentials?.inbox_prefix).toBe(`_INBOX.dom${gst.domid}`);
  });

  it('keeps a crashed domain connected, and cuts it off when it is destroyed', async () => {
    const d = (await hv0.call('createdomain', { name: 'crashy', target_memkb: 65536 })) as Created;
    const nc = await login(d.credentials?.creds ?? '', d.credentials?.inbox_prefix ?? '');
    const me = new HypervisorClient(nc, d.domid);
    await hv0.call('reportexit', { domid: d.domid, code: 1 });
    // Crashed, yet still itself on the bus: the toolstack has not decided to destroy it.
    expect(await me.getDomainInfo()).toMatchObject({ shutdown: true, shutdown_code: SHUTDOWN.SHUTDOWN_crash });
    await hv0.destroyDomain(d.domid);
    await waitFor(() => nc.isClosed(), 2000, 'the destroyed domain to be disconnected');
    await expect(
      connect({
        servers: srv.url,
        authenticator: credsAuthenticator(new TextEncoder().encode(d.credentials?.creds ?? '')),
        inboxPrefix: d.credentials?.inbox_prefix,
        reconnect: false,
      }),
    ).rejects.toThrow(/authorization/i);
  });

  it("answers a hypercall only into the caller's inbox", async () => {
    const d = (await hv0.call('createdomain', { name: 'inbox', target_memkb: 65536 })) as Created;
    const nc = await login(d.credentials?.creds ?? '', d.credentials?.inbox_prefix ?? '');
    await expect(new HypervisorClient(nc, d.domid).getDomainInfo()).resolves.toMatchObject({ domid: d.domid });
    // The hypervisor may publish into every inbox; a guest naming dom0's inbox as its reply subject would
    // make it a deputy. That request is dropped unanswered, beside the same call answered into its own inbox.
    const seen: string[] = [];
    const watcher = await login(dom0Creds.creds, dom0Creds.inboxPrefix);
    watcher.subscribe('_INBOX.dom0.>', {
      callback: (_e, m) => {
        seen.push(m.subject);
      },
    });
    await watcher.flush();
    nc.publish(subjects.hv(d.domid, 'getdomaininfo'), '{}', { reply: '_INBOX.dom0.stolen' });
    await expect(new HypervisorClient(nc, d.domid).getDomainInfo()).resolves.toMatchObject({ domid: d.domid });
    await watcher.flush();
    expect(seen).toEqual([]);
  });

  it("getdomainkey: any domain reads another domain's user key, which verifies that domain's ring proof", async () => {
    const fe = (await hv0.call('createdomain', { name: 'fe', target_memkb: 65536 })) as Created;
    const be = (await hv0.call('createdomain', { name: 'be', target_memkb: 65536, driver_domain: true })) as Created;
    const beHv = new HypervisorClient(
      await login(be.credentials?.creds ?? '', be.credentials?.inbox_prefix ?? ''),
      be.domid,
    );
    const feCreds = fe.credentials?.creds ?? '';
    const feKey = await beHv.getDomainKey(fe.domid);
    expect(feKey).toBe(claimsOf(feCreds).sub);
    expect(await beHv.getDomainKey(be.domid)).toBe(claimsOf(be.credentials?.creds ?? '').sub);
    expect(await beHv.getDomainKey(0)).toBe(dom0Creds.userPublicKey);

    // What a backend does with it: the frontend's proof verifies against the key, another domain's does not.
    const bind = {
      backend: be.domid,
      device: `/local/domain/${be.domid}/backend/vbd/${fe.domid}/51712`,
      ringRef: 8,
      frontendDomid: fe.domid,
    };
    const ch = issueRingChallenge(bind);
    verifyRingProof(ch, signRingChallenge(ch, seedOfCreds(feCreds), bind), feKey, bind);
    const forged = signRingChallenge(ch, seedOfCreds(be.credentials?.creds ?? ''), bind);
    expect(() => verifyRingProof(ch, forged, feKey, bind)).toThrow(expect.objectContaining({ kind: 'EACCES' }));

    // Unknown and destroyed domids are ESRCH, over the bus as for any hypercall.
    await expect(beHv.getDomainKey(31000)).rejects.toMatchObject({ kind: 'ESRCH' });
    await hv0.destroyDomain(fe.domid);
    await expect(beHv.getDomainKey(fe.domid)).rejects.toMatchObject({
      kind: 'ESRCH',
      message: expect.stringContaining(`domain ${fe.domid} does not exist`),
    });
  });
});

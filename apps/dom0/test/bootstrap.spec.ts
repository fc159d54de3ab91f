// dom0's end of the bootstrap exchange against a real hypervisor engine, xenstored and nats-server (no auth
// here: apps/xl's bootstrap e2e runs it in operator mode): only the control domain issues secrets; only
// requests answered into a bootstrap inbox are run; what can be checked is checked before the secret is
// redeemed, so a refused attempt does not burn it; and a dom0 started again adopts the bootstrapped domain
// (its service runs elsewhere) so that a shutdown through the toolstack still reaches it.
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { busRequest, subjects } from '@dominion/bus';
import { Hypervisor, HypervisorClient, serveHypervisor, type HypervisorServer } from '@dominion/hypervisor';
import { BOOTSTRAP_INBOX_PREFIX, BOOTSTRAP_SUBJECT, bootstrapKey, type BootstrapReply } from '@dominion/identity';
import { RuntimeModule } from '@dominion/runtime';
import { startNatsServer, tempDir, waitFor, type NatsServerHandle } from '@dominion/testing';
import { ToolstackModule, XenstoredModule } from '../src/dom0.module.js';

const guestMain = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'guest', 'dist', 'main.js');

interface ToolstackDomain {
  domid: number;
  name: string;
  pid?: number;
}

describe('dom0 bootstrap exchange', () => {
  let srv: NatsServerHandle;
  let nc: NatsConnection;
  let boot: NatsConnection;
  let hvServer: HypervisorServer;
  let dir: ReturnType<typeof tempDir>;
  let app: TestingModule | undefined;
  const children: ChildProcess[] = [];
  const hv0 = (): HypervisorClient => new HypervisorClient(nc, 0);
  const call = <T>(caller: number, verb: string, body: unknown): Promise<T> =>
    busRequest<T>(nc, subjects.toolstack(caller, verb), body, { timeoutMs: 30000 });
  const present = (name: string, secret: string): Promise<BootstrapReply> =>
    busRequest<BootstrapReply>(boot, BOOTSTRAP_SUBJECT, bootstrapKey(name, secret).request, { timeoutMs: 10000 });

  const bootDom0 = async (): Promise<void> => {
    @Module({
      imports: [
        RuntimeModule.forRoot({
          service: 'dom0',
          heartbeat: false,
          env: { DOMINION_NATS_URL: srv.url, DOMINION_STATE_DIR: dir.path, DOMINION_LOG_LEVEL: 'silent' },
        }),
        XenstoredModule,
        ToolstackModule,
      ],
    })
    class M {}
    app = await Test.createTestingModule({ imports: [M] }).compile();
    await app.init();
  };

  beforeAll(async () => {
    srv = await startNatsServer();
    nc = await connect({ servers: srv.url });
    boot = await connect({ servers: srv.url, inboxPrefix: BOOTSTRAP_INBOX_PREFIX });
    const hv = new Hypervisor({ host: { totalMemoryKiB: 4 << 20, nrCpus: 2, dom0MemoryKiB: 1 << 20, dom0Vcpus: 2 } });
    hvServer = serveHypervisor(nc, hv);
    dir = tempDir();
    await bootDom0();
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await app?.close();
    hvServer.close();
    await boot.close();
    await nc.close();
    await srv.stop();
    dir.remove();
  });

  it('issues secrets to the control domain only, and checks the config as create does', async () => {
    const config = 'name = "svc"\nmemory = 16\n';
    await expect(call(5, 'bootstrap-issue', { config, source: 'svc.cfg' })).rejects.toMatchObject({
      kind: 'EPERM',
      message: 'xen.toolstack.5.bootstrap-issue: domain 5 is not the control domain',
    });
    await expect(
      call(0, 'bootstrap-issue', { config: 'name = "svc"\nmemory = = 1\n', source: 'svc.cfg' }),
    ).rejects.toMatchObject({ kind: 'EINVAL', message: expect.stringMatching(/^svc\.cfg:2:10: config parsing error/) });
    await expect(
      call(0, 'bootstrap-issue', { config: 'name = "../etc"\nmemory = 16\n', source: 'x.cfg' }),
    ).rejects.toMatchObject({ kind: 'EINVAL', message: expect.stringContaining('"../etc" is not 1..64 of') });
    const r = await call<{ name: string; secret: string }>(0, 'bootstrap-issue', { config, source: 'svc.cfg' });
    expect(r).toEqual({ name: 'svc', secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
  });

  it('runs only requests answered into a bootstrap inbox, and a refusal before the redeem leaves the secret usable', async () => {
    const { secret } = await call<{ secret: string }>(0, 'bootstrap-issue', {
      config: 'name = "early"\nmemory = 16\n',
      source: 'early.cfg',
    });
    // an answer steered onto another subject: dropped unrun, the secret untouched
    const steered: string[] = [];
    const sub = nc.subscribe('xen.virq.6', {
      callback: (_e, m) => {
        steered.push(m.string());
      },
    });
    nc.publish(BOOTSTRAP_SUBJECT, JSON.stringify(bootstrapKey('early', secret).request), { reply: 'xen.virq.6' });
    await nc.flush();
    // the name is taken (a domain made by a bare createdomain): EEXIST, checked before the secret is spent
    const squatter = await hv0().createDomain({ name: 'early', target_memkb: 16384 });
    await expect(present('early', secret)).rejects.toMatchObject({
      kind: 'EEXIST',
      message: `bootstrap: domain early exists already (domain ${squatter})`,
    });
    await hv0().destroyDomain(squatter);
    // malformed: that request fails alone
    await expect(busRequest(boot, BOOTSTRAP_SUBJECT, { name: 'early' })).rejects.toMatchObject({ kind: 'EINVAL' });
    // the same secret, asked properly, works (no auth here: the reply carries no JWT)
    const reply = await present('early', secret);
    expect(reply).toEqual({ domid: expect.any(Number), jwt: '', inbox_prefix: '' });
    expect(steered).toEqual([]);
    sub.unsubscribe();
    expect((await hv0().getDomainInfo(reply.domid)).name).toBe('early');
    // nothing comes up for it (no service runs here): bounded, then it is destroyed
    await call(0, 'destroy', { domid: reply.domid });
    await expect(present('early', secret)).rejects.toMatchObject({
      kind: 'EACCES',
      message: 'bootstrap: the secret for domain early was already used',
    });
  });

  it('a dom0 started again adopts the bootstrapped domain: listed without a pid, and shut down through it', async () => {
    const { secret } = await call<{ secret: string }>(0, 'bootstrap-issue', {
      config: 'name = "svc"\nmemory = 16\n',
      source: 'svc.cfg',
    });
    const svc = spawn(process.execPath, [guestMain], {
      env: {
        PATH: process.env.PATH ?? '',
        DOMINION_NATS_URL: srv.url,
        DOMINION_BOOTSTRAP_NAME: 'svc',
        DOMINION_BOOTSTRAP_SECRET: secret,
        DOMINION_STATE_DIR: join(dir.path, 'svc-state'),
        DOMINION_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(svc);
    const exited = new Promise<number | null>((r) => svc.once('exit', (code) => r(code)));
    const listed = async (): Promise<ToolstackDomain | undefined> =>
      (await call<{ domains: ToolstackDomain[] }>(0, 'list', {})).domains.find((d) => d.name === 'svc');
    let domid = -1;
    await waitFor(
      async () => {
        const d = (await hv0().listDomains()).find((x) => x.name === 'svc');
        domid = d?.domid ?? -1;
        return d !== undefined && !d.paused;
      },
      20000,
      'svc to be up and unpaused',
    );
    expect(await listed()).toEqual({ domid, name: 'svc', uuid: expect.any(String), preserved: false });

    await app!.close();
    app = undefined;
    // an orderly stop of dom0 leaves a service it did not start alone
    expect(svc.exitCode).toBeNull();
    await bootDom0();
    expect(await listed()).toEqual({ domid, name: 'svc', uuid: expect.any(String), preserved: false });
    await call(0, 'shutdown', { domid, reason: 'poweroff' });
    expect(await exited).toBe(0);
    await expect(hv0().getDomainInfo(domid)).rejects.toMatchObject({ kind: 'ESRCH' });
    expect(await listed()).toBeUndefined();
  }, 60000);
});

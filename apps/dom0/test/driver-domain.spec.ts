// Driver domains through dom0's toolstack API, with the real pieces: a hypervisor engine and xenstored on a
// real nats-server, the built apps/netback as the net driver domain (kernel builtin:netback) and the built
// apps/guest as the guest. A vif names its backend by domain name; when netback is killed, on_crash=restart
// brings it back under a new domid and the toolstack moves the vif's dirs to it; the records on disk follow.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { busRequest, subjects } from '@dominion/bus';
import { Hypervisor, HypervisorClient, serveHypervisor, type HypervisorServer } from '@dominion/hypervisor';
import { RuntimeModule } from '@dominion/runtime';
import { startNatsServer, tempDir, waitFor, type NatsServerHandle } from '@dominion/testing';
import { XenstoreClient } from '@dominion/xenstore';
import { ToolstackModule, XenstoredModule } from '../src/dom0.module.js';

const NETBACK_CFG =
  'name = "netback"\ndriver_domain = 1\nkernel = "builtin:netback"\nmemory = 32\non_crash = "restart"\n';
const MAC = '00:16:3e:00:00:01';
const GUEST_CFG = `name = "g"\nmemory = 16\nvif = [ 'bridge=xenbr0,mac=${MAC}' ]\n`;

describe('driver domains', () => {
  let srv: NatsServerHandle;
  let nc: NatsConnection;
  let hvServer: HypervisorServer;
  let dir: ReturnType<typeof tempDir>;
  let app: TestingModule;
  let xs: XenstoreClient;
  const hv0 = (): HypervisorClient => new HypervisorClient(nc, 0);
  const call = <T = unknown>(verb: string, body: unknown): Promise<T> =>
    busRequest<T>(nc, subjects.toolstack(0, verb), body, { timeoutMs: 30000 });
  const domidOf = async (name: string): Promise<number | undefined> =>
    (await hv0().listDomains()).find((d) => d.name === name)?.domid;

  beforeAll(async () => {
    srv = await startNatsServer();
    nc = await connect({ servers: srv.url });
    const hv = new Hypervisor({ host: { totalMemoryKiB: 4 << 20, nrCpus: 2, dom0MemoryKiB: 1 << 20, dom0Vcpus: 2 } });
    hvServer = serveHypervisor(nc, hv);
    dir = tempDir('dom0-driver-domain-');
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
    xs = new XenstoreClient(nc, { domid: 0 });
  });
  afterAll(async () => {
    await xs.close();
    await app.close();
    hvServer.close();
    await nc.close();
    await srv.stop();
    dir.remove();
  });

  it('refuses a vif whose backend does not exist (ESRCH), creating nothing', async () => {
    await expect(
      call('create', { config: `name = "lost"\nmemory = 16\nvif = [ 'backend=nosuch' ]\n`, source: 'lost.cfg' }),
    ).rejects.toMatchObject({ kind: 'ESRCH', message: 'vif 0: backend domain "nosuch" does not exist' });
    // the default backend (a domain named netback) does not exist yet either
    await expect(call('create', { config: GUEST_CFG, source: 'g.cfg' })).rejects.toMatchObject({ kind: 'ESRCH' });
    await expect(
      call('create', { config: 'name = "x"\nkernel = "builtin:netback"\n', source: 'x.cfg' }),
    ).rejects.toMatchObject({
      kind: 'EINVAL',
      message: 'x.cfg: kernel "builtin:netback" runs a driver domain: it needs driver_domain = 1',
    });
    expect((await hv0().listDomains()).map((d) => d.name)).toEqual(['Domain-0']);
  });

  it("moves a guest's vif to netback's new domid when netback crashes and restarts", async () => {
    const { domid: nb1 } = await call<{ domid: number }>('create', { config: NETBACK_CFG, source: 'netback.cfg' });
    const { domid: g } = await call<{ domid: number }>('create', { config: GUEST_CFG, source: 'g.cfg' });
    const fe = `/local/domain/${g}/device/vif/0`;
    expect(await xs.read(`${fe}/backend`)).toBe(`/local/domain/${nb1}/backend/vif/${g}/0`);
    expect(await xs.read(`${fe}/backend-id`)).toBe(String(nb1));
    expect(await xs.read(`/local/domain/${nb1}/backend/vif/${g}/0/mac`)).toBe(MAC);
    const record = (): { devices: { backend: string; backendDomid: number }[] } =>
      JSON.parse(readFileSync(join(dir.path, 'toolstack', `domain-${g}.json`), 'utf8')) as {
        devices: { backend: string; backendDomid: number }[];
      };
    expect(record().devices).toMatchObject([{ kind: 'vif', backend: 'netback', backendDomid: nb1 }]);

    const { domains } = await call<{ domains: { domid: number; pid?: number }[] }>('list', {});
    const pid = domains.find((d) => d.domid === nb1)!.pid!;
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => ![undefined, nb1].includes(await domidOf('netback')), 20000, 'netback to restart');
    const nb2 = (await domidOf('netback'))!;
    const be = `/local/domain/${nb2}/backend/vif/${g}/0`;
    // moved once the new domain's home is written, before its service starts
    await waitFor(async () => (await xs.read(`${fe}/backend`)) === be, 10000, 'the vif to move');
    expect(await xs.read(`${fe}/backend-id`)).toBe(String(nb2));
    // libxl's keys under the new domid, owned by it and readable by the guest
    expect(await xs.read(`${be}/frontend`)).toBe(fe);
    expect(await xs.read(`${be}/mac`)).toBe(MAC);
    expect(await xs.getPerms(be)).toEqual([
      { domid: nb2, perm: 'n' },
      { domid: g, perm: 'r' },
    ]);
    // the frontend dir and what the guest wrote in it are readable by the new backend
    for (const p of [fe, `${fe}/state`, `${fe}/mac`])
      expect(await xs.getPerms(p)).toEqual([
        { domid: g, perm: 'n' },
        { domid: nb2, perm: 'r' },
      ]);
    expect(await xs.exists(`/local/domain/${nb1}`)).toBe(false);
    expect(record().devices).toMatchObject([{ kind: 'vif', backend: 'netback', backendDomid: nb2 }]);
    // the new netback picks the device up: it runs the handshake from its probe on
    await waitFor(async () => Number(await xs.tryRead(`${be}/state`)) >= 2, 10000, 'the new netback to probe the vif');
  }, 60000);

  it('network-detach removes both dirs once the frontend closes; block-list and network-list read them', async () => {
    const g = (await domidOf('g'))!;
    const nb = (await domidOf('netback'))!;
    await call('block-attach', { domid: g, spec: ['format=raw, vdev=xvdb, backend=netback, target=b.img'] });
    expect(await call('block-list', { domid: g })).toEqual({
      rows: [
        {
          devid: 51728,
          backendDomid: nb,
          frontendDomid: g,
          state: expect.any(Number) as unknown,
          evtch: expect.any(Number) as unknown,
          ringRef: expect.any(Number) as unknown,
          backendPath: `/local/domain/${nb}/backend/vbd/${g}/51728`,
        },
      ],
    });
    await expect(
      call('block-attach', { domid: g, spec: ['vdev=xvdb, backend=netback, target=c.img'] }),
    ).rejects.toMatchObject({ kind: 'EEXIST' });
    await call('block-detach', { domid: g, device: 'xvdb', force: true });
    expect(await call('block-list', { domid: g })).toEqual({ rows: [] });
    expect(await xs.exists(`/local/domain/${nb}/backend/vbd/${g}/51728`)).toBe(false);

    const { rows } = await call<{ rows: { mac: string; backendDomid: number }[] }>('network-list', { domid: g });
    expect(rows).toMatchObject([{ mac: MAC, backendDomid: nb }]);
    // the same request from the guest itself: only the control domain is heard
    await expect(
      busRequest(nc, subjects.toolstack(g, 'network-list'), { domid: g }, { timeoutMs: 5000 }),
    ).rejects.toMatchObject({ kind: 'EPERM' });
    await expect(call('network-detach', { domid: g, device: '00:16:3e:99:99:99' })).rejects.toMatchObject({
      kind: 'ENODEV',
    });
    await call('network-detach', { domid: g, device: MAC });
    expect(await call('network-list', { domid: g })).toEqual({ rows: [] });
    expect(await xs.exists(`/local/domain/${nb}/backend/vif/${g}/0`)).toBe(false);
    expect(await xs.exists(`/local/domain/${g}/device/vif/0`)).toBe(false);
  }, 30000);

  it('a restarted guest keeps the MAC drawn for its vif (00:16:3e, random)', async () => {
    const cfg = `name = "r"\nmemory = 16\non_crash = "restart"\nvif = [ 'bridge=xenbr0' ]\n`;
    const { domid: r1 } = await call<{ domid: number }>('create', { config: cfg, source: 'r.cfg' });
    const mac = (await xs.read(`/local/domain/${r1}/device/vif/0/mac`)) ?? '';
    expect(mac).toMatch(/^00:16:3e:[0-7][0-9a-f](:[0-9a-f]{2}){2}$/);
    const { domains } = await call<{ domains: { domid: number; pid?: number }[] }>('list', {});
    process.kill(domains.find((d) => d.domid === r1)!.pid!, 'SIGKILL');
    await waitFor(async () => ![undefined, r1].includes(await domidOf('r')), 20000, 'r to restart');
    const r2 = (await domidOf('r'))!;
    expect(await xs.read(`/local/domain/${r2}/device/vif/0/mac`)).toBe(mac);
    expect(await xs.exists(`/local/domain/${r1}`)).toBe(false);
    await call('destroy', { domid: r2 });
  }, 30000);
});

// dom0's domain lifecycle against a real hypervisor engine on a real nats-server: dom0's home at boot, and a
// domain destroyed in the hypervisor released from XenStore through VIRQ_DOM_EXC (nodes gone, @releaseDomain).
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Hypervisor, HypervisorClient, serveHypervisor, type HypervisorServer } from '@dominion/hypervisor';
import { RuntimeModule } from '@dominion/runtime';
import { startNatsServer, tempDir, waitFor, type NatsServerHandle } from '@dominion/testing';
import { XenstoreClient } from '@dominion/xenstore';
import { DomainsModule, XenstoredModule } from '../src/dom0.module.js';
import { DomainsService } from '../src/domains.service.js';
import { XenstoredService } from '../src/xenstored.service.js';
import { tool } from './harness.js';

async function bootDom0(natsUrl: string, stateDir: string) {
  @Module({
    imports: [
      RuntimeModule.forRoot({
        service: 'dom0',
        heartbeat: false,
        env: { DOMINION_NATS_URL: natsUrl, DOMINION_STATE_DIR: stateDir, DOMINION_LOG_LEVEL: 'silent' },
      }),
      XenstoredModule,
      DomainsModule,
    ],
  })
  class M {}
  const app = await Test.createTestingModule({ imports: [M] }).compile();
  await app.init();
  return app;
}

describe('dom0 domain lifecycle', () => {
  let srv: NatsServerHandle;
  let nc: NatsConnection;
  let hvServer: HypervisorServer;
  let dir: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    srv = await startNatsServer();
    nc = await connect({ servers: srv.url });
    const hv = new Hypervisor({ host: { totalMemoryKiB: 4 << 20, nrCpus: 2, dom0MemoryKiB: 1 << 20, dom0Vcpus: 2 } });
    hvServer = serveHypervisor(nc, hv);
    dir = tempDir();
  });
  afterAll(async () => {
    hvServer.close();
    await nc.close();
    await srv.stop();
    dir.remove();
  });

  it("writes dom0's home, and releases a destroyed domain's nodes with @releaseDomain — also after a dom0 restart", async () => {
    let app = await bootDom0(srv.url, dir.path);
    const socket = app.get(XenstoredService).socketPath;
    expect((await tool(socket, 'xenstore-read', '/local/domain/0/name')).stdout).toBe('Domain-0\n');
    expect((await tool(socket, 'xenstore-read', '/local/domain/0/domid')).stdout).toBe('0\n');
    await app.get(DomainsService).bound;

    const hv0 = new HypervisorClient(nc, 0);
    const dom0xs = new XenstoreClient(nc, { domid: 0 });
    const released: string[] = [];
    await dom0xs.watch('@releaseDomain', 'rel', (path) => released.push(path));
    await waitFor(() => released.length === 1, 5000, 'the watch to fire once on registration');

    const makeGuest = async (name: string) => {
      const domid = await hv0.createDomain({ name, target_memkb: 65536 });
      await app.get(XenstoredService).xenstored.introduceDomain(domid);
      await dom0xs.mkdir(`/local/domain/${domid}`);
      await dom0xs.setPerms(`/local/domain/${domid}`, [`n${domid}`]);
      const guest = new XenstoreClient(nc, { domid });
      await guest.write(`/local/domain/${domid}/data/hello`, name);
      await guest.close();
      return domid;
    };
    const a = await makeGuest('a');
    const b = await makeGuest('b');
    expect(await dom0xs.read(`/local/domain/${a}/data/hello`)).toBe('a');

    await hv0.destroyDomain(a);
    await waitFor(async () => !(await dom0xs.exists(`/local/domain/${a}`)), 5000, `domain ${a}'s home to go`);
    await waitFor(() => released.length >= 2, 5000, '@releaseDomain');
    // The living domain is untouched.
    expect(await dom0xs.read(`/local/domain/${b}/data/hello`)).toBe('b');
    await dom0xs.close();

    // A restarted dom0 binds VIRQ_DOM_EXC again (its previous incarnation still held it) and keeps releasing.
    await app.close();
    app = await bootDom0(srv.url, dir.path);
    await app.get(DomainsService).bound;
    const again = new XenstoreClient(nc, { domid: 0 });
    expect(await again.read(`/local/domain/${b}/data/hello`)).toBe('b');
    await hv0.destroyDomain(b);
    await waitFor(async () => !(await again.exists(`/local/domain/${b}`)), 5000, `domain ${b}'s home to go`);
    await again.close();
    await app.close();
  });
});

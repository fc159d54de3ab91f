// The guest service in-process on a real nats-server, with the hypervisor engine served and a xenstored
// over a real state dir: dom0 creates and introduces the domain and writes its home as libxl does.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { headers, connect, type NatsConnection } from '@nats-io/transport-node';
import { subjects } from '@dominion/bus';
import { NodeFileIO } from '@dominion/fsio';
import { Hypervisor, HypervisorClient, serveHypervisor, type HypervisorServer } from '@dominion/hypervisor';
import { startNatsServer, tempDir, waitFor, type NatsServerHandle } from '@dominion/testing';
import { domainHomeWrites } from '@dominion/toolstack';
import { Xenstored, XenstoreClient, XsNatsTransport } from '@dominion/xenstore';
import { CONSOLE_OP_HEADER, CONSOLE_OP_RING } from '../src/console-protocol.js';
import { GuestModule } from '../src/guest.module.js';
import { GuestService } from '../src/guest.service.js';
import { MINIOS_PROMPT } from '../src/minios.js';

describe('guest domain', () => {
  let srv: NatsServerHandle;
  let nc: NatsConnection;
  let hvServer: HypervisorServer;
  let xsd: Xenstored;
  let transport: XsNatsTransport;
  let dir: ReturnType<typeof tempDir>;
  let hv0: HypervisorClient;
  let dom0xs: XenstoreClient;
  let domid: number;
  let app: TestingModule;
  let guest: GuestService;
  const out: string[] = [];

  beforeAll(async () => {
    srv = await startNatsServer();
    nc = await connect({ servers: srv.url });
    hvServer = serveHypervisor(
      nc,
      new Hypervisor({ host: { totalMemoryKiB: 4 << 20, nrCpus: 2, dom0MemoryKiB: 1 << 20, dom0Vcpus: 2 } }),
    );
    dir = tempDir();
    xsd = await Xenstored.open({ io: new NodeFileIO(), dir: dir.path });
    transport = new XsNatsTransport(xsd, nc);
    await transport.start();
    hv0 = new HypervisorClient(nc, 0);
    dom0xs = new XenstoreClient(nc, { domid: 0 });

    domid = await hv0.createDomain({ name: 'g1', target_memkb: 65536 });
    await xsd.introduceDomain(domid);
    for (const w of domainHomeWrites({
      domid,
      name: 'g1',
      uuid: '6f1c7c44-0a1b-4c2d-8e3f-123456789abc',
      type: 'pv',
      targetKiB: 65536,
      staticMaxKiB: 65536,
      vcpus: 1,
      driverDomain: false,
      startTimeMs: Date.now(),
    })) {
      await dom0xs.write(w.path, w.value);
      await dom0xs.setPerms(w.path, w.perms);
    }
    nc.subscribe(subjects.console(domid, 'out'), {
      callback: (_e, m) => {
        out.push(m.string());
      },
    });
    await nc.flush();

    @Module({
      imports: [
        GuestModule.forRoot({
          env: { DOMINION_NATS_URL: srv.url, DOMINION_DOMID: String(domid), DOMINION_LOG_LEVEL: 'silent' },
          guest: { orphanCheckMs: 50 },
        }),
      ],
    })
    class TestGuest {}
    app = await Test.createTestingModule({ imports: [TestGuest] }).compile();
    await app.init();
    guest = app.get(GuestService);
  }, 15000);

  afterAll(async () => {
    await app?.close();
    await dom0xs.close();
    await transport.stop();
    await xsd.close();
    hvServer.close();
    await nc.close();
    await srv.stop();
    dir.remove();
  });

  const home = () => `/local/domain/${domid}`;
  const type = async (line: string): Promise<string> => {
    const from = out.join('').length;
    nc.publish(subjects.console(domid, 'in'), line);
    const s = await waitFor(
      () => {
        const s = out.join('').slice(from);
        return s.endsWith(MINIOS_PROMPT) && s.includes('\n') ? s : undefined;
      },
      5000,
      `the answer to ${line}`,
    );
    return s!;
  };

  it('announces its PV control features', async () => {
    expect(await dom0xs.read(`${home()}/control/feature-poweroff`)).toBe('1');
    expect(await dom0xs.read(`${home()}/control/feature-reboot`)).toBe('1');
  });

  it('console round trip: uname typed on .in, answered on .out', async () => {
    expect(await type('uname')).toMatch(/^uname\nDominion minios \S+ xen\nminios# $/);
    expect(await type('frobnicate')).toBe('frobnicate\nfrobnicate: command not found\nminios# ');
    expect(await type('free')).toMatch(/^Mem:\s+65536\s+\d+\s+\d+$/m);
  });

  it('xenstore-write under data/ is seen by dom0; the dom0-owned home itself refuses it', async () => {
    expect(await type('xenstore-write data/foo bar')).toBe('xenstore-write data/foo bar\nminios# ');
    expect(await dom0xs.read(`${home()}/data/foo`)).toBe('bar');
    expect(await type('xenstore-write foo bar')).toContain('xenstore-write: could not write path foo\n');
    expect(await dom0xs.exists(`${home()}/foo`)).toBe(false);
    expect(await type('xenstore-read name')).toBe('xenstore-read name\ng1\nminios# ');
  });

  it('hands dom0 the recent console output on request', async () => {
    const h = headers();
    h.set(CONSOLE_OP_HEADER, CONSOLE_OP_RING);
    const m = await nc.request(subjects.console(domid, 'in'), '', { headers: h, timeout: 2000 });
    const ring = m.string();
    expect(ring).toContain('Dominion minios');
    expect(ring).toContain('frobnicate: command not found');
    expect(ring.endsWith(MINIOS_PROMPT)).toBe(true);
  });

  it('honours control/shutdown=poweroff: acks with "", shuts down with reason poweroff', async () => {
    const before = await hv0.getDomainInfo(domid);
    expect(before.shutdown).toBe(false);
    await dom0xs.write(`${home()}/control/shutdown`, 'poweroff');
    expect(await guest.halted).toBe('poweroff');
    expect(await dom0xs.read(`${home()}/control/shutdown`)).toBe('');
    const info = await waitFor(
      async () => {
        const i = await hv0.getDomainInfo(domid);
        return i.shutdown ? i : undefined;
      },
      5000,
      'the domain to be shut down',
    );
    expect(info!.shutdown_reason).toBe('poweroff');
  });

  it('knows when its domain is gone from the hypervisor (destroyed with no dom0 to stop it): orphaned', async () => {
    const notYet = Symbol('not yet');
    const settled = (): Promise<unknown> =>
      Promise.race([guest.orphaned, new Promise((r) => setTimeout(() => r(notYet), 200))]);
    expect(await settled()).toBe(notYet); // several checks passed: the shut-down domain still exists
    await hv0.destroyDomain(domid);
    expect(await guest.orphaned).toBe(`domain ${domid} no longer exists`);
  });
});

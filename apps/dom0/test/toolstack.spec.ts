// dom0's toolstack API against a real hypervisor engine and xenstored on a real nats-server: only the
// control domain may call it, a config that does not parse is refused in xl's words before anything is
// made, and a guest that never comes up leaves nothing behind (domain, XenStore home, credentials).
import 'reflect-metadata';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { busRequest, subjects } from '@dominion/bus';
import { Hypervisor, HypervisorClient, serveHypervisor, type HypervisorServer } from '@dominion/hypervisor';
import { RuntimeModule } from '@dominion/runtime';
import { startNatsServer, tempDir, type NatsServerHandle } from '@dominion/testing';
import { ToolstackModule, XenstoredModule } from '../src/dom0.module.js';
import { XenstoredService } from '../src/xenstored.service.js';
import { tool } from './harness.js';

describe('dom0 toolstack API', () => {
  let srv: NatsServerHandle;
  let nc: NatsConnection;
  let hvServer: HypervisorServer;
  let dir: ReturnType<typeof tempDir>;
  let app: TestingModule;
  const hv0 = (): HypervisorClient => new HypervisorClient(nc, 0);
  const call = (caller: number, verb: string, body: unknown): Promise<unknown> =>
    busRequest(nc, subjects.toolstack(caller, verb), body, { timeoutMs: 30000 });

  beforeAll(async () => {
    srv = await startNatsServer();
    nc = await connect({ servers: srv.url });
    const hv = new Hypervisor({ host: { totalMemoryKiB: 4 << 20, nrCpus: 2, dom0MemoryKiB: 1 << 20, dom0Vcpus: 2 } });
    hvServer = serveHypervisor(nc, hv);
    dir = tempDir();
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
  });
  afterAll(async () => {
    await app.close();
    hvServer.close();
    await nc.close();
    await srv.stop();
    dir.remove();
  });

  it('refuses a caller other than domain 0 with EPERM; domain 0 is heard (its bad config gets EINVAL)', async () => {
    const body = { config: 'name = "g"\n', source: 'g.cfg' };
    await expect(call(5, 'create', body)).rejects.toMatchObject({
      kind: 'EPERM',
      message: 'xen.toolstack.5.create: domain 5 is not the control domain',
    });
    await expect(call(0, 'create', { source: 'g.cfg' })).rejects.toMatchObject({ kind: 'EINVAL' });
    await expect(call(5, 'destroy', { domid: 1 })).rejects.toMatchObject({ kind: 'EPERM' });
    await expect(call(0, 'destroy', { domid: 77 })).rejects.toMatchObject({ kind: 'ESRCH' });
  });

  it("a syntax error comes back as xl's message, and no domain is created", async () => {
    await expect(call(0, 'create', { config: 'name = "g"\nmemory = = 64\n', source: 'g.cfg' })).rejects.toMatchObject({
      kind: 'EINVAL',
      message: expect.stringMatching(/^g\.cfg:2:10: config parsing error near `='/) as unknown,
    });
    expect((await hv0().listDomains()).map((d) => d.name)).toEqual(['Domain-0']);
  });

  it('a guest that exits before it comes up is cleaned away: no domain, no XenStore home, no /vm', async () => {
    process.env.DOMINION_GUEST_MAIN = join(dir.path, 'no-such-guest.js');
    try {
      await expect(
        call(0, 'create', { config: 'name = "early"\nmemory = 16\n', source: 'early.cfg' }),
      ).rejects.toMatchObject({
        kind: 'EIO',
        message: expect.stringMatching(
          /^domain \d+ \(early\): the guest exited before it came up; see .*early\.log$/,
        ) as unknown,
      });
    } finally {
      delete process.env.DOMINION_GUEST_MAIN;
    }
    expect((await hv0().listDomains()).map((d) => d.name)).toEqual(['Domain-0']);
    const socket = app.get(XenstoredService).socketPath;
    // the parents stay (the transaction made them), empty: dom0's own home is DomainsService's, not booted here
    expect(await tool(socket, 'xenstore-list', '/local/domain')).toMatchObject({ code: 0, stdout: '' });
    expect(await tool(socket, 'xenstore-list', '/vm')).toMatchObject({ code: 0, stdout: '' });
    expect(await tool(socket, 'xenstore-list', '/libxl')).toMatchObject({ code: 0, stdout: '' });
    expect(app.get(XenstoredService).xenstored.introducedDomains()).toEqual([]);
  });
});

import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { connect } from '@nats-io/transport-node';
import { Hypervisor, HypervisorClient, serveHypervisor } from '@dominion/hypervisor';
import { startNatsServer, waitFor } from '@dominion/testing';
import { RuntimeModule } from '../src/index.js';

describe('RuntimeModule heartbeat', () => {
  it('a service with a domid reports liveness and CPU time to the hypervisor; without heartbeat it does not', async () => {
    const srv = await startNatsServer();
    const nc = await connect({ servers: srv.url });
    const hv = new Hypervisor({ host: { totalMemoryKiB: 4 << 20, nrCpus: 2, dom0MemoryKiB: 1 << 20, dom0Vcpus: 2 } });
    const server = serveHypervisor(nc, hv);
    const dom0 = new HypervisorClient(nc, 0);
    const a = await dom0.createDomain({ name: 'beating', target_memkb: 65536 });
    const b = await dom0.createDomain({ name: 'silent', target_memkb: 65536 });
    const boot = async (domid: number, heartbeat: boolean) => {
      @Module({
        imports: [
          RuntimeModule.forRoot({
            service: 'guest',
            heartbeat,
            env: { DOMINION_NATS_URL: srv.url, DOMINION_DOMID: String(domid), DOMINION_LOG_LEVEL: 'silent' },
          }),
        ],
      })
      class M {}
      const mod = await Test.createTestingModule({ imports: [M] }).compile();
      await mod.init();
      return mod;
    };
    const ma = await boot(a, true);
    const mb = await boot(b, false);
    try {
      const info = await waitFor(
        async () => {
          const i = await dom0.getDomainInfo(a);
          return i.last_heartbeat !== undefined ? i : undefined;
        },
        5000,
        'a heartbeat from the service',
      );
      expect(info!.cpu_time).toBeGreaterThan(0);
      expect((await dom0.getDomainInfo(b)).last_heartbeat).toBeUndefined();
    } finally {
      await ma.close();
      await mb.close();
      server.close();
      await nc.close();
      await srv.stop();
    }
  });
});

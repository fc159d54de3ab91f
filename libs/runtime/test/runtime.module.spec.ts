import 'reflect-metadata';
import { Inject, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { NatsConnection } from '@nats-io/transport-node';
import { busRequest, busServe, subjects } from '@dominion/bus';
import { freePort, startNatsServer, type NatsServerHandle } from '@dominion/testing';
import { DOMAIN_CONFIG, Health, NATS_CONNECTION, RuntimeModule, type DomainConfig } from '../src/index.js';

@Injectable()
class Pinger {
  constructor(
    @Inject(NATS_CONNECTION) readonly nc: NatsConnection,
    @Inject(DOMAIN_CONFIG) readonly cfg: DomainConfig,
  ) {}
}

describe('RuntimeModule', () => {
  let srv: NatsServerHandle;
  beforeAll(async () => {
    srv = await startNatsServer();
  });
  afterAll(() => srv.stop());

  it('gives a service its config and a live bus connection, serves health, and drains on close', async () => {
    const healthPort = await freePort();
    @Module({
      imports: [
        RuntimeModule.forRoot({
          service: 'unit',
          env: {
            DOMINION_NATS_URL: srv.url,
            DOMINION_DOMID: '3',
            DOMINION_HEALTH_PORT: String(healthPort),
            DOMINION_LOG_LEVEL: 'silent',
          },
        }),
      ],
      providers: [Pinger],
    })
    class AppModule {}
    const mod = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = mod;
    await app.init();
    const p = app.get(Pinger);
    expect(p.cfg.domid).toBe(3);
    busServe(p.nc, subjects.hvAny('ping'), (_b, ctx) => `pong ${ctx.caller}`);
    await expect(busRequest(p.nc, subjects.hv(3, 'ping'))).resolves.toBe('pong 3');

    const ready = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, checks: { nats: true } });
    app.get(Health).register('disk', () => false);
    expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(503);
    expect((await fetch(`http://127.0.0.1:${healthPort}/healthz`)).status).toBe(200);

    await app.close();
    expect(p.nc.isClosed()).toBe(true);
    await expect(fetch(`http://127.0.0.1:${healthPort}/healthz`)).rejects.toThrow();
  });
});

describe('RuntimeModule shutdown without the bus', () => {
  it('closes within a bounded time when nats-server is already gone', async () => {
    const srv = await startNatsServer();
    @Module({
      imports: [
        RuntimeModule.forRoot({
          service: 'unit',
          heartbeat: false,
          env: { DOMINION_NATS_URL: srv.url, DOMINION_LOG_LEVEL: 'silent' },
        }),
      ],
      providers: [Pinger],
    })
    class AppModule {}
    const mod = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await mod.init();
    const nc = mod.get(Pinger).nc;
    await srv.stop();
    const t0 = Date.now();
    await mod.close();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(nc.isClosed()).toBe(true);
  });
});

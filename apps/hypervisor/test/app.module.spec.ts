// What main.ts boots: AppModule reads the process environment.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { connect } from '@nats-io/transport-node';
import { HypervisorClient } from '@dominion/hypervisor';
import { startNatsServer } from '@dominion/testing';

it('AppModule serves hypercalls configured from process.env', async () => {
  const srv = await startNatsServer();
  Object.assign(process.env, { DOMINION_NATS_URL: srv.url, DOMINION_LOG_LEVEL: 'silent', DOMINION_HV_CPUS: '3' });
  const { AppModule } = await import('../src/app.module.js');
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  await app.init();
  const nc = await connect({ servers: srv.url });
  try {
    expect(await new HypervisorClient(nc, 0).physinfo()).toMatchObject({ nr_cpus: 3, nr_domains: 1 });
  } finally {
    await nc.close();
    await app.close();
    await srv.stop();
  }
});

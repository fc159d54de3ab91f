import { connect } from '@nats-io/transport-node';
import { startNatsServer, freePort } from '../src/index.js';

describe('startNatsServer', () => {
  it('starts a real nats-server on loopback that answers request/reply, and stops it', async () => {
    const srv = await startNatsServer();
    try {
      expect(srv.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      const nc = await connect({ servers: srv.url });
      nc.subscribe('t.echo', { callback: (_e, m) => void m.respond(m.data) });
      const r = await nc.request('t.echo', new TextEncoder().encode('hi'), { timeout: 2000 });
      expect(r.string()).toBe('hi');
      await nc.close();
    } finally {
      await srv.stop();
    }
    expect(srv.process.exitCode !== null || srv.process.signalCode !== null).toBe(true);
  });

  it('freePort gives a bindable port', async () => {
    const p = await freePort();
    expect(p).toBeGreaterThan(1023);
  });
});

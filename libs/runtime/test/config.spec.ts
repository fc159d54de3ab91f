import { loadDomainConfig, ConfigError } from '../src/index.js';

describe('loadDomainConfig', () => {
  it('reads a domain service config from the environment', () => {
    const c = loadDomainConfig('blkback', {
      DOMINION_NATS_URL: 'nats://127.0.0.1:4333',
      DOMINION_DOMID: '5',
      DOMINION_DOMAIN_NAME: 'storage',
      DOMINION_GRPC_LISTEN: '127.0.0.1:0',
      DOMINION_STATE_DIR: '/tmp/x',
      DOMINION_NATS_CREDS: '/etc/creds/blk.creds',
    });
    expect(c).toMatchObject({
      service: 'blkback',
      natsUrl: 'nats://127.0.0.1:4333',
      domid: 5,
      domainName: 'storage',
      grpcListen: '127.0.0.1:0',
      stateDir: '/tmp/x',
      natsCredsFile: '/etc/creds/blk.creds',
      logLevel: 'info',
    });
  });
  it('defaults what it can', () => {
    const c = loadDomainConfig('dom0', {});
    expect(c.natsUrl).toBe('nats://127.0.0.1:4222');
    expect(c.domid).toBeUndefined();
    expect(c.stateDir).toMatch(/var\/dom0$/);
  });
  it.each([
    ['DOMINION_DOMID', 'x1', /DOMINION_DOMID="x1": expected a domid/],
    ['DOMINION_DOMID', '32752', /DOMINION_DOMID="32752"/],
    ['DOMINION_NATS_URL', 'localhost:4222', /DOMINION_NATS_URL="localhost:4222": expected nats:\/\/host:port/],
    ['DOMINION_GRPC_LISTEN', '8080', /DOMINION_GRPC_LISTEN="8080": expected host:port/],
    ['DOMINION_LOG_LEVEL', 'loud', /DOMINION_LOG_LEVEL="loud"/],
    ['DOMINION_HEALTH_PORT', '70000', /DOMINION_HEALTH_PORT="70000"/],
  ])('refuses %s=%s naming the variable', (k, v, re) => {
    expect(() => loadDomainConfig('x', { [k]: v })).toThrow(ConfigError);
    expect(() => loadDomainConfig('x', { [k]: v })).toThrow(re);
  });
});

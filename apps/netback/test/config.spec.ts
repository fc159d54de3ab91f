// netback's environment: bridges, uplinks and their options, and a clear error naming the variable.
import { describe, expect, it } from '@jest/globals';
import { NetbackError, netbackConfigFromEnv } from '../src/index.js';

const fails = (env: Record<string, string>, message: string) => {
  let err: unknown;
  try {
    netbackConfigFromEnv(env);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(NetbackError);
  expect(err).toMatchObject({ kind: 'EINVAL' });
  expect((err as Error).message).toBe(message);
};

describe('netbackConfigFromEnv', () => {
  it('defaults to one bridge, xenbr0, no uplinks', () => {
    expect(netbackConfigFromEnv({})).toMatchObject({ bridges: ['xenbr0'], uplinks: [] });
    expect(netbackConfigFromEnv({}).maxQueues).toBeGreaterThanOrEqual(1);
  });

  it('reads bridges and dgram/tap uplinks with their options', () => {
    const cfg = netbackConfigFromEnv({
      DOMINION_NETBACK_BRIDGES: 'xenbr0,xenbr1',
      DOMINION_NETBACK_UPLINKS:
        'xenbr0:dgram:127.0.0.1:40000 ; xenbr1:dgram:127.0.0.1:40001,remote=127.0.0.1:40002,name=qemu1\n' +
        'xenbr0:tap:dtap0,ip=10.0.0.1,ip=10.0.0.2,mac=00:16:3E:00:00:01,vlan=10p/20,rate=10Mb/s',
      DOMINION_NETBACK_MAX_QUEUES: '4',
      DOMINION_NETBACK_SOCAT: '/usr/bin/socat',
    });
    expect(cfg).toEqual({
      bridges: ['xenbr0', 'xenbr1'],
      maxQueues: 4,
      socat: '/usr/bin/socat',
      uplinks: [
        {
          kind: 'dgram',
          bridge: 'xenbr0',
          name: 'dgram0',
          bind: { host: '127.0.0.1', port: 40000 },
          remote: undefined,
          port: {},
        },
        {
          kind: 'dgram',
          bridge: 'xenbr1',
          name: 'qemu1',
          bind: { host: '127.0.0.1', port: 40001 },
          remote: { host: '127.0.0.1', port: 40002 },
          port: {},
        },
        {
          kind: 'tap',
          bridge: 'xenbr0',
          name: 'dtap0',
          tap: 'dtap0',
          linkUp: true,
          port: {
            ips: ['10.0.0.1', '10.0.0.2'],
            mac: '00:16:3e:00:00:01',
            vlan: {
              pvid: 10,
              members: [
                { vid: 10, untagged: true },
                { vid: 20, untagged: false },
              ],
            },
            // 10 Mbit/s = 1.25 MB/s, 50 ms intervals
            rate: { bytesPerInterval: 62_500, intervalUsecs: 50_000 },
          },
        },
      ],
    });
  });

  it('names the variable and what is wrong', () => {
    const U = 'DOMINION_NETBACK_UPLINKS';
    fails(
      { DOMINION_NETBACK_BRIDGES: 'xenbr0,bad name' },
      'DOMINION_NETBACK_BRIDGES="xenbr0,bad name": "bad name" is not a bridge name',
    );
    fails({ [U]: 'xenbr1:tap:t0' }, `${U}="xenbr1:tap:t0": bridge xenbr1 is not in DOMINION_NETBACK_BRIDGES (xenbr0)`);
    fails(
      { [U]: 'xenbr0:udp:1.2.3.4:5' },
      `${U}="xenbr0:udp:1.2.3.4:5": expected <bridge>:dgram:<host>:<port> or <bridge>:tap:<ifname>`,
    );
    fails(
      { [U]: 'xenbr0:dgram:127.0.0.1:70000' },
      `${U}="xenbr0:dgram:127.0.0.1:70000": bind address "127.0.0.1:70000" is not <ipv4>:<port>`,
    );
    fails(
      { [U]: 'xenbr0:tap:t0,remote=127.0.0.1:1' },
      `${U}="xenbr0:tap:t0,remote=127.0.0.1:1": remote= is for dgram uplinks`,
    );
    fails(
      { [U]: 'xenbr0:tap:t0,ip=10.0.0.256' },
      `${U}="xenbr0:tap:t0,ip=10.0.0.256": ip: "10.0.0.256" is not an IPv4 address`,
    );
    fails({ [U]: 'xenbr0:tap:t0,colour=red' }, `${U}="xenbr0:tap:t0,colour=red": unknown option "colour"`);
    fails(
      { [U]: 'xenbr0:dgram:127.0.0.1:4000,down' },
      `${U}="xenbr0:dgram:127.0.0.1:4000,down": down is a bare option of tap uplinks`,
    );
    // beside the refusals: a tap uplink left down for a network namespace
    expect(netbackConfigFromEnv({ [U]: 'xenbr0:tap:t0,down' }).uplinks[0]).toMatchObject({
      kind: 'tap',
      linkUp: false,
    });
    fails({ [U]: 'xenbr0:tap:t0 xenbr0:tap:t0' }, `${U}="xenbr0:tap:t0 xenbr0:tap:t0": port xenbr0/t0 is named twice`);
    fails({ DOMINION_NETBACK_MAX_QUEUES: '0' }, 'DOMINION_NETBACK_MAX_QUEUES="0": expected 1..999');
  });
});

import { describe, expect, it } from '@jest/globals';
import { parsePoolSpec, zfsConfigFromEnv } from './config.js';

describe('zfs domain config', () => {
  it('reads the directory, pools, block port and txg interval from the environment', () => {
    const cfg = zfsConfigFromEnv(
      {
        DOMINION_ZFS_POOLS: 'tank:mirror:a.img,b.img:1G; scratch:single:s.img:256M',
        DOMINION_ZFS_GRPC_PORT: '7070',
        DOMINION_ZFS_TXG_MS: '1000',
      },
      '/var/dominion',
    );
    expect(cfg).toEqual({
      dir: '/var/dominion/zfs',
      pools: [
        { name: 'tank', type: 'mirror', files: ['a.img', 'b.img'], size: 1 << 30 },
        { name: 'scratch', type: 'single', files: ['s.img'], size: 256 << 20 },
      ],
      grpcListen: '127.0.0.1:7070',
      txgMs: 1000,
    });
    expect(zfsConfigFromEnv({ DOMINION_ZFS_DIR: '/pools' }, '/s', '0.0.0.0:9')).toMatchObject({
      dir: '/pools',
      pools: [],
      grpcListen: '0.0.0.0:9',
      txgMs: 5000,
    });
  });

  it.each([
    ['tank:mirror:a.img:1G', 'a mirror needs at least two files'],
    ['tank:single:a.img,b.img:1G', 'a single vdev is one file'],
    ['tank:raidz:a,b,c:1G', 'expected <name>:<single|mirror>'],
    ['tank:single:a.img:lots', "bad size 'lots'"],
    ['9tank:single:a.img:1G', 'is not a pool name'],
  ])('refuses %s (%s)', (entry, why) => {
    expect(() => parsePoolSpec(entry)).toThrow(why);
    expect(() => parsePoolSpec(entry)).toThrow(`DOMINION_ZFS_POOLS=${JSON.stringify(entry)}`);
  });

  it('refuses a bad port or txg interval, naming the variable', () => {
    expect(() => zfsConfigFromEnv({ DOMINION_ZFS_GRPC_PORT: '70000' }, '/s')).toThrow('DOMINION_ZFS_GRPC_PORT="70000"');
    expect(() => zfsConfigFromEnv({ DOMINION_ZFS_TXG_MS: '5' }, '/s')).toThrow('DOMINION_ZFS_TXG_MS="5"');
  });
});

// blkback's settings, target paths, image sizes and writable exclusivity: pure checks, each refusal beside
// what is accepted.
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@dominion/testing';
import { TargetClaims, blkbackConfigFromEnv, parseImageSize, resolveTarget } from '../src/index.js';

describe('blkbackConfigFromEnv', () => {
  it('defaults to <state>/images, ephemeral loopback ports, and sockets in <state>/nbd', () => {
    const c = blkbackConfigFromEnv({ DOMINION_BLKBACK_MAX_QUEUES: '2' }, '/var/lib/dominion/blkback');
    expect(c).toEqual({
      imageDir: '/var/lib/dominion/blkback/images',
      allowDirs: [],
      grpcListen: '127.0.0.1:0',
      nbdPort: 0,
      nbdSocketDir: '/var/lib/dominion/blkback/nbd',
      maxQueues: 2,
      maxRingPageOrder: 4,
    });
  });

  it('takes the image dir, allowed dirs and ports; the runtime listen address wins over the port', () => {
    const env = {
      DOMINION_BLKBACK_IMAGE_DIR: '/srv/img',
      DOMINION_BLKBACK_ALLOW_DIRS: '/srv/iso:/dev/shm/x/../y',
      DOMINION_BLKBACK_GRPC_PORT: '40123',
      DOMINION_BLKBACK_NBD_PORT: '10809',
    };
    const c = blkbackConfigFromEnv(env, '/s');
    expect(c).toMatchObject({
      imageDir: '/srv/img',
      allowDirs: ['/srv/iso', '/dev/shm/y'],
      grpcListen: '127.0.0.1:40123',
      nbdPort: 10809,
    });
    expect(blkbackConfigFromEnv(env, '/s', '0.0.0.0:5000').grpcListen).toBe('0.0.0.0:5000');
  });

  it('refuses bad values, naming the variable', () => {
    expect(() => blkbackConfigFromEnv({ DOMINION_BLKBACK_NBD_PORT: '70000' }, '/s')).toThrow(
      'DOMINION_BLKBACK_NBD_PORT="70000": expected a TCP port (0..65535)',
    );
    expect(() => blkbackConfigFromEnv({ DOMINION_BLKBACK_ALLOW_DIRS: '/a:rel' }, '/s')).toThrow(
      'DOMINION_BLKBACK_ALLOW_DIRS="/a:rel": "rel" is not an absolute path',
    );
    expect(() => blkbackConfigFromEnv({ DOMINION_BLKBACK_MAX_QUEUES: '0' }, '/s')).toThrow('expected 1..16');
    expect(() => blkbackConfigFromEnv({ DOMINION_BLKBACK_MAX_RING_PAGE_ORDER: '5' }, '/s')).toThrow(
      'DOMINION_BLKBACK_MAX_RING_PAGE_ORDER="5": expected 0..4',
    );
    expect(blkbackConfigFromEnv({ DOMINION_BLKBACK_MAX_RING_PAGE_ORDER: '0' }, '/s').maxRingPageOrder).toBe(0);
  });
});

describe('resolveTarget', () => {
  const tmp = tempDir('blkback-target-');
  const images = join(tmp.path, 'images');
  const allowed = join(tmp.path, 'iso');
  mkdirSync(images, { recursive: true });
  mkdirSync(allowed, { recursive: true });
  writeFileSync(join(tmp.path, 'outside.img'), '');
  writeFileSync(join(allowed, 'a.iso'), '');
  symlinkSync(join(tmp.path, 'outside.img'), join(images, 'escape.img'));
  symlinkSync(join(allowed, 'a.iso'), join(images, 'iso.img'));
  const cfg = { imageDir: images, allowDirs: [allowed] };
  afterAll(() => tmp.remove());

  it('resolves relative paths under the image dir and accepts raw:/aio: prefixes', () => {
    expect(resolveTarget('d.img', cfg, 'k')).toBe(join(images, 'd.img'));
    expect(resolveTarget('sub/d.img', cfg, 'k')).toBe(join(images, 'sub/d.img'));
    expect(resolveTarget(`raw:${join(allowed, 'a.iso')}`, cfg, 'k')).toBe(join(allowed, 'a.iso'));
    expect(resolveTarget('aio:d.img', cfg, 'k')).toBe(join(images, 'd.img'));
    // a symlink to an allowed dir is fine
    expect(resolveTarget('iso.img', cfg, 'k')).toBe(join(allowed, 'a.iso'));
  });

  it('refuses paths outside the allowed dirs, also through .. and symlinks, and formats other than raw', () => {
    expect(() => resolveTarget(join(tmp.path, 'outside.img'), cfg, '/b/params')).toThrow(
      `/b/params: target ${join(tmp.path, 'outside.img')} is outside ${images}, ${allowed}`,
    );
    expect(() => resolveTarget('../outside.img', cfg, 'k')).toThrow(expect.objectContaining({ kind: 'EACCES' }));
    expect(() => resolveTarget('escape.img', cfg, 'k')).toThrow(
      `target ${join(images, 'escape.img')} (really ${join(tmp.path, 'outside.img')}) is outside`,
    );
    expect(() => resolveTarget('qcow2:d.qcow2', cfg, 'k')).toThrow(
      'k: format qcow2 of "qcow2:d.qcow2" is not served (raw only)',
    );
    expect(() => resolveTarget('', cfg, 'k')).toThrow('k: no target (empty params)');
  });
});

describe('parseImageSize', () => {
  it('takes bytes or K/M/G/T, whole sectors only', () => {
    expect(parseImageSize('8M', 'k')).toBe(8 << 20);
    expect(parseImageSize('4096', 'k')).toBe(4096);
    expect(parseImageSize('1g', 'k')).toBe(1 << 30);
    expect(() => parseImageSize('1000', '/b/size')).toThrow('/b/size: "1000" is not a size in whole 512-byte sectors');
    expect(() => parseImageSize('-1M', 'k')).toThrow(expect.objectContaining({ kind: 'EINVAL' }));
    expect(() => parseImageSize('0', 'k')).toThrow(expect.objectContaining({ kind: 'EINVAL' }));
  });
});

describe('TargetClaims', () => {
  it('shares a target among read-only users and refuses any writer beside them, until released', () => {
    const c = new TargetClaims();
    c.claim('/i/a', { label: 'vbd 5/51712', writable: false });
    c.claim('/i/a', { label: 'vbd 6/51712', writable: false });
    expect(() => c.claim('/i/a', { label: 'vbd 7/51712', writable: true })).toThrow(
      'target /i/a is already open read-only by vbd 5/51712; vbd 7/51712 wants it writable',
    );
    c.claim('/i/b', { label: 'vbd 7/51712', writable: true });
    expect(() => c.claim('/i/b', { label: 'vbd 8/51712', writable: false })).toThrow(
      expect.objectContaining({
        kind: 'EBUSY',
        message: expect.stringContaining('already open for writing by vbd 7/51712'),
      }),
    );
    c.release('/i/a', 'vbd 5/51712');
    c.release('/i/a', 'vbd 6/51712');
    c.claim('/i/a', { label: 'vbd 7/51728', writable: true });
    expect(c.holdersOf('/i/a')).toEqual([{ label: 'vbd 7/51728', writable: true }]);
  });
});

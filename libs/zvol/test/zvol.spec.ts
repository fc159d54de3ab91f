// What libs/zvol decides on its own: which disk targets name a zvol, and that an unreachable block service
// fails open with ECONNREFUSED after the dials it was given. The data path against the real service is tested
// in apps/zfs (test/zfs-domain.spec.ts), which serves block.proto.
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { freePort } from '@dominion/testing';
import { BLOCK_SERVICE, blockProtoPath, blockService, parseZvolTarget, ZvolBackend } from '../src/index.js';

describe('zvol targets', () => {
  it.each([
    ['zvol:tank/vm1', 'tank/vm1'],
    ['/dev/zvol/tank/vm1', 'tank/vm1'],
    ['zvol:tank/a/b@monday', 'tank/a/b@monday'],
    [' zvol:tank/vm1 ', 'tank/vm1'],
  ])('%s names %s', (target, volume) => {
    expect(parseZvolTarget(target)).toBe(volume);
  });

  it.each(['/srv/disk.img', 'zvol:tank', 'zvol:', '/dev/zvol/', 'zvol:tank/../x y', 'zvol:tank//a'])(
    '%s names no zvol',
    (target) => {
      expect(parseZvolTarget(target)).toBeUndefined();
    },
  );
});

describe('the block service contract', () => {
  it('loads block.proto from @dominion/proto with its one bidirectional method', () => {
    expect(existsSync(blockProtoPath())).toBe(true);
    expect(readFileSync(blockProtoPath(), 'utf8')).toMatch(
      /rpc Connect\(stream BlockRequest\) returns \(stream BlockResponse\)/,
    );
    const def = blockService().service.Connect;
    expect(def.path).toBe(`/${BLOCK_SERVICE}/Connect`);
    expect([def.requestStream, def.responseStream]).toEqual([true, true]);
  });

  it('fails open with ECONNREFUSED when nothing serves the endpoint', async () => {
    const port = await freePort();
    let asked = 0;
    const endpoint = () => {
      asked++;
      return Promise.resolve(`127.0.0.1:${port}`);
    };
    await expect(
      ZvolBackend.open({ volume: 'tank/vm1', endpoint, reconnectAttempts: 2, reconnectDelayMs: 10 }),
    ).rejects.toMatchObject({
      kind: 'ECONNREFUSED',
      message: expect.stringMatching(/^zvol:tank\/vm1: the block service cannot be reached/) as unknown,
    });
    expect(asked).toBe(1); // open dials once; redials are for streams that broke
  });
});

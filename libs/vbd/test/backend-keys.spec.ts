// The backend nodes blkback publishes (xen-facts §2), spelled out by hand: names and values as a Linux
// frontend reads them.
import { describe, expect, it } from '@jest/globals';
import { CrashSimFileIO } from '@dominion/fsio';
import { RawFileBackend, VbdServer, vbdBackendKeys, vbdConnectKeys, vbdProbeKeys } from '../src/index.js';

describe('vbd backend keys', () => {
  it('publishes ring limits at probe: max-ring-page-order always, multi-queue-max-queues only above one queue', () => {
    expect(vbdProbeKeys()).toEqual({ 'max-ring-page-order': '0' });
    expect(vbdProbeKeys({ maxQueues: 4, maxRingPageOrder: 2 })).toEqual({
      'max-ring-page-order': '2',
      'multi-queue-max-queues': '4',
    });
  });

  it('publishes what a VbdServer honours, with the disk geometry, at connect', async () => {
    const io = new CrashSimFileIO();
    const disk = await RawFileBackend.open({ io, path: '/d.raw', size: 1 << 20, sectorSize: 4096 });
    const server = new VbdServer({ backend: disk, frontendDomid: 5, devid: 51712 });
    expect(vbdConnectKeys(server.properties)).toEqual({
      'feature-flush-cache': '1',
      'feature-barrier': '1',
      'feature-discard': '1',
      'discard-granularity': '4096',
      'discard-alignment': '0',
      'discard-secure': '0',
      'feature-max-indirect-segments': '256',
      sectors: '2048',
      info: '0',
      'sector-size': '4096',
    });
  });

  it('marks a read-only cdrom in info (VDISK_READONLY 0x4 | VDISK_CDROM 0x1) and leaves out discard details', () => {
    const keys = vbdBackendKeys(
      { sectors: 1024n, readonly: true, featureFlushCache: false, maxIndirectSegments: 0 },
      { cdrom: true, maxRingPageOrder: 1 },
      '/local/domain/1/backend/vbd/5/51728',
    );
    expect(keys).toEqual({
      '/local/domain/1/backend/vbd/5/51728/max-ring-page-order': '1',
      '/local/domain/1/backend/vbd/5/51728/feature-flush-cache': '0',
      '/local/domain/1/backend/vbd/5/51728/feature-barrier': '0',
      '/local/domain/1/backend/vbd/5/51728/feature-discard': '0',
      '/local/domain/1/backend/vbd/5/51728/feature-max-indirect-segments': '0',
      '/local/domain/1/backend/vbd/5/51728/sectors': '1024',
      '/local/domain/1/backend/vbd/5/51728/info': '5',
      '/local/domain/1/backend/vbd/5/51728/sector-size': '512',
    });
  });
});

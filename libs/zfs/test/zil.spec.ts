// The intent log: a flush makes writes durable without a txg sync, and import replays it.
import { CrashSimFileIO } from '@dominion/fsio';
import { Pool } from '../src/index.js';
import { KiB, MiB, pattern } from './helpers.js';

async function setup(logSize = 256 * KiB): Promise<{ io: CrashSimFileIO; pool: Pool }> {
  const io = new CrashSimFileIO();
  const pool = await Pool.create(io, { name: 'tank', vdevs: [{ path: '/vdev0', size: 8 * MiB }], logSize });
  await pool.createVolume('tank/v', { volsize: MiB, volblocksize: 4 * KiB });
  return { io, pool };
}

describe('intent log', () => {
  it('makes flushed writes survive a power cut without a txg sync; unflushed ones do not', async () => {
    const { io, pool } = await setup();
    const vol = pool.openVolume('tank/v');
    const txg = pool.txg;
    await vol.write(1000, pattern(1, 5000));
    await vol.write(3000, pattern(2, 100)); // overlaps the first: order matters at replay
    await vol.discard(8192, 4096);
    await vol.flush();
    expect(pool.txg).toBe(txg); // no txg was synced
    await vol.write(500000, pattern(3, 10)); // never flushed

    const disk = io.crash({ mode: 'drop-all' });
    const again = await Pool.import(disk, { paths: ['/vdev0'] });
    const expected = Buffer.alloc(MiB);
    pattern(1, 5000).copy(expected, 1000);
    pattern(2, 100).copy(expected, 3000);
    expected.fill(0, 8192, 8192 + 4096);
    expect((await again.openVolume('tank/v').read(0, MiB)).equals(expected)).toBe(true);
    expect((await again.verify()).problems).toEqual([]);
  });

  it('replays flushes on top of the last txg, several flushes in order', async () => {
    const { io, pool } = await setup();
    const vol = pool.openVolume('tank/v');
    await vol.write(0, pattern(1, 64 * KiB));
    await pool.sync();
    await vol.write(4096, pattern(2, 4096));
    await vol.flush();
    await vol.write(4096, pattern(3, 100));
    await vol.flush();
    await vol.discard(0, 4096);
    await vol.flush();

    const crashed = io.crash({ mode: 'reorder-prefix', seed: 3 });
    const again = await Pool.import(crashed, { paths: ['/vdev0'] });
    const expected = pattern(1, 64 * KiB);
    pattern(2, 4096).copy(expected, 4096);
    pattern(3, 100).copy(expected, 4096);
    expected.fill(0, 0, 4096);
    expect((await again.openVolume('tank/v').read(0, 64 * KiB)).equals(expected)).toBe(true);
    // Replay was synced into a txg at import: a second crash right away loses nothing.
    const third = await Pool.import(crashed.crash({ mode: 'drop-all' }), { paths: ['/vdev0'] });
    expect((await third.openVolume('tank/v').read(0, 64 * KiB)).equals(expected)).toBe(true);
  });

  it('falls back to a txg sync when the pending records do not fit the log area', async () => {
    const { io, pool } = await setup(256 * KiB);
    const vol = pool.openVolume('tank/v');
    const txg = pool.txg;
    await vol.write(0, pattern(5, 100 * KiB));
    await vol.flush(); // fits: logged
    expect(pool.txg).toBe(txg);
    await vol.write(200 * KiB, pattern(6, 200 * KiB));
    await vol.flush(); // 200 KiB more does not fit the 256 KiB area after the first block
    expect(pool.txg).toBe(txg + 1);
    await vol.write(0, pattern(7, 10));
    await vol.flush(); // the log restarted with the txg: logged again
    expect(pool.txg).toBe(txg + 1);

    const again = await Pool.import(io.crash({ mode: 'random-subset', seed: 9 }), { paths: ['/vdev0'] });
    const expected = Buffer.alloc(MiB);
    pattern(5, 100 * KiB).copy(expected, 0);
    pattern(6, 200 * KiB).copy(expected, 200 * KiB);
    pattern(7, 10).copy(expected, 0);
    expect((await again.openVolume('tank/v').read(0, MiB)).equals(expected)).toBe(true);
  });

  it('loses no flushed write when power fails at any step of the replay', async () => {
    const io = new CrashSimFileIO();
    // Imported with a small dirty limit, which replaying these records passes several times.
    const pool = await Pool.create(io, { name: 'tank', vdevs: [{ path: '/vdev0', size: 8 * MiB }] });
    const vol = await pool.createVolume('tank/v', { volsize: MiB, volblocksize: 4 * KiB });
    const expected = Buffer.alloc(MiB);
    for (let i = 0; i < 8; i++) {
      const data = pattern(i, 12 * KiB);
      await vol.write(i * 64 * KiB, data);
      data.copy(expected, i * 64 * KiB);
      await vol.flush();
    }
    const logged = io.crash({ mode: 'drop-all' });
    const opsToImport = await (async () => {
      const probe = logged.crash({ mode: 'drop-all' });
      const before = probe.opCount;
      await Pool.import(probe, { paths: ['/vdev0'], dirtyMaxBytes: 16 * KiB });
      return probe.opCount - before;
    })();
    for (let cut = 0; cut < opsToImport; cut++) {
      const disk = logged.crash({ mode: 'drop-all' });
      disk.powerCutAfter(cut);
      await expect(Pool.import(disk, { paths: ['/vdev0'], dirtyMaxBytes: 16 * KiB })).rejects.toMatchObject({
        kind: 'EIO',
      });
      const again = await Pool.import(disk.crash({ mode: 'random-subset', seed: cut }), {
        paths: ['/vdev0'],
        dirtyMaxBytes: 16 * KiB,
      });
      expect((await again.openVolume('tank/v').read(0, MiB)).equals(expected)).toBe(true);
    }
  });
});

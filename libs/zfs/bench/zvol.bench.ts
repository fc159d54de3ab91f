// zvol I/O through the engine against raw file I/O on the same disk, in one run: 4 KiB random writes
// with a flush after each (synchronous writes: the intent log's path) and 1 MiB sequential writes then
// reads (the txg path), plus write amplification (bytes written to the vdev / bytes written by the user).
// BENCH_ZVOL_MIB sets the volume size (default 256).
import { NodeFileIO } from '@dominion/fsio';
import { tempDir, timeSequential, writeBenchResult } from '@dominion/testing';
import { statSync } from 'node:fs';
import { Pool } from '../src/index.js';
import { pattern } from '../test/helpers.js';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_ZVOL_MIB ?? 256) * MiB;
const RANDOM_N = Number(process.env.BENCH_N ?? 2000);

describe('zvol vs raw file', () => {
  it(`4K random write+flush and 1M sequential write/read on a ${SIZE / MiB} MiB zvol`, async () => {
    const dir = tempDir('zfs-bench-');
    const io = new NodeFileIO();
    try {
      const raw = await io.open(`${dir.path}/raw`, { create: true });
      await raw.truncate(SIZE);
      const pool = await Pool.create(io, {
        name: 'bench',
        vdevs: [{ path: `${dir.path}/vdev0`, size: SIZE * 2 + 256 * MiB }],
      });
      const vol = await pool.createVolume('bench/v', { volsize: SIZE, volblocksize: 16 * 1024 });
      const block4k = pattern(1, 4096);
      let seed = 1;
      const offset4k = (): number => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return (seed % (SIZE / 4096)) * 4096;
      };

      const rawRandom = await timeSequential(
        async () => {
          await raw.write(offset4k(), block4k);
          await raw.datasync();
        },
        RANDOM_N,
        100,
      );
      const zvolRandom = await timeSequential(
        async () => {
          await vol.write(offset4k(), block4k);
          await vol.flush();
        },
        RANDOM_N,
        100,
      );
      await pool.sync();

      const chunk = pattern(2, MiB);
      const seq = async (write: (at: number) => Promise<void>, done: () => Promise<unknown>): Promise<number> => {
        const t0 = process.hrtime.bigint();
        for (let at = 0; at < SIZE; at += MiB) await write(at);
        await done();
        return Number(process.hrtime.bigint() - t0) / 1e9;
      };
      const vdevBefore = statSync(`${dir.path}/vdev0`).blocks * 512;
      const rawSeqW = await seq(
        (at) => raw.write(at, chunk),
        () => raw.datasync(),
      );
      const zvolSeqW = await seq(
        (at) => vol.write(at, chunk),
        () => pool.sync(),
      );
      const vdevAfter = statSync(`${dir.path}/vdev0`).blocks * 512;
      await pool.export();
      const again = await Pool.import(io, { paths: [`${dir.path}/vdev0`], cacheBytes: 1 * MiB });
      const v2 = again.openVolume('bench/v');
      const rawSeqR = await seq(
        async (at) => void (await raw.read(at, MiB)),
        () => Promise.resolve(),
      );
      const zvolSeqR = await seq(
        async (at) => void (await v2.read(at, MiB)),
        () => Promise.resolve(),
      );
      await again.export();
      await raw.close();
      const mbs = (s: number): number => Math.round(SIZE / MiB / s);
      writeBenchResult(
        'zfs-zvol',
        [
          { case: '4K random write + fdatasync, raw file', ...rawRandom },
          { case: '4K random write + flush (intent log), zvol', ...zvolRandom },
          {
            case: '1M sequential write + sync, MB/s',
            raw: mbs(rawSeqW),
            zvol: mbs(zvolSeqW),
            ratio_zvol_over_raw: Math.round((rawSeqW / zvolSeqW) * 100) / 100,
            goal: 0.7,
          },
          {
            case: '1M sequential read (cold cache), MB/s',
            raw: mbs(rawSeqR),
            zvol: mbs(zvolSeqR),
            ratio_zvol_over_raw: Math.round((rawSeqR / zvolSeqR) * 100) / 100,
            goal: 0.7,
          },
          {
            case: 'sequential write amplification (vdev bytes grown / bytes written; lower bound: sparse growth)',
            value: Math.round(((vdevAfter - vdevBefore) / SIZE) * 100) / 100,
          },
        ],
        'one file vdev and one raw file in the same temp directory; zvol volblocksize 16K, fletcher4, compression off',
      );
      expect(zvolRandom.n).toBe(RANDOM_N);
    } finally {
      dir.remove();
    }
  }, 600_000);
});

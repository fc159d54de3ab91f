// compression=lz4 on a volume: blocks that shrink by at least 1/8 (and by a sector) are stored compressed,
// others as they are; reads give back the data, also after re-import (no cache); compressratio is logical
// over physical; a flipped byte in a compressed block is a checksum error, not garbage.
import { CrashSimFileIO } from '@dominion/fsio';
import { Pool } from '../src/index.js';
import { KiB, MiB, pattern } from './helpers.js';

const BS = 128 * KiB;
const text = (n: number): Buffer =>
  Buffer.from('zvol block of text, compressible. '.repeat(Math.ceil(n / 34)).slice(0, n), 'latin1');
/** `random` bytes of noise then zeros: lz4 saves about the zeros. */
const partly = (random: number): Buffer => Buffer.concat([pattern(random, random), Buffer.alloc(BS - random)]);

async function setup(compression: string): Promise<{ pool: Pool; io: CrashSimFileIO }> {
  const io = new CrashSimFileIO();
  const pool = await Pool.create(io, { name: 'tank', vdevs: [{ path: '/v0', size: 32 * MiB }] });
  await pool.createVolume('tank/v', { volsize: 4 * MiB, volblocksize: BS, compression });
  return { pool, io };
}

const blocks = [
  text(BS), // compresses far
  pattern(1, BS), // noise: does not compress
  partly(BS - 20 * KiB), // saves about 15%: compressed
  partly(BS - 12 * KiB), // saves about 9%, less than 1/8: stored as is
];

describe('compression=lz4', () => {
  it('stores what saves 1/8 compressed, the rest as is, and reads all back after re-import', async () => {
    const { pool, io } = await setup('lz4');
    const vol = pool.openVolume('tank/v');
    for (let i = 0; i < blocks.length; i++) await vol.write(i * BS, blocks[i]);
    await pool.sync();
    const map = (await pool.blockMap()).filter((e) => e.owner === 'tank/v' && e.type === 'data');
    const by = (blkid: number): (typeof map)[number] => map.find((e) => e.blkid === blkid)!;
    expect(by(0)).toMatchObject({ compression: 'lz4', lsize: BS });
    expect(by(0).asize).toBeLessThanOrEqual(8 * KiB);
    expect(by(1)).toMatchObject({ compression: 'off', lsize: BS, psize: BS, asize: BS });
    expect(by(2)).toMatchObject({ compression: 'lz4', asize: BS - 16 * KiB });
    expect(by(3)).toMatchObject({ compression: 'off', asize: BS });

    const info = pool.get('tank/v');
    expect(info.compression).toBe('lz4');
    expect(info.logicalreferenced - info.referenced).toBe(BS - by(0).asize + 16 * KiB);
    expect(info.compressratio).toBeCloseTo(info.logicalreferenced / info.referenced, 2);
    expect(info.compressratio).toBeGreaterThan(1.2);
    expect((await pool.verify()).ok).toBe(true);
    await pool.export();

    const again = await Pool.import(io, { paths: ['/v0'] });
    const v = again.openVolume('tank/v');
    for (let i = 0; i < blocks.length; i++) expect((await v.read(i * BS, BS)).equals(blocks[i])).toBe(true);
    expect(again.get('tank/v').compressratio).toBe(info.compressratio);
    await again.close();
  });

  it('with compression=off stores everything as is (ratio 1.00)', async () => {
    const { pool } = await setup('off');
    await pool.openVolume('tank/v').write(0, text(BS));
    await pool.sync();
    const data = (await pool.blockMap()).filter((e) => e.owner === 'tank/v' && e.type === 'data');
    expect(data).toMatchObject([{ compression: 'off', asize: BS }]);
    expect(pool.get('tank/v')).toMatchObject({ compression: 'off', compressratio: 1 });
  });

  it('keeps the ratio right through snapshots and overwrites', async () => {
    const { pool } = await setup('on');
    const vol = pool.openVolume('tank/v');
    await vol.write(0, text(4 * BS));
    await pool.snapshot('tank/v@a');
    await vol.write(0, pattern(2, 4 * BS));
    await pool.sync();
    expect(pool.get('tank/v@a').compressratio).toBeGreaterThan(5);
    expect(pool.get('tank/v').compressratio).toBeLessThan(1.01);
    expect((await pool.verify()).ok).toBe(true);
    expect((await pool.openVolume('tank/v@a').read(0, 4 * BS)).equals(text(4 * BS))).toBe(true);
  });

  it('fails a read of a corrupted compressed block with EIO', async () => {
    const { pool, io } = await setup('lz4');
    await pool.openVolume('tank/v').write(0, text(2 * BS));
    await pool.sync();
    const target = (await pool.blockMap()).find((e) => e.owner === 'tank/v' && e.blkid === 1)!;
    expect(target.compression).toBe('lz4');
    await pool.export();
    const fh = await io.open('/v0');
    await fh.write(target.offset + 40, Buffer.from([0x55, 0xaa]));
    await fh.close();
    const again = await Pool.import(io, { paths: ['/v0'] });
    const v = again.openVolume('tank/v');
    await expect(v.read(BS, 10)).rejects.toMatchObject({ kind: 'EIO', message: expect.stringMatching(/checksum/) });
    expect((await v.read(0, BS)).equals(text(BS))).toBe(true);
    await again.close();
  });

  it('refuses zstd (not in Node 20) and unknown values at create', async () => {
    const { pool } = await setup('off');
    await expect(pool.createVolume('tank/z', { volsize: MiB, compression: 'zstd' })).rejects.toMatchObject({
      kind: 'EOPNOTSUPP',
    });
    await expect(pool.createVolume('tank/z', { volsize: MiB, compression: 'gzip-99' })).rejects.toMatchObject({
      kind: 'EINVAL',
    });
    await expect(pool.createVolume('tank/z', { volsize: MiB, compression: 'lz4' })).resolves.toBeDefined();
  });
});

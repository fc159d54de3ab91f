// Mirrors on real files: every copy is written; a read that meets a bad copy falls back to another child
// and rewrites the bad one; scrub checks every copy of every block; a missing or unreadable child leaves the
// pool DEGRADED but working; a child that comes back stale is brought up to date by scrub.
import { copyFileSync, unlinkSync } from 'node:fs';
import { NodeFileIO } from '@dominion/fsio';
import { tempDir } from '@dominion/testing';
import { Pool, type PoolStatus } from '../src/index.js';
import { KiB, MiB, pattern } from './helpers.js';

const BS = 16 * KiB;
const DATA = pattern(11, 24 * BS);

async function poke(io: NodeFileIO, path: string, at: number, bytes: Buffer): Promise<void> {
  const fh = await io.open(path);
  await fh.write(at, bytes);
  await fh.sync();
  await fh.close();
}

async function peek(io: NodeFileIO, path: string, at: number, length: number): Promise<Buffer> {
  const fh = await io.open(path, { readOnly: true });
  try {
    return await fh.read(at, length);
  } finally {
    await fh.close();
  }
}

const leaves = (s: PoolStatus): NonNullable<PoolStatus['vdevs'][number]['children']> => s.vdevs[0].children!;

describe('mirror', () => {
  const io = new NodeFileIO();
  let dir: ReturnType<typeof tempDir>;
  let a: string;
  let b: string;
  beforeEach(async () => {
    dir = tempDir('zfs-mirror-');
    a = `${dir.path}/a`;
    b = `${dir.path}/b`;
    const pool = await Pool.create(io, { name: 'tank', vdevs: [{ type: 'mirror', paths: [a, b], size: 16 * MiB }] });
    const vol = await pool.createVolume('tank/v', { volsize: 2 * MiB, volblocksize: BS });
    await vol.write(0, DATA);
    await pool.export();
  });
  afterEach(() => dir.remove());

  async function dataBlocks(): Promise<{ blkid: number; offset: number }[]> {
    const pool = await Pool.import(io, { paths: [a, b] });
    const map = await pool.blockMap();
    await pool.export();
    return map
      .filter((e) => e.owner === 'tank/v' && e.type === 'data')
      .map((e) => ({ blkid: e.blkid!, offset: e.offset }))
      .sort((x, y) => x.blkid - y.blkid);
  }

  it('writes both children identically and reports the mirror ONLINE', async () => {
    const blocks = await dataBlocks();
    expect(blocks).toHaveLength(24);
    for (const { blkid, offset } of blocks.slice(0, 3)) {
      const copyA = await peek(io, a, offset, BS);
      expect(copyA.equals(DATA.subarray(blkid * BS, (blkid + 1) * BS))).toBe(true);
      expect(copyA.equals(await peek(io, b, offset, BS))).toBe(true);
    }
    const pool = await Pool.import(io, { paths: [a, b] });
    expect(pool.status()).toMatchObject({
      health: 'ONLINE',
      vdevs: [{ path: 'mirror-0', type: 'mirror', state: 'ONLINE', children: [{ path: a }, { path: b }] }],
    });
    await pool.close();
  });

  it('reads around a bad copy, counts it on its child and heals it on disk', async () => {
    const { blkid, offset } = (await dataBlocks())[5];
    await poke(io, a, offset + 100, Buffer.from('garbage'));
    const pool = await Pool.import(io, { paths: [a, b] });
    const got = await pool.openVolume('tank/v').read(blkid * BS, BS);
    expect(got.equals(DATA.subarray(blkid * BS, (blkid + 1) * BS))).toBe(true);
    expect(leaves(pool.status())).toMatchObject([
      { path: a, checksumErrors: 1, repairedBytes: BS },
      { path: b, checksumErrors: 0, repairedBytes: 0 },
    ]);
    expect(pool.status().dataErrors).toBe(0);
    await pool.export();
    // Healed on disk: child a holds the good copy again.
    expect((await peek(io, a, offset, BS)).equals(DATA.subarray(blkid * BS, (blkid + 1) * BS))).toBe(true);
  });

  it('fails with EIO when every copy is bad, and counts a data error', async () => {
    const { blkid, offset } = (await dataBlocks())[2];
    await poke(io, a, offset + 5, Buffer.from('bad a'));
    await poke(io, b, offset + 9, Buffer.from('bad b'));
    const pool = await Pool.import(io, { paths: [a, b] });
    const vol = pool.openVolume('tank/v');
    await expect(vol.read(blkid * BS, 10)).rejects.toMatchObject({ kind: 'EIO' });
    expect(pool.status().dataErrors).toBe(1);
    expect(leaves(pool.status()).map((c) => c.checksumErrors)).toEqual([1, 1]);
    // The block beside it still reads.
    expect((await vol.read((blkid + 1) * BS, BS)).equals(DATA.subarray((blkid + 1) * BS, (blkid + 2) * BS))).toBe(true);
    await pool.close();
  });

  it('scrubs every copy: finds and repairs bad copies normal reads never touch, with progress', async () => {
    const blocks = await dataBlocks();
    // Child b is only read when a fails, so these would go unnoticed without a scrub.
    for (const { offset } of blocks.slice(0, 4)) await poke(io, b, offset + 1, Buffer.from('x'));
    const pool = await Pool.import(io, { paths: [a, b] });
    expect((await pool.openVolume('tank/v').read(0, 4 * BS)).equals(DATA.subarray(0, 4 * BS))).toBe(true);
    expect(leaves(pool.status())[1].checksumErrors).toBe(0);

    const seen: [number, number][] = [];
    const result = await pool.scrub((examined, total) => seen.push([examined, total]));
    expect(result).toMatchObject({ state: 'finished', errors: 4, repairedBytes: 4 * BS, unrecoverable: 0 });
    expect(result.blocks).toBeGreaterThan(24);
    expect(result.examinedBytes).toBe(result.totalBytes);
    expect(seen.length).toBe(result.blocks);
    expect(seen.every(([e, t], i) => t === result.totalBytes && (i === 0 || e > seen[i - 1][0]))).toBe(true);
    expect(pool.status().scan).toEqual(result);
    expect(leaves(pool.status())[1]).toMatchObject({ checksumErrors: 4, repairedBytes: 4 * BS });

    const again = await pool.scrub();
    expect(again).toMatchObject({ errors: 0, repairedBytes: 0 });
    await pool.export();
    for (const { offset } of blocks.slice(0, 4))
      expect((await peek(io, a, offset, BS)).equals(await peek(io, b, offset, BS))).toBe(true);
  });

  it('imports DEGRADED without a child, keeps working, and refuses with none left', async () => {
    unlinkSync(b);
    const pool = await Pool.import(io, { paths: [a, b] });
    expect(pool.status()).toMatchObject({
      health: 'DEGRADED',
      vdevs: [{ state: 'DEGRADED', children: [{ path: a, state: 'ONLINE' }, { state: 'UNAVAIL' }] }],
    });
    const vol = pool.openVolume('tank/v');
    expect((await vol.read(0, DATA.length)).equals(DATA)).toBe(true);
    await vol.write(0, pattern(12, BS));
    await vol.flush();
    await pool.sync();
    await pool.export();

    unlinkSync(a);
    await expect(Pool.import(io, { paths: [a, b] })).rejects.toMatchObject({ kind: 'ENOENT' });
  });

  it('treats a child whose four labels are destroyed as UNAVAIL and reads from the other', async () => {
    await poke(io, b, 0, Buffer.alloc(512 * KiB, 0xaa));
    await poke(io, b, 16 * MiB - 512 * KiB, Buffer.alloc(512 * KiB, 0xaa));
    const pool = await Pool.import(io, { paths: [a, b] });
    expect(pool.status().health).toBe('DEGRADED');
    expect(leaves(pool.status())[1].state).toBe('UNAVAIL');
    expect((await pool.openVolume('tank/v').read(0, DATA.length)).equals(DATA)).toBe(true);
    await pool.close();
  });

  it('brings a stale child back up to date with a scrub (resilver)', async () => {
    const stale = `${dir.path}/b.old`;
    copyFileSync(b, stale);
    unlinkSync(b);
    const degraded = await Pool.import(io, { paths: [a] });
    const NEW = pattern(13, 8 * BS);
    await degraded.openVolume('tank/v').write(0, NEW);
    await degraded.snapshot('tank/v@later');
    await degraded.export();
    copyFileSync(stale, b);

    const pool = await Pool.import(io, { paths: [a, b] });
    expect(pool.status().health).toBe('ONLINE');
    const scrub = await pool.scrub();
    expect(scrub.errors).toBeGreaterThan(0);
    expect(scrub.unrecoverable).toBe(0);
    await pool.export();

    // Child b alone now holds the pool as it is.
    unlinkSync(a);
    const onlyB = await Pool.import(io, { paths: [b] });
    expect(onlyB.status().health).toBe('DEGRADED');
    const expected = Buffer.concat([NEW, DATA.subarray(NEW.length)]);
    expect((await onlyB.openVolume('tank/v').read(0, DATA.length)).equals(expected)).toBe(true);
    expect((await onlyB.verify()).ok).toBe(true);
    await onlyB.close();
  });
});

describe('scrub without redundancy', () => {
  it('finds a bad block it cannot repair', async () => {
    const io = new NodeFileIO();
    const dir = tempDir('zfs-scrub-');
    try {
      const path = `${dir.path}/v0`;
      const pool = await Pool.create(io, { name: 'tank', vdevs: [{ path, size: 16 * MiB }] });
      await (await pool.createVolume('tank/v', { volsize: MiB, volblocksize: BS })).write(0, pattern(1, 4 * BS));
      await pool.export();
      const again = await Pool.import(io, { paths: [path] });
      const target = (await again.blockMap()).find((e) => e.owner === 'tank/v' && e.blkid === 1)!;
      expect(await again.scrub()).toMatchObject({ errors: 0, unrecoverable: 0 });
      await again.export();
      await poke(io, path, target.offset + 7, Buffer.from('!'));
      const pool2 = await Pool.import(io, { paths: [path] });
      expect(await pool2.scrub()).toMatchObject({ errors: 1, repairedBytes: 0, unrecoverable: 1 });
      expect(pool2.status()).toMatchObject({ health: 'ONLINE', dataErrors: 1, vdevs: [{ checksumErrors: 1 }] });
      await pool2.close();
    } finally {
      dir.remove();
    }
  });
});

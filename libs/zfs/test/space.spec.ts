// Sparse volumes, discard, zero blocks, the allocator, running out of space.
import { CrashSimFileIO } from '@dominion/fsio';
import { Pool, SpaceAllocator, ZfsError } from '../src/index.js';
import { KiB, MiB, pattern } from './helpers.js';

describe('space', () => {
  it('takes no space for what a sparse volume never wrote; holes read as zeros', async () => {
    const io = new CrashSimFileIO();
    const pool = await Pool.create(io, { name: 'tank', vdevs: [{ path: '/vdev0', size: 16 * MiB }] });
    const empty = pool.status().allocated;
    // 1 TiB of volume on a 16 MiB pool: only what is written is allocated.
    const vol = await pool.createVolume('tank/big', { volsize: 2 ** 40, volblocksize: 16 * KiB, sparse: true });
    expect(pool.get('tank/big').referenced).toBe(4 * KiB); // the objset block alone
    await vol.write(0, pattern(1, 16 * KiB));
    await vol.write(2 ** 40 - 16 * KiB, pattern(2, 16 * KiB));
    await pool.sync();
    const info = pool.get('tank/big');
    // 2^26 blocks take 4 levels of 128-way indirect blocks: the two written blocks share the top one and
    // have three more each. Plus the objset block.
    expect(info.referenced).toBe(4 * KiB + 2 * 16 * KiB + (1 + 2 * 3) * 16 * KiB);
    expect(pool.status().allocated - empty).toBeLessThan(512 * KiB);
    expect((await vol.read(2 ** 39, 64 * KiB)).equals(Buffer.alloc(64 * KiB))).toBe(true);
    expect((await vol.read(2 ** 40 - 16 * KiB, 16 * KiB)).equals(pattern(2, 16 * KiB))).toBe(true);
  });

  it('frees blocks on discard and stores all-zero blocks as holes', async () => {
    const io = new CrashSimFileIO();
    const pool = await Pool.create(io, { name: 'tank', vdevs: [{ path: '/vdev0', size: 16 * MiB }] });
    const vol = await pool.createVolume('tank/v', { volsize: 4 * MiB, volblocksize: 16 * KiB });
    const base = pool.get('tank/v').referenced;
    await vol.write(0, pattern(1, MiB));
    await pool.sync();
    const full = pool.get('tank/v').referenced;
    expect(full - base).toBeGreaterThanOrEqual(MiB);

    await vol.discard(0, MiB - 16 * KiB); // all but the last block
    await vol.write(MiB - 16 * KiB, Buffer.alloc(16 * KiB)); // zeros: a hole too
    await pool.sync();
    expect(pool.get('tank/v').referenced).toBe(base);
    expect((await vol.read(0, MiB)).equals(Buffer.alloc(MiB))).toBe(true);

    // A discard that does not cover a whole block zeroes its part and keeps the rest.
    await vol.write(MiB, pattern(2, 16 * KiB));
    await vol.discard(MiB + 100, 200);
    const expected = pattern(2, 16 * KiB);
    expected.fill(0, 100, 300);
    expect((await vol.read(MiB, 16 * KiB)).equals(expected)).toBe(true);
    expect((await pool.verify()).problems).toEqual([]);
  });

  it('refuses writes with ENOSPC when the pool is full, while discards still free space', async () => {
    const io = new CrashSimFileIO();
    const pool = await Pool.create(io, {
      name: 'tank',
      vdevs: [{ path: '/vdev0', size: 4 * MiB }],
      logSize: 256 * KiB,
    });
    const vol = await pool.createVolume('tank/v', { volsize: 8 * MiB, volblocksize: 16 * KiB, sparse: true });
    let written = 0;
    let error: unknown;
    try {
      for (; written < 8 * MiB; written += 64 * KiB) await vol.write(written, pattern(written, 64 * KiB));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ZfsError);
    expect(error).toMatchObject({ kind: 'ENOSPC', message: expect.stringContaining('out of space') });
    expect(written).toBeGreaterThan(MiB);
    expect(pool.status().health).toBe('ONLINE');
    // Everything acknowledged before the refusal is intact, and freeing space makes writes possible again.
    expect((await vol.read(0, 64 * KiB)).equals(pattern(0, 64 * KiB))).toBe(true);
    await vol.discard(0, MiB);
    await pool.sync();
    await vol.write(0, pattern(9, 64 * KiB));
    await pool.sync();
    expect((await pool.verify()).problems).toEqual([]);
  });
});

describe('SpaceAllocator', () => {
  it('allocates whole sectors first-fit per txg, frees, and refuses double allocation and double free', () => {
    const a = new SpaceAllocator(0, 1024 * KiB, 1024 * KiB + 64 * KiB); // 16 sectors
    expect(a.alloc(8 * KiB)).toBe(1024 * KiB);
    expect(a.alloc(4 * KiB)).toBe(1032 * KiB);
    a.free(1024 * KiB, 8 * KiB);
    expect(a.alloc(4 * KiB)).toBe(1036 * KiB); // next-fit within a txg
    a.rewind();
    expect(a.alloc(8 * KiB)).toBe(1024 * KiB); // a new txg reuses freed space first
    expect(a.extents()).toEqual([{ offset: 1024 * KiB, size: 16 * KiB }]);
    expect(a.alloc(64 * KiB)).toBeUndefined();
    expect(a.alloc(48 * KiB)).toBe(1040 * KiB);
    expect(a.freeBytes).toBe(0);
    expect(() => a.markAllocated(1024 * KiB, 4 * KiB)).toThrow(expect.objectContaining({ kind: 'EIO' }));
    a.free(1040 * KiB, 4 * KiB);
    expect(() => a.free(1040 * KiB, 4 * KiB)).toThrow(expect.objectContaining({ kind: 'EIO' }));
    expect(() => a.alloc(1000)).toThrow(expect.objectContaining({ kind: 'EINVAL' }));
  });
});

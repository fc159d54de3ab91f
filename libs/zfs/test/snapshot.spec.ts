// Snapshots: O(1) creation, reads, rollback, destroy by the birth-time rule, and their space accounting.
import { CrashSimFileIO } from '@dominion/fsio';
import { Pool, type BlockMapEntry } from '../src/index.js';
import { KiB, MiB, pattern } from './helpers.js';

const BS = 16 * KiB;

async function newPool(size = 32 * MiB): Promise<{ io: CrashSimFileIO; pool: Pool }> {
  const io = new CrashSimFileIO();
  const pool = await Pool.create(io, { name: 'tank', vdevs: [{ path: '/vdev0', size }] });
  return { io, pool };
}

const dataBlocks = (map: BlockMapEntry[]): Set<string> =>
  new Set(map.filter((e) => e.type === 'data').map((e) => `${e.vdev}:${e.offset}`));

describe('snapshots', () => {
  it('keep their content when the volume is overwritten, also across export and import', async () => {
    const { io, pool } = await newPool();
    const vol = await pool.createVolume('tank/v', { volsize: MiB });
    const before = pattern(1, MiB);
    await vol.write(0, before);
    await pool.snapshot('tank/v@one');
    const after = pattern(2, MiB);
    await vol.write(0, after);
    await vol.discard(5 * BS, 3 * BS);
    after.fill(0, 5 * BS, 8 * BS);
    const snap = pool.openVolume('tank/v@one');
    expect((await snap.read(0, MiB)).equals(before)).toBe(true);
    expect((await vol.read(0, MiB)).equals(after)).toBe(true);
    await pool.export();

    const again = await Pool.import(io, { paths: ['/vdev0'] });
    expect((await again.openVolume('tank/v@one').read(0, MiB)).equals(before)).toBe(true);
    expect((await again.openVolume('tank/v').read(0, MiB)).equals(after)).toBe(true);
    expect((await again.verify()).problems).toEqual([]);
  });

  it('take the same I/O whatever the size of the volume (O(1))', async () => {
    const cost = async (written: number): Promise<number> => {
      const { io, pool } = await newPool(64 * MiB);
      const vol = await pool.createVolume('tank/v', { volsize: 32 * MiB });
      for (let at = 0; at < written; at += MiB) await vol.write(at, Buffer.alloc(MiB, 1 + at / MiB));
      await pool.sync();
      const before = io.opCount;
      await pool.snapshot('tank/v@s');
      return io.opCount - before;
    };
    const small = await cost(MiB);
    const large = await cost(24 * MiB);
    expect(large).toBe(small);
    expect(small).toBeLessThan(20);
  });

  it('roll back to exactly the latest snapshot, durably, dropping writes logged since', async () => {
    const { io, pool } = await newPool();
    const vol = await pool.createVolume('tank/v', { volsize: MiB, volblocksize: 4 * KiB });
    const original = pattern(3, MiB);
    await vol.write(0, original);
    await pool.snapshot('tank/v@a');
    await vol.write(100, pattern(4, 300 * KiB));
    await pool.sync();
    await vol.discard(0, 64 * KiB);
    await vol.write(MiB - 10, Buffer.alloc(10, 9));
    await vol.flush(); // these writes are in the intent log, not in a txg
    await pool.snapshot('tank/v@b');
    await vol.write(0, Buffer.alloc(10, 1));

    // Only the latest snapshot can be the target, unless later ones go (-r).
    await expect(pool.rollback('tank/v@a')).rejects.toMatchObject({
      kind: 'EEXIST',
      message: expect.stringContaining('tank/v@b'),
    });
    await pool.destroySnapshot('tank/v@b');
    await pool.rollback('tank/v@a');
    expect((await vol.read(0, MiB)).equals(original)).toBe(true);
    expect(pool.get('tank/v').usedbysnapshots).toBe(0);
    expect((await pool.verify()).problems).toEqual([]);

    // Rollback is a txg of its own: a power cut right after it keeps it.
    const disk = io.crash({ mode: 'drop-all' });
    const again = await Pool.import(disk, { paths: ['/vdev0'] });
    expect((await again.openVolume('tank/v').read(0, MiB)).equals(original)).toBe(true);
  });

  it('free on destroy only the blocks born after the previous snapshot and dead before the next', async () => {
    const { pool } = await newPool();
    const vol = await pool.createVolume('tank/v', { volsize: MiB, volblocksize: BS });
    await vol.write(0, pattern(1, 10 * BS)); // generation A: blocks 0-9
    await pool.snapshot('tank/v@s1');
    await vol.write(0, pattern(2, 5 * BS)); // generation B: blocks 0-4
    await pool.snapshot('tank/v@s2');
    const bornInB = dataBlocks(await pool.blockMap());
    await vol.write(0, pattern(3, 2 * BS)); // generation C: blocks 0-1 (kills B's 0-1)
    await pool.snapshot('tank/v@s3');
    await vol.write(0, pattern(4, BS)); // head: block 0 again (kills C's 0)
    await pool.sync();

    const mapBefore = await pool.blockMap();
    const owners = new Map(mapBefore.map((e) => [`${e.vdev}:${e.offset}`, e]));
    const before = dataBlocks(mapBefore);
    // B's blocks 0 and 1: referenced by s2 only.
    const s2Only = [...before].filter((k) => owners.get(k)!.owner === 'tank/v@s2');
    expect(s2Only.map((k) => owners.get(k)!.blkid).sort()).toEqual([0, 1]);
    expect(s2Only.every((k) => bornInB.has(k))).toBe(true);
    const s2Used = pool.get('tank/v@s2').used;
    expect(s2Used).toBeGreaterThanOrEqual(2 * BS);

    const s1 = await pool.openVolume('tank/v@s1').read(0, MiB);
    const s3 = await pool.openVolume('tank/v@s3').read(0, MiB);
    const allocated = pool.status().allocated;
    await pool.destroySnapshot('tank/v@s2');
    const after = dataBlocks(await pool.blockMap());
    expect([...before].filter((k) => !after.has(k)).sort()).toEqual(s2Only.sort());
    expect([...after].every((k) => before.has(k))).toBe(true);
    // The snapshot's unique bytes came back, plus the deadlist blocks that listed them (give or take the
    // MOS and space map blocks, rewritten every txg).
    const returned = allocated - pool.status().allocated;
    expect(returned).toBeGreaterThanOrEqual(s2Used);
    expect(returned).toBeLessThanOrEqual(s2Used + 2 * BS);
    expect((await pool.openVolume('tank/v@s1').read(0, MiB)).equals(s1)).toBe(true);
    expect((await pool.openVolume('tank/v@s3').read(0, MiB)).equals(s3)).toBe(true);
    expect((await pool.verify()).problems).toEqual([]);

    // Now the oldest, then the newest: each leaves consistent deadlists.
    await pool.destroySnapshot('tank/v@s1');
    expect((await pool.verify()).problems).toEqual([]);
    await pool.destroySnapshot('tank/v@s3');
    expect((await pool.verify()).problems).toEqual([]);
    expect(pool.get('tank/v').usedbysnapshots).toBe(0);
    expect(pool.list().filter((d) => d.type === 'snapshot')).toEqual([]);
    await expect(pool.destroySnapshot('tank/v@s3')).rejects.toMatchObject({ kind: 'ENOENT' });
  });

  it('account used, referenced and usedbysnapshots', async () => {
    const { pool } = await newPool();
    const vol = await pool.createVolume('tank/v', { volsize: 4 * MiB, volblocksize: BS, sparse: true });
    await vol.write(0, pattern(1, 8 * BS));
    await pool.sync();
    const v1 = pool.get('tank/v');
    expect(v1.usedbysnapshots).toBe(0);
    expect(v1.used).toBe(v1.referenced);
    expect(v1.referenced).toBeGreaterThanOrEqual(8 * BS);

    await pool.snapshot('tank/v@s');
    expect(pool.get('tank/v@s').referenced).toBe(v1.referenced);
    expect(pool.get('tank/v@s').used).toBe(0); // nothing is its alone yet

    await vol.write(0, pattern(2, 3 * BS)); // the snapshot now alone holds 3 data blocks (+ old metadata)
    await pool.sync();
    const v2 = pool.get('tank/v');
    const snap = pool.get('tank/v@s');
    expect(snap.used).toBeGreaterThanOrEqual(3 * BS);
    expect(v2.usedbysnapshots).toBe(snap.used);
    expect(v2.used).toBe(v2.referenced + v2.usedbysnapshots);
    expect(pool.get('tank').used).toBe(v2.used);

    await pool.destroySnapshot('tank/v@s');
    expect(pool.get('tank/v').usedbysnapshots).toBe(0);
    expect(pool.get('tank/v').used).toBe(pool.get('tank/v').referenced);
  });

  it('refuse bad names and duplicates, and accept the same name on another volume', async () => {
    const { pool } = await newPool();
    await pool.createVolume('tank/a', { volsize: MiB });
    await pool.createVolume('tank/b', { volsize: MiB });
    await pool.snapshot('tank/a@x');
    await expect(pool.snapshot('tank/a@x')).rejects.toMatchObject({ kind: 'EEXIST' });
    await expect(pool.snapshot('tank/a')).rejects.toMatchObject({ kind: 'EINVAL' });
    await expect(pool.snapshot('tank/nope@x')).rejects.toMatchObject({ kind: 'ENOENT' });
    await expect(pool.snapshot('tank/a@bad/name')).rejects.toMatchObject({ kind: 'EINVAL' });
    await expect(pool.snapshot('tank/b@x')).resolves.toBeUndefined();
  });
});

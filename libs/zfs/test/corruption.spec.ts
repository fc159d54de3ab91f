// End-to-end checksums on a real file: flip bytes in a block the pool shows to be referenced, import again
// (so no cache can hide it), and the read fails with EIO while the vdev's checksum error counter counts it.
import { NodeFileIO } from '@dominion/fsio';
import { tempDir } from '@dominion/testing';
import { Pool } from '../src/index.js';
import { MiB, pattern } from './helpers.js';

async function flip(io: NodeFileIO, path: string, at: number): Promise<void> {
  const fh = await io.open(path);
  const [b] = await fh.read(at, 1);
  await fh.write(at, Buffer.from([b ^ 0x01]));
  await fh.sync();
  await fh.close();
}

describe.each(['fletcher4', 'sha256', 'blake3'])('corruption with checksum=%s', (checksum) => {
  const io = new NodeFileIO();
  let dir: ReturnType<typeof tempDir>;
  let path: string;
  beforeEach(async () => {
    dir = tempDir('zfs-corrupt-');
    path = `${dir.path}/vdev0`;
    const pool = await Pool.create(io, { name: 'tank', vdevs: [{ path, size: 16 * MiB }] });
    const vol = await pool.createVolume('tank/vm1', { volsize: 4 * MiB, volblocksize: 16384, checksum });
    await vol.write(0, pattern(7, 10 * 16384));
    await pool.export();
  });
  afterEach(() => dir.remove());

  it('fails the read of a corrupted data block with EIO and counts it; other blocks still read', async () => {
    const before = await Pool.import(io, { paths: [path] });
    const map = await before.blockMap();
    const target = map.find((e) => e.owner === 'tank/vm1' && e.type === 'data' && e.blkid === 3)!;
    expect(target).toMatchObject({ checksumAlgo: checksum, asize: 16384, level: 0 });
    await before.export();

    await flip(io, path, target.offset + 1000);
    const pool = await Pool.import(io, { paths: [path] });
    const vol = pool.openVolume('tank/vm1');
    expect(pool.status().vdevs[0].checksumErrors).toBe(0);
    await expect(vol.read(3 * 16384 + 10, 100)).rejects.toMatchObject({
      kind: 'EIO',
      message: expect.stringMatching(/checksum mismatch/),
    });
    expect(pool.status().vdevs[0].checksumErrors).toBe(1);
    expect((await vol.read(2 * 16384, 16384)).equals(pattern(7, 10 * 16384).subarray(2 * 16384, 3 * 16384))).toBe(true);
    // A partial write over the bad block needs its old contents, so it fails too; a whole-block write replaces it.
    await expect(vol.write(3 * 16384, Buffer.alloc(10, 1))).rejects.toMatchObject({ kind: 'EIO' });
    await vol.write(3 * 16384, Buffer.alloc(16384, 2));
    expect((await vol.read(3 * 16384, 4)).equals(Buffer.alloc(4, 2))).toBe(true);
    await pool.export();
  });

  it('fails reads beneath a corrupted indirect block', async () => {
    const before = await Pool.import(io, { paths: [path] });
    const indirect = (await before.blockMap()).find((e) => e.owner === 'tank/vm1' && e.type === 'indirect')!;
    await before.export();
    await flip(io, path, indirect.offset + 200);
    const pool = await Pool.import(io, { paths: [path] });
    await expect(pool.openVolume('tank/vm1').read(0, 512)).rejects.toMatchObject({ kind: 'EIO' });
    expect(pool.status().vdevs[0].checksumErrors).toBe(1);
    await pool.close();
  });
});

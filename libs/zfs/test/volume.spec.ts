import { CrashSimFileIO, NodeFileIO } from '@dominion/fsio';
import { tempDir } from '@dominion/testing';
import { Pool, ZfsError } from '../src/index.js';

const MiB = 1024 * 1024;

function pattern(seed: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

describe('zvol I/O', () => {
  it('reads back writes at arbitrary offsets and lengths, across txg syncs and an export/import', async () => {
    const dir = tempDir('zfs-vol-');
    try {
      const io = new NodeFileIO();
      const path = `${dir.path}/vdev0`;
      const pool = await Pool.create(io, { name: 'tank', vdevs: [{ path, size: 16 * MiB }] });
      const vol = await pool.createVolume('tank/vm1', { volsize: 4 * MiB, volblocksize: 4096 });
      const model = Buffer.alloc(4 * MiB);
      const writes: [number, number][] = [
        [0, 4096],
        [100, 10],
        [4000, 200],
        [8192, 3 * 4096 + 17],
        [4 * MiB - 5, 5],
        [1234567, 70000],
      ];
      for (const [i, [off, len]] of writes.entries()) {
        const data = pattern(i + 1, len);
        await vol.write(off, data);
        data.copy(model, off);
        if (i === 2) await pool.sync();
      }
      expect((await vol.read(0, 4 * MiB)).equals(model)).toBe(true);
      await pool.sync();
      expect((await vol.read(0, 4 * MiB)).equals(model)).toBe(true);
      await pool.export();

      const again = await Pool.import(io, { paths: [path] });
      const v2 = again.openVolume('tank/vm1');
      expect((await v2.read(0, 4 * MiB)).equals(model)).toBe(true);
      expect((await v2.read(4095, 3)).equals(model.subarray(4095, 4098))).toBe(true);
      const report = await again.verify();
      expect(report.problems).toEqual([]);
      await again.export();
    } finally {
      dir.remove();
    }
  });

  it('refuses I/O outside the volume and writes to a snapshot, and allows the same inside', async () => {
    const io = new CrashSimFileIO();
    const pool = await Pool.create(io, { name: 'tank', vdevs: [{ path: '/vdev0', size: 8 * MiB }] });
    const vol = await pool.createVolume('tank/v', { volsize: MiB });
    await expect(vol.write(MiB - 1, Buffer.alloc(2))).rejects.toMatchObject({ kind: 'EINVAL' });
    await expect(vol.write(MiB - 2, Buffer.from('ok'))).resolves.toBeUndefined();
    await pool.snapshot('tank/v@s');
    const snap = pool.openVolume('tank/v@s');
    await expect(snap.write(0, Buffer.from('x'))).rejects.toBeInstanceOf(ZfsError);
    await expect(snap.write(0, Buffer.from('x'))).rejects.toMatchObject({ kind: 'EROFS' });
    expect((await snap.read(MiB - 2, 2)).toString()).toBe('ok');
  });
});

// FileNbdExport on real sparse files (NodeFileIO) and on the crash-simulating FileIO for durability.
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CrashSimFileIO, NodeFileIO } from '@dominion/fsio';
import { tempDir } from '@dominion/testing';
import { FileNbdExport, NbdError, NBD_STATE_HOLE, NBD_STATE_ZERO } from '../src/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const HZ = NBD_STATE_HOLE | NBD_STATE_ZERO;
const io = new NodeFileIO();
const allocated = (path: string): number => statSync(path).blocks * 512;

describe('FileNbdExport', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir('nbd-file-');
  });
  afterEach(() => tmp.remove());

  it('creates a sparse file whose blocks report HOLE|ZERO until written', async () => {
    const path = join(tmp.path, 'd.img');
    const exp = await FileNbdExport.create(io, path, 16 * MiB);
    expect(statSync(path).size).toBe(16 * MiB);
    expect(allocated(path)).toBeLessThan(64 * KiB);
    expect(await exp.blockStatus(0, 16 * MiB)).toEqual([{ length: 16 * MiB, flags: HZ }]);

    await exp.write(8 * KiB, Buffer.alloc(4 * KiB, 7), { fua: false });
    expect(await exp.blockStatus(0, 16 * MiB)).toEqual([
      { length: 8 * KiB, flags: HZ },
      { length: 4 * KiB, flags: 0 },
      { length: 16 * MiB - 12 * KiB, flags: HZ },
    ]);
    // A query starting mid-block starts its first extent there.
    expect(await exp.blockStatus(9 * KiB, 1)).toEqual([{ length: 3 * KiB, flags: 0 }]);
    expect(Buffer.from(await exp.read(8 * KiB - 1, 3))).toEqual(Buffer.from([0, 7, 7]));
    await exp.close();
  });

  it('writes zeroes by skipping holes, zeroing data blocks, and allocating only with NO_HOLE', async () => {
    const path = join(tmp.path, 'd.img');
    const exp = await FileNbdExport.create(io, path, 4 * MiB);
    await exp.write(0, Buffer.alloc(64 * KiB, 1), { fua: false });
    await exp.writeZeroes(0, 2 * MiB, { fua: false, noHole: false });
    expect(Buffer.from(await exp.read(0, 64 * KiB)).equals(Buffer.alloc(64 * KiB))).toBe(true);
    expect(await exp.blockStatus(0, 4 * MiB)).toEqual([
      { length: 64 * KiB, flags: NBD_STATE_ZERO },
      { length: 4 * MiB - 64 * KiB, flags: HZ },
    ]);
    const before = allocated(path);
    expect(before).toBeLessThan(1 * MiB);
    await exp.writeZeroes(2 * MiB, 1 * MiB, { fua: true, noHole: true });
    expect(allocated(path)).toBeGreaterThanOrEqual(before + 1 * MiB);
    expect((await exp.blockStatus(2 * MiB, 1 * MiB))[0]).toEqual({ length: 1 * MiB, flags: NBD_STATE_ZERO });

    // Zeroing part of a data block leaves it DATA (the rest of it still holds data).
    await exp.write(3 * MiB, Buffer.alloc(4 * KiB, 9), { fua: false });
    await exp.writeZeroes(3 * MiB, 1 * KiB, { fua: false, noHole: false });
    expect((await exp.blockStatus(3 * MiB, 4 * KiB))[0]).toEqual({ length: 4 * KiB, flags: 0 });
    expect(Buffer.from(await exp.read(3 * MiB + 1023, 2))).toEqual(Buffer.from([0, 9]));
    await exp.close();
  });

  it('learns the allocation of an existing file by reading it: ZERO for zero blocks, data otherwise', async () => {
    const path = join(tmp.path, 'old.img');
    const content = Buffer.alloc(64 * KiB);
    content.fill(3, 16 * KiB, 20 * KiB);
    writeFileSync(path, content);
    const exp = await FileNbdExport.open(io, path);
    expect(exp.size).toBe(64 * KiB);
    expect(await exp.blockStatus(0, 64 * KiB)).toEqual([
      { length: 16 * KiB, flags: NBD_STATE_ZERO },
      { length: 4 * KiB, flags: 0 },
      { length: 44 * KiB, flags: NBD_STATE_ZERO },
    ]);
    await exp.write(40 * KiB, Buffer.from('x'), { fua: false });
    expect((await exp.blockStatus(40 * KiB, 4 * KiB))[0]).toEqual({ length: 4 * KiB, flags: 0 });
    await exp.close();
  });

  it('a read-only export refuses writes with EPERM while a writable one on the same file accepts them', async () => {
    const path = join(tmp.path, 'd.img');
    const rw = await FileNbdExport.create(io, path, MiB);
    const ro = await FileNbdExport.open(io, path, { readOnly: true });
    await expect(ro.write(0, Buffer.from('a'), { fua: false })).rejects.toEqual(expect.any(NbdError));
    await expect(ro.writeZeroes(0, 1, { fua: false, noHole: false })).rejects.toMatchObject({ kind: 'EPERM' });
    await rw.write(0, Buffer.from('a'), { fua: false });
    expect(Buffer.from(await ro.read(0, 1)).toString()).toBe('a');
    await rw.close();
    await ro.close();
  });

  it('keeps FUA writes and writes before a completed flush across a power cut, and may lose the rest', async () => {
    const sim = new CrashSimFileIO();
    await sim.mkdirp('/v');
    await sim.fsyncDir('/');
    const exp = await FileNbdExport.create(sim, '/v/d.img', 64 * KiB);
    await exp.write(4 * KiB, Buffer.from('flushed'), { fua: false });
    await exp.flush();
    await exp.write(0, Buffer.from('fua!'), { fua: true });
    await exp.write(8 * KiB, Buffer.from('volatile'), { fua: false });
    const after = sim.crash({ mode: 'drop-all' });
    const disk = await after.readFile('/v/d.img');
    expect(disk.length).toBe(64 * KiB);
    expect(disk.subarray(0, 4).toString()).toBe('fua!');
    expect(disk.subarray(4 * KiB, 4 * KiB + 7).toString()).toBe('flushed');
    expect(disk.subarray(8 * KiB, 8 * KiB + 8).equals(Buffer.alloc(8))).toBe(true);
  });
});

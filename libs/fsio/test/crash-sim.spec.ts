import { CrashSimFileIO, type CrashMode, type FileHandle } from '../src/index.js';

const MODES: CrashMode[] = ['drop-all', 'random-subset', 'reorder-prefix'];
const SEEDS = Array.from({ length: 64 }, (_, i) => i);
const fill = (c: string, n = 512) => Buffer.alloc(n, c);

/** A file whose name and first contents are durable. */
async function durableFile(io: CrashSimFileIO, path: string, data: Buffer): Promise<FileHandle> {
  const fh = await io.open(path, { create: true });
  await fh.write(0, data);
  await fh.sync();
  await io.fsyncDir('/');
  return fh;
}

describe('CrashSimFileIO', () => {
  it('keeps synced writes and drops un-synced ones on a drop-all crash', async () => {
    const io = new CrashSimFileIO();
    const fh = await durableFile(io, '/f', Buffer.from('synced'));
    await fh.write(6, Buffer.from('+lost'));
    expect(await io.readFile('/f')).toEqual(Buffer.from('synced+lost'));
    const after = io.crash({ mode: 'drop-all' });
    expect(await after.readFile('/f')).toEqual(Buffer.from('synced'));
  });

  it('makes a sync cover only the writes issued before it was called', async () => {
    const io = new CrashSimFileIO();
    const fh = await durableFile(io, '/f', Buffer.alloc(0));
    await fh.write(0, Buffer.from('before'));
    const syncing = fh.sync();
    await fh.write(6, Buffer.from('during'));
    await syncing;
    expect(io.crash({ mode: 'drop-all' }).snapshotDisk()).toEqual(new Map([['/f', Buffer.from('before')]]));
  });

  it('makes names durable only by fsyncDir, and file data only by sync', async () => {
    const io = new CrashSimFileIO();
    await io.mkdirp('/a/b');
    const fh = await io.open('/a/b/f', { create: true });
    await fh.write(0, Buffer.from('data'));
    await fh.sync();
    expect(io.snapshotDisk().size).toBe(0); // data synced, names not
    await io.fsyncDir('/');
    await io.fsyncDir('/a');
    expect(io.snapshotDisk().size).toBe(0);
    await io.fsyncDir('/a/b');
    expect(io.snapshotDisk()).toEqual(new Map([['/a/b/f', Buffer.from('data')]]));
    const g = await io.open('/a/b/g', { create: true });
    await g.write(0, Buffer.from('unsynced data'));
    await io.fsyncDir('/a/b');
    expect(io.snapshotDisk()).toEqual(
      new Map([
        ['/a/b/f', Buffer.from('data')],
        ['/a/b/g', Buffer.alloc(0)],
      ]),
    );
  });

  it('counts completed syncs only', async () => {
    const io = new CrashSimFileIO();
    const fh = await io.open('/f', { create: true });
    await fh.write(0, Buffer.from('x'));
    expect(io.fsyncCount).toBe(0);
    await fh.sync();
    await fh.datasync();
    await io.fsyncDir('/');
    expect([io.fsyncCount, io.dirFsyncCount]).toEqual([2, 1]);
    const pending = fh.sync();
    io.crash();
    await expect(pending).rejects.toMatchObject({ kind: 'EIO' });
    expect(io.fsyncCount).toBe(2);
  });

  it('loses the writes of a sync that power cut short', async () => {
    const io = new CrashSimFileIO();
    const fh = await durableFile(io, '/f', Buffer.from('old'));
    await fh.write(0, Buffer.from('new'));
    const syncing = fh.sync();
    const disk = io.crash({ mode: 'drop-all' });
    await expect(syncing).rejects.toMatchObject({ kind: 'EIO' });
    expect(await disk.readFile('/f')).toEqual(Buffer.from('old'));
  });

  it('tears un-synced writes at sector granularity under random-subset', async () => {
    const io = new CrashSimFileIO();
    const fh = await durableFile(io, '/f', fill('o', 1024));
    await fh.write(0, Buffer.concat([fill('A'), fill('B')])); // two sectors
    const seen = new Set<string>();
    for (const seed of SEEDS) {
      const disk = await io.crash({ seed, mode: 'random-subset' }).readFile('/f');
      const first = disk.subarray(0, 512);
      const second = disk.subarray(512);
      expect([fill('o'), fill('A')]).toContainEqual(first);
      expect([fill('o'), fill('B')]).toContainEqual(second);
      seen.add(`${String.fromCharCode(first[0])}${String.fromCharCode(second[0])}`);
    }
    expect([...seen].sort()).toEqual(['AB', 'Ao', 'oB', 'oo']);
  });

  it('tears at the configured sector size', async () => {
    const io = new CrashSimFileIO({ sectorSize: 4096 });
    const fh = await durableFile(io, '/f', Buffer.alloc(0));
    await fh.write(0, fill('A', 8192));
    const seen = new Set<string>();
    for (const seed of SEEDS) {
      const disk = await io.crash({ seed }).readFile('/f');
      const sectors = [0, 4096].filter((at) => at < disk.length).map((at) => disk.subarray(at, at + 4096));
      for (const s of sectors) expect([fill('A', 4096), Buffer.alloc(4096)]).toContainEqual(s);
      seen.add(sectors.map((s) => (s[0] === 0 ? '0' : 'A')).join('')); // a lone second sector leaves a hole
    }
    expect([...seen].sort()).toEqual(['', '0A', 'A', 'AA']);
  });

  it('lets a later write survive while an earlier one is lost (random-subset reorders)', async () => {
    const io = new CrashSimFileIO();
    const fh = await durableFile(io, '/f', fill('o'));
    await fh.write(0, fill('A'));
    await fh.write(0, fill('B'));
    const seen = new Set<string>();
    for (const seed of SEEDS) seen.add(String.fromCharCode((await io.crash({ seed }).readFile('/f'))[0]));
    expect([...seen].sort()).toEqual(['A', 'B', 'o']);
  });

  it("keeps a prefix of each file's writes under reorder-prefix", async () => {
    const io = new CrashSimFileIO();
    const fh = await durableFile(io, '/f', fill('o', 1536));
    await fh.write(0, fill('1'));
    await fh.write(512, fill('2'));
    await fh.write(1024, fill('3'));
    const seen = new Set<string>();
    for (const seed of SEEDS) {
      const disk = await io.crash({ seed, mode: 'reorder-prefix' }).readFile('/f');
      const s = [0, 512, 1024].map((at) => String.fromCharCode(disk[at])).join('');
      expect(['ooo', '1oo', '12o', '123']).toContain(s);
      seen.add(s);
    }
    expect(seen.size).toBe(4);
  });

  it('may keep or lose an un-synced create, but never loses a synced one', async () => {
    const io = new CrashSimFileIO();
    await durableFile(io, '/kept', Buffer.from('k'));
    await io.writeFile('/maybe', Buffer.from('m'));
    for (const mode of MODES) {
      const outcomes = new Set<boolean>();
      for (const seed of SEEDS) {
        const disk = io.crash({ seed, mode });
        expect(await disk.readFile('/kept')).toEqual(Buffer.from('k'));
        outcomes.add(await disk.exists('/maybe'));
      }
      expect([...outcomes].sort()).toEqual(mode === 'drop-all' ? [false] : [false, true]);
    }
  });

  it('keeps a rename within a directory atomic: the target is the old file or the new one', async () => {
    const io = new CrashSimFileIO();
    await durableFile(io, '/state', Buffer.from('old'));
    const tmp = await io.open('/state.tmp', { create: true });
    await tmp.write(0, Buffer.from('new'));
    await tmp.sync();
    await io.rename('/state.tmp', '/state');
    for (const mode of MODES) {
      const outcomes = new Set<string>();
      for (const seed of SEEDS) outcomes.add((await io.crash({ seed, mode }).readFile('/state')).toString());
      expect([...outcomes].sort()).toEqual(mode === 'drop-all' ? ['old'] : ['new', 'old']);
    }
  });

  it('is deterministic per seed and mode', async () => {
    const io = new CrashSimFileIO();
    const fh = await durableFile(io, '/f', Buffer.alloc(0));
    for (let i = 0; i < 16; i++) await fh.write(i * 512, fill(String.fromCharCode(65 + i)));
    await io.writeFile('/g', Buffer.from('g'));
    const image = (seed: number, mode: CrashMode) => io.crash({ seed, mode }).snapshotDisk();
    for (const mode of MODES) expect(image(7, mode)).toEqual(image(7, mode));
    expect(image(1, 'random-subset')).not.toEqual(image(2, 'random-subset'));
  });

  it('refuses all further I/O on the crashed instance and its handles, while the new disk works', async () => {
    const io = new CrashSimFileIO();
    const fh = await durableFile(io, '/f', Buffer.from('x'));
    const disk = io.crash();
    await expect(fh.read(0, 1)).rejects.toMatchObject({ kind: 'EIO', message: expect.stringContaining('crash') });
    await expect(fh.close()).rejects.toMatchObject({ kind: 'EIO' });
    await expect(io.readFile('/f')).rejects.toMatchObject({ kind: 'EIO' });
    await expect(io.writeFile('/g', Buffer.from('y'))).rejects.toMatchObject({ kind: 'EIO' });
    expect(io.dead).toBe(true);
    expect(disk.dead).toBe(false);
    expect(await disk.readFile('/f')).toEqual(Buffer.from('x'));
  });

  it('cuts power after a given number of I/O calls', async () => {
    const io = new CrashSimFileIO();
    const fh = await durableFile(io, '/f', Buffer.from('a'));
    io.powerCutAfter(2);
    await fh.write(1, Buffer.from('b'));
    await fh.sync();
    await expect(fh.write(2, Buffer.from('c'))).rejects.toMatchObject({
      kind: 'EIO',
      message: expect.stringContaining('power'),
    });
    await expect(io.exists('/f')).rejects.toMatchObject({ kind: 'EIO' });
    expect(await io.crash({ mode: 'random-subset' }).readFile('/f')).toEqual(Buffer.from('ab'));
  });
});

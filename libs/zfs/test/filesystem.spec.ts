// Filesystem datasets: a directory tree of files over the object model, copy-on-write through txgs,
// with snapshots, rollback and space accounting like volumes.
import { CrashSimFileIO } from '@dominion/fsio';
import { FILE_BLOCK_SIZE, Pool, type Filesystem } from '../src/index.js';
import { KiB, MiB, pattern } from './helpers.js';

async function setup(): Promise<{ io: CrashSimFileIO; pool: Pool; fs: Filesystem }> {
  const io = new CrashSimFileIO();
  const pool = await Pool.create(io, { name: 'tank', vdevs: [{ path: '/v0', size: 32 * MiB }] });
  const fs = await pool.createFilesystem('tank/home');
  return { io, pool, fs };
}

const errorOf = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('filesystem datasets', () => {
  it('creates, writes, reads, lists, renames and removes files and directories', async () => {
    const { pool, fs } = await setup();
    expect(await fs.readdir('/')).toEqual([]);
    expect(await fs.stat('/')).toMatchObject({ type: 'dir', size: 0, nlink: 2, mode: 0o040755 });
    await fs.mkdir('/docs');
    const obj = await fs.create('/docs/a.txt');
    expect(await fs.writeFile('/docs/a.txt', 0, Buffer.from('hello world'))).toBe(11);
    await fs.writeFile('/docs/a.txt', 6, Buffer.from('there!'));
    expect((await fs.read('/docs/a.txt', 0, 100)).toString()).toBe('hello there!');
    expect((await fs.read('/docs/a.txt', 6, 3)).toString()).toBe('the');
    expect(await fs.stat('/docs/a.txt')).toMatchObject({
      object: obj,
      type: 'file',
      size: 12,
      nlink: 1,
      mode: 0o100644,
    });
    expect(await fs.stat('/')).toMatchObject({ nlink: 3 });
    await fs.create('/docs/b');
    expect((await fs.readdir('/docs')).map((e) => [e.name, e.type])).toEqual([
      ['a.txt', 'file'],
      ['b', 'file'],
    ]);

    // rename: within a directory, across directories, replacing a file.
    await fs.rename('/docs/b', '/docs/c');
    await fs.mkdir('/archive');
    await fs.rename('/docs/c', '/archive/c');
    await fs.rename('/docs/a.txt', '/archive/c');
    expect((await fs.readdir('/docs')).map((e) => e.name)).toEqual([]);
    expect((await fs.read('/archive/c', 0, 100)).toString()).toBe('hello there!');
    await fs.rename('/archive', '/docs/archive-moved');
    expect((await fs.readdir('/docs')).map((e) => e.name)).toEqual(['archive-moved']);
    expect(await fs.stat('/')).toMatchObject({ nlink: 3 });
    expect(await fs.stat('/docs')).toMatchObject({ nlink: 3 });

    // Truncate down and up: the cut bytes read back as zeros.
    await fs.truncate('/docs/archive-moved/c', 5);
    await fs.truncate('/docs/archive-moved/c', 8);
    expect((await fs.read('/docs/archive-moved/c', 0, 100)).equals(Buffer.from('hello\0\0\0'))).toBe(true);

    await pool.sync();
    await fs.unlink('/docs/archive-moved/c');
    await fs.rmdir('/docs/archive-moved');
    expect(await fs.readdir('/docs')).toEqual([]);
    await pool.sync();
    expect((await pool.verify()).problems).toEqual([]);
  });

  it('refuses what POSIX refuses, beside the same call succeeding', async () => {
    const { fs } = await setup();
    await fs.mkdir('/d');
    await fs.create('/d/f');
    expect(await errorOf(fs.create('/d/f'))).toMatchObject({ kind: 'EEXIST' });
    expect(await errorOf(fs.create('/nope/f'))).toMatchObject({ kind: 'ENOENT' });
    expect(await errorOf(fs.create('/d/f/g'))).toMatchObject({ kind: 'ENOTDIR' });
    expect(await errorOf(fs.read('/d', 0, 1))).toMatchObject({ kind: 'EISDIR' });
    expect(await errorOf(fs.writeFile('/d', 0, Buffer.from('x')))).toMatchObject({ kind: 'EISDIR' });
    expect(await errorOf(fs.unlink('/d'))).toMatchObject({ kind: 'EISDIR' });
    expect(await errorOf(fs.rmdir('/d/f'))).toMatchObject({ kind: 'ENOTDIR' });
    expect(await errorOf(fs.rmdir('/d'))).toMatchObject({ kind: 'ENOTEMPTY' });
    expect(await errorOf(fs.rename('/d', '/d/sub'))).toMatchObject({ kind: 'EINVAL' });
    expect(await errorOf(fs.rename('/d/f', '/d'))).toMatchObject({ kind: 'EISDIR' });
    expect(await errorOf(fs.create('/d/..'))).toMatchObject({ kind: 'EINVAL' });
    expect(await errorOf(fs.writeFile('/d/f', -1, Buffer.from('x')))).toMatchObject({ kind: 'EINVAL' });
    // The allowed forms.
    await fs.unlink('/d/f');
    await fs.rmdir('/d');
    await fs.create('/d');
    expect(await fs.stat('/d')).toMatchObject({ type: 'file' });
  });

  it('keeps its tree across export and import, with large sparse files growing their trees', async () => {
    const { io, pool, fs } = await setup();
    const big = pattern(3, 3 * FILE_BLOCK_SIZE + 100);
    await fs.create('/big');
    // Past 128 blocks (2 MiB) the tree needs another level, past 16384 blocks (256 MiB) another.
    await fs.writeFile('/big', 0, Buffer.from('start'));
    await fs.writeFile('/big', 3 * MiB, big);
    await pool.sync();
    await fs.writeFile('/big', 300 * MiB, Buffer.from('far'));
    for (let i = 0; i < 70; i++) await fs.create(`/f${i}`); // more than one meta-dnode block of objects
    await fs.writeFile('/f69', 0, Buffer.from('last'));
    expect((await pool.verify()).problems).toEqual([]);
    await pool.export();

    const again = await Pool.import(io, { paths: ['/v0'] });
    const f = again.openFilesystem('tank/home');
    expect((await f.read('/big', 0, 5)).toString()).toBe('start');
    expect((await f.read('/big', 5, 100)).equals(Buffer.alloc(100))).toBe(true);
    expect((await f.read('/big', 3 * MiB, big.length)).equals(big)).toBe(true);
    expect((await f.read('/big', 300 * MiB, 10)).toString()).toBe('far');
    expect((await f.stat('/big')).size).toBe(300 * MiB + 3);
    expect((await f.readdir('/')).length).toBe(71);
    expect((await f.read('/f69', 0, 10)).toString()).toBe('last');
    expect((await again.verify()).problems).toEqual([]);
    // Sparse: far less allocated than the file's size.
    expect(again.get('tank/home').referenced).toBeLessThan(MiB);
    await again.close();
  });

  it('snapshots in O(1), reads the snapshot, rolls back exactly, and frees on unlink', async () => {
    const { pool, fs } = await setup();
    await fs.mkdir('/etc');
    await fs.create('/etc/hosts');
    await fs.writeFile('/etc/hosts', 0, Buffer.from('127.0.0.1 localhost\n'));
    await fs.create('/data');
    await fs.writeFile('/data', 0, pattern(4, 512 * KiB));
    await pool.snapshot('tank/home@one');

    await fs.writeFile('/etc/hosts', 0, Buffer.from('10.0.0.1  gateway  \n'));
    await fs.unlink('/data');
    await fs.create('/new');
    await pool.sync();

    const snap = pool.openFilesystem('tank/home@one');
    expect((await snap.read('/etc/hosts', 0, 100)).toString()).toBe('127.0.0.1 localhost\n');
    expect((await snap.readdir('/')).map((e) => e.name)).toEqual(['data', 'etc']);
    expect(await errorOf(snap.create('/x'))).toMatchObject({ kind: 'EROFS' });
    // The unlinked file's blocks are the snapshot's now: nothing was freed, they moved to usedbysnapshots.
    expect(pool.get('tank/home').usedbysnapshots).toBeGreaterThanOrEqual(512 * KiB);
    expect(pool.get('tank/home').referenced).toBeLessThan(100 * KiB);

    await pool.rollback('tank/home@one');
    expect((await fs.readdir('/')).map((e) => e.name)).toEqual(['data', 'etc']);
    expect((await fs.read('/data', 0, 512 * KiB)).equals(pattern(4, 512 * KiB))).toBe(true);
    expect((await fs.read('/etc/hosts', 0, 100)).toString()).toBe('127.0.0.1 localhost\n');

    await pool.destroySnapshot('tank/home@one');
    const before = pool.status().allocated;
    await fs.unlink('/data');
    await pool.sync();
    expect(before - pool.status().allocated).toBeGreaterThanOrEqual(512 * KiB);
    expect((await pool.verify()).problems).toEqual([]);
  });

  it('makes changes durable at flush (a txg sync), not before', async () => {
    const { io, pool, fs } = await setup();
    await fs.create('/kept');
    await pool.openFilesystem('tank/home').writeFile('/kept', 0, Buffer.from('yes'));
    const vol = await pool.createVolume('tank/v', { volsize: MiB });
    await vol.flush(); // a pool flush with a dirty filesystem syncs a txg
    await fs.create('/lost');
    const disk = io.crash({ mode: 'drop-all' });
    const again = await Pool.import(disk, { paths: ['/v0'] });
    const f = again.openFilesystem('tank/home');
    expect((await f.readdir('/')).map((e) => e.name)).toEqual(['kept']);
    expect((await f.read('/kept', 0, 10)).toString()).toBe('yes');
    await again.close();
  });

  it('refuses file operations on the pool root and volume handles on filesystems', async () => {
    const { pool } = await setup();
    expect(() => pool.openFilesystem('tank')).toThrow(expect.objectContaining({ kind: 'EOPNOTSUPP' }));
    expect(() => pool.openVolume('tank/home')).toThrow(expect.objectContaining({ kind: 'EINVAL' }));
    expect(() => pool.openFilesystem('tank/nope')).toThrow(expect.objectContaining({ kind: 'ENOENT' }));
    expect(pool.openFilesystem('tank/home').name).toBe('tank/home');
  });
});

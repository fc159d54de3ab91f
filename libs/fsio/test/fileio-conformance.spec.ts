// The simulator is only worth its crashes if it behaves like the real filesystem while power holds: the
// same script runs against NodeFileIO on a real temporary directory and against CrashSimFileIO.
import { join } from 'node:path';
import { tempDir } from '@dominion/testing';
import { CrashSimFileIO, type FileIO, NodeFileIO } from '../src/index.js';

interface Fixture {
  io: FileIO;
  root: string;
  done(): void;
}

const fixtures: [string, () => Promise<Fixture>][] = [
  [
    'NodeFileIO',
    () => {
      const t = tempDir('fsio-');
      return Promise.resolve({ io: new NodeFileIO(), root: t.path, done: t.remove });
    },
  ],
  [
    'CrashSimFileIO',
    async () => {
      const io = new CrashSimFileIO();
      await io.mkdirp('/var/lib/xenstored');
      return { io, root: '/var/lib/xenstored', done: () => undefined };
    },
  ],
];

describe.each(fixtures)('%s', (_name, make) => {
  let f: Fixture;
  let io: FileIO;
  const p = (...parts: string[]) => join(f.root, ...parts);
  beforeEach(async () => {
    f = await make();
    io = f.io;
  });
  afterEach(() => f.done());

  it('opens existing files, creates only when asked, and refuses O_EXCL on an existing one', async () => {
    await expect(io.open(p('tdb'))).rejects.toMatchObject({ kind: 'ENOENT' });
    const fh = await io.open(p('tdb'), { create: true, exclusive: true });
    await fh.close();
    await expect(io.open(p('tdb'), { create: true, exclusive: true })).rejects.toMatchObject({ kind: 'EEXIST' });
    await (await io.open(p('tdb'), { create: true })).close();
    await (await io.open(p('tdb'))).close();
  });

  it('writes at offsets, leaves zero holes, truncates both ways and appends at the end', async () => {
    const fh = await io.open(p('f'), { create: true });
    await fh.write(0, Buffer.from('abc'));
    await fh.write(5, Buffer.from('z'));
    expect(await fh.size()).toBe(6);
    expect(await fh.read(0, 10)).toEqual(Buffer.from('abc\0\0z'));
    expect(await fh.read(2, 2)).toEqual(Buffer.from('c\0'));
    expect(await fh.read(6, 4)).toEqual(Buffer.alloc(0));
    await fh.truncate(2);
    await fh.truncate(4);
    expect(await fh.read(0, 10)).toEqual(Buffer.from('ab\0\0'));
    await fh.append(Buffer.from('X'));
    await fh.append(Buffer.from('YZ'));
    await fh.sync();
    await fh.datasync();
    expect(await io.readFile(p('f'))).toEqual(Buffer.from('ab\0\0XYZ'));
    await fh.close();
    const again = await io.open(p('f'), { truncate: true });
    expect(await again.size()).toBe(0);
    await again.close();
  });

  it('refuses writes through a read-only handle, use after close and negative offsets', async () => {
    await io.writeFile(p('f'), Buffer.from('data'));
    const ro = await io.open(p('f'), { readOnly: true });
    expect(await ro.read(0, 4)).toEqual(Buffer.from('data'));
    await expect(ro.write(0, Buffer.from('x'))).rejects.toMatchObject({ kind: 'EBADF' });
    await expect(ro.append(Buffer.from('x'))).rejects.toMatchObject({ kind: 'EBADF' });
    await ro.close();
    await ro.close();
    await expect(ro.read(0, 1)).rejects.toMatchObject({ kind: 'EBADF' });
    const rw = await io.open(p('f'));
    await expect(rw.read(-1, 1)).rejects.toMatchObject({ kind: 'EINVAL', message: expect.stringContaining(p('f')) });
    await expect(rw.write(-1, Buffer.from('x'))).rejects.toMatchObject({ kind: 'EINVAL' });
    await rw.write(0, Buffer.from('D'));
    await rw.close();
    expect(await io.readFile(p('f'))).toEqual(Buffer.from('Data'));
  });

  it('writeFile replaces contents; readFile of a missing file is ENOENT', async () => {
    await io.writeFile(p('f'), Buffer.from('longer contents'));
    await io.writeFile(p('f'), Buffer.from('short'));
    expect(await io.readFile(p('f'))).toEqual(Buffer.from('short'));
    await expect(io.readFile(p('nope'))).rejects.toMatchObject({
      kind: 'ENOENT',
      message: expect.stringContaining(p('nope')),
    });
  });

  it('renames over a file, and a handle follows the file across rename and unlink', async () => {
    await io.writeFile(p('a'), Buffer.from('new'));
    await io.writeFile(p('b'), Buffer.from('old'));
    const fh = await io.open(p('a'));
    await io.rename(p('a'), p('b'));
    expect(await io.exists(p('a'))).toBe(false);
    expect(await io.readFile(p('b'))).toEqual(Buffer.from('new'));
    await io.unlink(p('b'));
    expect(await io.exists(p('b'))).toBe(false);
    expect(await fh.read(0, 3)).toEqual(Buffer.from('new'));
    await fh.close();
    await expect(io.rename(p('a'), p('c'))).rejects.toMatchObject({ kind: 'ENOENT' });
    await expect(io.unlink(p('a'))).rejects.toMatchObject({ kind: 'ENOENT' });
  });

  it('gives rename and unlink the errnos Linux gives around directories', async () => {
    await io.mkdirp(p('d', 'sub'));
    await io.mkdirp(p('e'));
    await io.writeFile(p('f'), Buffer.from('x'));
    await expect(io.rename(p('f'), p('d'))).rejects.toMatchObject({ kind: 'EISDIR' });
    await expect(io.rename(p('d'), p('f'))).rejects.toMatchObject({ kind: 'ENOTDIR' });
    await expect(io.rename(p('e'), p('d'))).rejects.toMatchObject({ kind: 'ENOTEMPTY' });
    await expect(io.unlink(p('d'))).rejects.toMatchObject({ kind: 'EISDIR' });
    await expect(io.open(p('d'), { create: true })).rejects.toMatchObject({ kind: 'EISDIR' });
    await io.rename(p('d'), p('e'));
    expect(await io.readdir(p('e'))).toEqual(['sub']);
  });

  it('mkdir -p is idempotent, refuses to pass through or replace a file, and readdir is sorted', async () => {
    await io.mkdirp(p('x', 'y', 'z'));
    await io.mkdirp(p('x', 'y', 'z'));
    await io.writeFile(p('x', 'log.10'), Buffer.from('1'));
    await io.writeFile(p('x', 'log.2'), Buffer.from('2'));
    expect(await io.readdir(p('x'))).toEqual(['log.10', 'log.2', 'y']);
    await expect(io.mkdirp(p('x', 'log.2'))).rejects.toMatchObject({ kind: 'EEXIST' });
    await expect(io.mkdirp(p('x', 'log.2', 'q'))).rejects.toMatchObject({ kind: 'ENOTDIR' });
    await expect(io.readdir(p('x', 'log.2'))).rejects.toMatchObject({ kind: 'ENOTDIR' });
    await expect(io.readdir(p('nope'))).rejects.toMatchObject({ kind: 'ENOENT' });
    expect(await io.exists(p('x', 'y'))).toBe(true);
    expect(await io.exists(p('x', 'log.2'))).toBe(true);
    expect(await io.exists(p('x', 'log.2', 'q'))).toBe(false);
    expect(await io.exists(p('x', 'w'))).toBe(false);
  });

  it('fsyncDir syncs a directory and refuses a missing one', async () => {
    await io.mkdirp(p('d'));
    await io.fsyncDir(p('d'));
    await io.fsyncDir(f.root);
    await expect(io.fsyncDir(p('nope'))).rejects.toMatchObject({ kind: 'ENOENT' });
  });
});

// What a POSIX client sees of a filesystem dataset through the object-number API: symlinks, hard links,
// owners and nanosecond times, xattrs, rename over a target, O_APPEND, holds on unlinked files, object
// numbers never reused, and the readonly, atime and quota properties.
import { CrashSimFileIO } from '@dominion/fsio';
import { Pool, ROOT_OBJECT, XATTR_CREATE, XATTR_REPLACE, ZfsError, type Filesystem } from '../src/index.js';
import { KiB, MiB, pattern } from './helpers.js';

const R = ROOT_OBJECT;

async function setup(props: Record<string, string> = {}): Promise<{ io: CrashSimFileIO; pool: Pool; fs: Filesystem }> {
  const io = new CrashSimFileIO();
  const pool = await Pool.create(io, { name: 'tank', vdevs: [{ path: '/v0', size: 32 * MiB }] });
  const fs = await pool.createFilesystem('tank/home', { props });
  return { io, pool, fs };
}

const failure = async (p: Promise<unknown>): Promise<{ kind?: string; errno?: string }> =>
  p.then(
    () => ({}),
    (e: unknown) => (e instanceof ZfsError ? { kind: e.kind, errno: e.errno } : { kind: String(e) }),
  );

describe('filesystem datasets: POSIX semantics', () => {
  it('keeps symlinks, hard links with link counts, owners and nanosecond times across export and import', async () => {
    const { io, pool, fs } = await setup();
    const dir = await fs.createAt(R, 'etc', 'dir', { mode: 0o750, uid: 5, gid: 6 });
    const f = await fs.createAt(dir, 'hosts', 'file', { mode: 0o640, uid: 1000, gid: 100 });
    await fs.writeObject(f, 0, Buffer.from('127.0.0.1 localhost\n'));
    const s = await fs.symlinkAt(dir, 'hosts.link', 'hosts', { uid: 1000 });
    await fs.linkAt(R, 'hosts.hard', f);
    expect((await fs.getattr(f)).nlink).toBe(2);
    expect(await failure(fs.linkAt(R, 'etc2', dir))).toMatchObject({ kind: 'EPERM' });
    await fs.setattr(f, { mode: 0o600, uid: 0, gid: 0, mtime: { sec: 1_700_000_000, nsec: 123_456_789 } });
    await pool.export();

    const again = await Pool.import(io, { paths: ['/v0'] });
    const fs2 = again.openFilesystem('tank/home');
    expect(await fs2.getattr(f)).toMatchObject({
      type: 'file',
      mode: 0o100600,
      uid: 0,
      gid: 0,
      nlink: 2,
      mtimeNs: { sec: 1_700_000_000, nsec: 123_456_789 },
    });
    expect(await fs2.getattr(dir)).toMatchObject({ mode: 0o040750, uid: 5, gid: 6, parent: R });
    expect(await fs2.getattr(s)).toMatchObject({ type: 'symlink', mode: 0o120777, uid: 1000 });
    expect(await fs2.readlink(s)).toBe('hosts');
    expect((await fs2.list(dir)).map((e) => [e.name, e.type])).toEqual([
      ['hosts', 'file'],
      ['hosts.link', 'symlink'],
    ]);
    expect((await fs2.lookup(dir, '..')).object).toBe(R);
    // Unlinking one name leaves the other with the data.
    await fs2.unlinkAt(dir, 'hosts', false);
    expect((await fs2.getattr(f)).nlink).toBe(1);
    expect((await fs2.readObject(f, 0, 100)).toString()).toBe('127.0.0.1 localhost\n');
    await again.close();
  });

  it('renames atomically over an existing target, refuses a directory into itself, and tracks ..', async () => {
    const { fs } = await setup();
    const a = await fs.createAt(R, 'a', 'file', { mode: 0o644 });
    const b = await fs.createAt(R, 'b', 'file', { mode: 0o644 });
    await fs.writeObject(a, 0, Buffer.from('A'));
    await fs.writeObject(b, 0, Buffer.from('B'));
    await fs.linkAt(R, 'b2', b);
    await fs.renameAt(R, 'a', R, 'b');
    expect((await fs.list(R)).map((e) => [e.name, e.object])).toEqual([
      ['b', a],
      ['b2', b],
    ]);
    expect((await fs.getattr(b)).nlink).toBe(1);
    // rename of one link onto another of the same file does nothing (rename(2)).
    await fs.linkAt(R, 'b3', b);
    await fs.renameAt(R, 'b2', R, 'b3');
    expect((await fs.list(R)).map((e) => e.name)).toEqual(['b', 'b2', 'b3']);

    const p = await fs.createAt(R, 'p', 'dir', { mode: 0o755 });
    const q = await fs.createAt(p, 'q', 'dir', { mode: 0o755 });
    expect(await failure(fs.renameAt(R, 'p', q, 'p'))).toMatchObject({ kind: 'EINVAL' });
    await fs.renameAt(p, 'q', R, 'q');
    expect((await fs.lookup(q, '..')).object).toBe(R);
    expect(await fs.getattr(p)).toMatchObject({ nlink: 2 });
  });

  it('appends with O_APPEND, truncates both ways, and reads holes as zeros', async () => {
    const { pool, fs } = await setup();
    const f = await fs.createAt(R, 'log', 'file', { mode: 0o644 });
    expect(await fs.writeObject(f, 0, Buffer.from('one\n'))).toBe(0);
    expect(await fs.writeObject(f, 0, Buffer.from('two\n'), true)).toBe(4);
    expect((await fs.readObject(f, 0, 100)).toString()).toBe('one\ntwo\n');
    await fs.setattr(f, { size: 2 });
    await fs.setattr(f, { size: 6 });
    expect((await fs.readObject(f, 0, 100)).equals(Buffer.from('on\0\0\0\0'))).toBe(true);
    // A write 1 MiB out: the gap is holes, no blocks.
    await fs.writeObject(f, MiB, pattern(1, 100));
    await pool.sync();
    const st = await fs.getattr(f);
    expect(st.size).toBe(MiB + 100);
    expect(st.blocks).toBeLessThanOrEqual(2 * 16 * KiB);
    expect((await fs.readObject(f, 512 * KiB, 4096)).equals(Buffer.alloc(4096))).toBe(true);
  });

  it('keeps xattrs with create and replace semantics', async () => {
    const { pool, fs } = await setup();
    const f = await fs.createAt(R, 'x', 'file', { mode: 0o644 });
    await fs.setxattr(f, 'user.a', Buffer.from('1'), XATTR_CREATE);
    await fs.setxattr(f, 'user.b', Buffer.alloc(5000, 2));
    expect(await failure(fs.setxattr(f, 'user.a', Buffer.from('2'), XATTR_CREATE))).toMatchObject({ kind: 'EEXIST' });
    expect(await failure(fs.setxattr(f, 'user.c', Buffer.from('2'), XATTR_REPLACE))).toMatchObject({ kind: 'ENODATA' });
    await fs.setxattr(f, 'user.a', Buffer.from('22'), XATTR_REPLACE);
    await pool.sync();
    expect((await fs.getxattr(f, 'user.a')).toString()).toBe('22');
    expect((await fs.listxattr(f)).sort()).toEqual(['user.a', 'user.b']);
    await fs.removexattr(f, 'user.b');
    expect(await failure(fs.getxattr(f, 'user.b'))).toMatchObject({ kind: 'ENODATA' });
    expect(await failure(fs.removexattr(f, 'user.b'))).toMatchObject({ kind: 'ENODATA' });
    expect(await failure(fs.setxattr(f, 'user.big', Buffer.alloc(70 * KiB)))).toMatchObject({ kind: 'E2BIG' });
  });

  it('never reuses an object number, and keeps a held unlinked file until its last release', async () => {
    const { pool, fs } = await setup();
    const a = await fs.createAt(R, 'a', 'file', { mode: 0o644 });
    await fs.writeObject(a, 0, pattern(2, 64 * KiB));
    await fs.hold(a);
    await fs.unlinkAt(R, 'a', false);
    await pool.sync();
    // Still readable (and writable) through the hold; its number is not handed out again.
    expect((await fs.readObject(a, 0, 64 * KiB)).equals(pattern(2, 64 * KiB))).toBe(true);
    const b = await fs.createAt(R, 'b', 'file', { mode: 0o644 });
    expect(b).toBeGreaterThan(a);
    const held = pool.get('tank/home').referenced;
    await fs.release(a);
    await pool.sync();
    expect(pool.get('tank/home').referenced).toBeLessThan(held - 60 * KiB);
    expect(await failure(fs.getattr(a))).toMatchObject({ kind: 'EIO' });
    // An unheld unlink frees at once; a later create still takes a new number.
    await fs.unlinkAt(R, 'b', false);
    expect(await fs.createAt(R, 'c', 'file', { mode: 0o644 })).toBeGreaterThan(b);
  });

  it('honours readonly (EROFS beside a write allowed once it is off) and atime=off', async () => {
    const { pool, fs } = await setup();
    const f = await fs.createAt(R, 'f', 'file', { mode: 0o644 });
    await fs.writeObject(f, 0, Buffer.from('x'));
    await pool.setProperty('tank/home', 'readonly', 'on');
    expect(await failure(fs.writeObject(f, 0, Buffer.from('y')))).toMatchObject({ kind: 'EROFS' });
    expect(await failure(fs.createAt(R, 'g', 'file', { mode: 0o644 }))).toMatchObject({ kind: 'EROFS' });
    expect((await fs.readObject(f, 0, 1)).toString()).toBe('x');
    await pool.setProperty('tank/home', 'readonly', 'off');
    await fs.writeObject(f, 0, Buffer.from('y'));

    // atime=on: a read after a write moves atime (relatime); atime=off: it stays.
    await fs.setattr(f, { atime: { sec: 1000, nsec: 0 } });
    await fs.readObject(f, 0, 1);
    expect((await fs.getattr(f)).atimeNs.sec).toBeGreaterThan(1000);
    await pool.setProperty('tank/home', 'atime', 'off');
    await fs.setattr(f, { atime: { sec: 1000, nsec: 5 } });
    await fs.readObject(f, 0, 1);
    expect((await fs.getattr(f)).atimeNs).toEqual({ sec: 1000, nsec: 5 });
    expect(pool.getProperty('tank/home', 'snapdir')).toMatchObject({ value: 'hidden', source: 'default' });
  });

  it('refuses a write over quota with EDQUOT and leaves the file as it was', async () => {
    const { fs } = await setup({ quota: '1M' });
    const f = await fs.createAt(R, 'f', 'file', { mode: 0o644 });
    await fs.writeObject(f, 0, pattern(3, 256 * KiB));
    const refused = await failure(fs.writeObject(f, 256 * KiB, pattern(4, 2 * MiB)));
    expect(refused).toMatchObject({ kind: 'ENOSPC', errno: 'EDQUOT' });
    expect((await fs.getattr(f)).size).toBe(256 * KiB);
    expect((await fs.readObject(f, 0, 256 * KiB)).equals(pattern(3, 256 * KiB))).toBe(true);
    // What fits still goes in.
    await fs.writeObject(f, 256 * KiB, pattern(5, 128 * KiB));
    expect((await fs.getattr(f)).size).toBe(384 * KiB);
  });

  it('sends and receives symlinks, owners, nanosecond times and xattrs, fully and incrementally', async () => {
    const { pool, fs } = await setup();
    const f = await fs.createAt(R, 'f', 'file', { mode: 0o640, uid: 1000, gid: 100 });
    await fs.writeObject(f, 0, Buffer.from('data'));
    await fs.setxattr(f, 'user.tag', Buffer.from('v1'));
    await fs.setattr(f, { mtime: { sec: 1_600_000_000, nsec: 987_654_321 } });
    const s = await fs.symlinkAt(R, 'ln', 'f', { uid: 33 });
    await pool.snapshot('tank/home@a');
    await pool.receive('tank/copy', pool.send('tank/home@a'));
    const copy = pool.openFilesystem('tank/copy');
    expect(await copy.getattr(f)).toMatchObject({
      uid: 1000,
      gid: 100,
      mode: 0o100640,
      mtimeNs: { sec: 1_600_000_000, nsec: 987_654_321 },
    });
    expect(await copy.getattr(s)).toMatchObject({ type: 'symlink', uid: 33 });
    expect(await copy.readlink(s)).toBe('f');
    expect((await copy.getxattr(f, 'user.tag')).toString()).toBe('v1');

    // An ownership change alone (no size, mode or data change) travels in an incremental stream.
    await fs.setattr(f, { uid: 2000, mtime: { sec: 1_600_000_000, nsec: 987_654_321 } });
    await fs.setxattr(f, 'user.tag', Buffer.from('v2'));
    await pool.snapshot('tank/home@b');
    await pool.receive('tank/copy', pool.send('tank/home@b', { from: '@a' }));
    expect((await copy.getattr(f)).uid).toBe(2000);
    expect((await copy.getxattr(f, 'user.tag')).toString()).toBe('v2');
  });

  it('gives new files the recordsize block size, kept across property changes, sync, send and receive', async () => {
    const { pool, fs } = await setup();
    expect(await failure(pool.setProperty('tank/home', 'recordsize', '3K'))).toMatchObject({ kind: 'EINVAL' });
    await pool.setProperty('tank/home', 'recordsize', '128K');
    const big = await fs.createAt(R, 'big', 'file', { mode: 0o644 });
    await fs.writeObject(big, 1000, pattern(6, 300 * KiB));
    await pool.setProperty('tank/home', 'recordsize', '4K');
    const small = await fs.createAt(R, 'small', 'file', { mode: 0o644 });
    await fs.writeObject(small, 0, pattern(7, 10 * KiB));
    await fs.writeObject(big, 0, Buffer.from('head'));
    await pool.sync();
    expect((await fs.getattr(big)).blockSize).toBe(128 * KiB);
    expect((await fs.getattr(small)).blockSize).toBe(4 * KiB);
    // 10 KiB in 4 KiB records: three blocks.
    expect((await fs.getattr(small)).blocks).toBe(3 * 4 * KiB);
    const expectBig = Buffer.concat([Buffer.from('head'), Buffer.alloc(996), pattern(6, 300 * KiB)]);
    expect((await fs.readObject(big, 0, 400 * KiB)).equals(expectBig)).toBe(true);
    expect((await pool.verify()).ok).toBe(true);

    await pool.snapshot('tank/home@r');
    await pool.receive('tank/copy', pool.send('tank/home@r'));
    const copy = pool.openFilesystem('tank/copy');
    expect((await copy.getattr(big)).blockSize).toBe(128 * KiB);
    expect((await copy.getattr(small)).blockSize).toBe(4 * KiB);
    expect((await copy.readObject(big, 0, 400 * KiB)).equals(expectBig)).toBe(true);
    expect((await copy.readObject(small, 0, 10 * KiB)).equals(pattern(7, 10 * KiB))).toBe(true);
    expect((await pool.verify()).ok).toBe(true);
  });

  it('frees a file that was unlinked while held when the pool went down, at its first use after import', async () => {
    const { io, pool, fs } = await setup();
    const a = await fs.createAt(R, 'a', 'file', { mode: 0o644 });
    await fs.writeObject(a, 0, pattern(8, 256 * KiB));
    const keep = await fs.createAt(R, 'keep', 'file', { mode: 0o644 });
    await fs.writeObject(keep, 0, pattern(9, 4 * KiB));
    await fs.hold(a);
    await fs.unlinkAt(R, 'a', false);
    await pool.sync();
    const withOrphan = pool.get('tank/home').referenced;
    // Power cut with the file still held: the unlinked set on disk lists it.
    const after = await Pool.import(io.crash({ seed: 1, mode: 'drop-all' }), { paths: ['/v0'] });
    const fs2 = after.openFilesystem('tank/home');
    expect((await fs2.list(R)).map((e) => e.name)).toEqual(['keep']);
    await after.sync();
    expect(after.get('tank/home').referenced).toBeLessThan(withOrphan - 200 * KiB);
    expect(await failure(fs2.getattr(a))).toMatchObject({ kind: 'EIO' });
    expect((await fs2.readObject(keep, 0, 4 * KiB)).equals(pattern(9, 4 * KiB))).toBe(true);
    expect((await after.verify()).ok).toBe(true);
    await after.close();
  });
});

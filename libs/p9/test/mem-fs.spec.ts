// MemFilesystem through its P9Filesystem interface: the semantics a dataset must match.
import { LINUX_ERRNO, MemFilesystem, P9Error, P9_O, linuxErrnoOf } from '../src/index.js';

const cred = { uid: 1000, gid: 100 };

async function errnoOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as P9Error).errno;
  }
  return 'resolved';
}

describe('MemFilesystem', () => {
  it('refuses a write that does not fit, whole, and leaves the file as it was', async () => {
    const fs = new MemFilesystem({ capacity: 4 * 4096 });
    const { handle } = await fs.create(fs.rootIno, 'f', P9_O.RDWR, 0o644, cred);
    expect(await fs.write(handle, 0, Buffer.alloc(3 * 4096, 1))).toBe(3 * 4096);
    expect(await errnoOf(fs.write(handle, 3 * 4096, Buffer.alloc(2 * 4096, 2)))).toBe('ENOSPC');
    expect((await fs.getattr((await fs.lookup(fs.rootIno, 'f')).ino)).size).toBe(3 * 4096);
    expect(await fs.write(handle, 3 * 4096, Buffer.alloc(4096, 2))).toBe(4096);
    expect((await fs.statfs()).bfree).toBe(0);
  });

  it('frees an unlinked inode only when its last reference and handle are gone', async () => {
    const fs = new MemFilesystem();
    const { attr, handle } = await fs.create(fs.rootIno, 'f', P9_O.RDWR, 0o644, cred);
    await fs.write(handle, 0, Buffer.alloc(8192));
    await fs.unlink(fs.rootIno, 'f', false);
    expect(fs.inodeCount).toBe(2);
    await fs.release(handle);
    expect(fs.inodeCount).toBe(2);
    expect((await fs.getattr(attr.ino)).nlink).toBe(0);
    fs.forget(attr.ino);
    expect(fs.inodeCount).toBe(1);
    expect(await errnoOf(fs.getattr(attr.ino))).toBe('ENOENT');
    expect((await fs.statfs()).bfree).toBe((await fs.statfs()).blocks);
  });

  it('renaming one name of an inode onto another is a no-op; a directory keeps nlink right when it moves', async () => {
    const fs = new MemFilesystem();
    const { attr, handle } = await fs.create(fs.rootIno, 'a', P9_O.RDWR, 0o644, cred);
    await fs.release(handle);
    await fs.link(fs.rootIno, 'b', attr.ino);
    await fs.rename(fs.rootIno, 'a', fs.rootIno, 'b');
    expect((await fs.getattr(attr.ino)).nlink).toBe(2);
    const d1 = await fs.mkdir(fs.rootIno, 'd1', 0o755, cred);
    const d2 = await fs.mkdir(fs.rootIno, 'd2', 0o755, cred);
    await fs.mkdir(d1.ino, 'x', 0o755, cred);
    expect((await fs.getattr(d1.ino)).nlink).toBe(3);
    await fs.rename(d1.ino, 'x', d2.ino, 'y');
    expect([(await fs.getattr(d1.ino)).nlink, (await fs.getattr(d2.ino)).nlink]).toEqual([2, 3]);
    const y = await fs.lookup(d2.ino, 'y');
    expect((await fs.lookup(y.ino, '..')).ino).toBe(d2.ino);
    expect(await errnoOf(fs.rename(fs.rootIno, 'd2', y.ino, 'loop'))).toBe('EINVAL');
    expect(await errnoOf(fs.mkdir(fs.rootIno, 'd1', 0o755, cred))).toBe('EEXIST');
    expect(await errnoOf(fs.lookup(attr.ino, 'x'))).toBe('ENOTDIR');
  });

  it('creates in a removed directory fail; symlinks are not opened', async () => {
    const fs = new MemFilesystem();
    const d = await fs.mkdir(fs.rootIno, 'gone', 0o755, cred);
    fs.retain(d.ino);
    await fs.unlink(fs.rootIno, 'gone', true);
    expect(await errnoOf(fs.create(d.ino, 'f', P9_O.RDWR, 0o644, cred))).toBe('ENOENT');
    const s = await fs.symlink(fs.rootIno, 's', 'target', cred);
    expect(await errnoOf(fs.open(s.ino, P9_O.RDONLY, cred))).toBe('ELOOP');
    expect(await fs.readlink(s.ino)).toBe('target');
  });
});

describe('Rlerror errno numbers', () => {
  it('takes a Linux errno from P9Error and from other libraries’ errors, EIO for anything else', () => {
    expect(linuxErrnoOf(new P9Error('ENAMETOOLONG', 'x'))).toBe(36);
    expect(new P9Error('EDQUOT', 'x').kind).toBe('ENOSPC');
    // A ZfsError-shaped failure: kind from Xen's set, errno where Xen has no name.
    expect(linuxErrnoOf({ kind: 'ENOSPC', errno: 'EDQUOT' })).toBe(LINUX_ERRNO.EDQUOT);
    expect(linuxErrnoOf({ kind: 'EROFS' })).toBe(30);
    expect(linuxErrnoOf(new Error('bug'))).toBe(5);
  });
});

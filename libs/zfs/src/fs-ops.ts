// The changing operations on a filesystem head, in POSIX's terms (what a 9P server needs): create, mkdir,
// symlink, link, write, truncate, setattr, unlink, rmdir, rename, xattrs. Each changes dnodes and whole
// blocks in the FsHead only; nothing reaches the disk before the next txg, which writes it all
// copy-on-write, so every operation is atomic across a crash. Objects are addressed by number (a directory
// and a name for entries); the path forms resolve first.
import { ZfsError } from './errors.js';
import {
  checkEntryName,
  encodeDir,
  encodeXattrs,
  FILE_BLOCK_SIZE,
  MAX_XATTR_BYTES,
  newObjectDnode,
  nowTime,
  ROOT_OBJECT,
  splitPath,
  withZnode,
  znodeOf,
  type DirEntry,
  type FsHead,
  type FsObjectType,
  type FsView,
} from './fs-objects.js';
import type { Dnode, Znode, ZnodeTime } from './objset.js';
import { readU64, writeU64 } from './u64.js';

/** What a new object gets besides its type: permission bits and owner. */
export interface FsCreateAttrs {
  readonly mode: number;
  readonly uid?: number;
  readonly gid?: number;
}

/** setattr's changes; times given exactly or 'now'. ctime is set by every change. */
export interface FsSetAttr {
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly size?: number;
  readonly atime?: ZnodeTime | 'now';
  readonly mtime?: ZnodeTime | 'now';
}

/** setxattr's flags, as Linux's XATTR_CREATE and XATTR_REPLACE. */
export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;

export class FsOps {
  constructor(
    private readonly view: FsView,
    private readonly head: FsHead,
    private readonly now: () => ZnodeTime = nowTime,
    /** The dataset's recordsize: the block size of files created now. */
    private readonly recordsize = FILE_BLOCK_SIZE,
  ) {}

  /** The directory holding `path`'s last component, and that component. */
  private async parentOf(path: string, verb: string): Promise<{ dir: number; name: string }> {
    const parts = splitPath(path);
    if (parts.length === 0) throw new ZfsError('EINVAL', `cannot ${verb} '/': it is the root directory`);
    const name = parts[parts.length - 1];
    checkEntryName(name, path);
    const dirPath = '/' + parts.slice(0, -1).join('/');
    const dir = await this.view.resolve(dirPath);
    if (dir.type !== 'dir') throw new ZfsError('ENOTDIR', `cannot ${verb} '${path}': '${dirPath}' is not a directory`);
    return { dir: dir.object, name };
  }

  /** A directory's entries, for changing it: ENOENT once it was removed (it may still be held). */
  private async liveDir(dir: number, verb: string, name: string): Promise<DirEntry[]> {
    const dn = await this.view.mustDnode(dir, `directory object ${dir}`);
    if (dn.type !== 'dir') throw new ZfsError('ENOTDIR', `cannot ${verb} '${name}': object ${dir} is not a directory`);
    if (dn.nlink === 0) throw new ZfsError('ENOENT', `cannot ${verb} '${name}': its directory was removed`);
    checkEntryName(name, name);
    return this.view.readDir(dir, `directory object ${dir}`);
  }

  private async writeDir(dir: number, entries: readonly DirEntry[], nlinkDelta = 0): Promise<void> {
    const dn = await this.view.mustDnode(dir, `directory ${dir}`);
    const bytes = encodeDir(entries);
    await this.setData(dir, dn, 0, bytes);
    const after = this.head.state(dir)!.dnode;
    await this.resize(dir, { ...after, nlink: after.nlink + nlinkDelta }, bytes.length);
  }

  private changed(dn: Dnode, data: boolean, extra: Partial<Znode> = {}): Dnode {
    const t = this.now();
    return withZnode(dn, { ...extra, ctime: t, ...(data && { mtime: t }) });
  }

  /** Writes `data` at `offset` of an object's blocks (read-modify-write at the ends); grows its size. */
  private async setData(obj: number, dn: Dnode, offset: number, data: Buffer): Promise<void> {
    const bs = dn.blockSize;
    for (let pos = offset; pos < offset + data.length;) {
      const blkid = Math.floor(pos / bs);
      const inBlock = pos - blkid * bs;
      const n = Math.min(bs - inBlock, offset + data.length - pos);
      const block = n === bs ? Buffer.alloc(bs) : Buffer.from(await this.view.block(obj, dn, blkid));
      data.copy(block, inBlock, pos - offset, pos - offset + n);
      this.head.setBlock(obj, blkid, block);
      pos += n;
    }
    this.head.setDnode(obj, this.changed({ ...dn, size: Math.max(dn.size, offset + data.length) }, true));
  }

  /** Sets the size: blocks past it become holes, the tail of the last block zeros. */
  private async resize(obj: number, dn: Dnode, size: number): Promise<void> {
    const bs = dn.blockSize;
    if (size < dn.size) {
      const lastKept = Math.ceil(size / bs) - 1;
      for (let blkid = lastKept + 1; blkid <= Math.floor((dn.size - 1) / bs); blkid++)
        this.head.setBlock(obj, blkid, null);
      if (size % bs !== 0) {
        const block = Buffer.from(await this.view.block(obj, dn, lastKept));
        block.fill(0, size % bs);
        this.head.setBlock(obj, lastKept, block);
      }
    }
    this.head.setDnode(obj, this.changed({ ...dn, size }, true));
  }

  private async fileDnode(obj: number, verb: string): Promise<Dnode> {
    const dn = await this.view.mustDnode(obj, `object ${obj}`);
    if (dn.type === 'dir') throw new ZfsError('EISDIR', `cannot ${verb} object ${obj}: it is a directory`);
    if (dn.type !== 'file') throw new ZfsError('EINVAL', `cannot ${verb} object ${obj}: not a regular file`);
    return dn;
  }

  /** Writes at `offset`, or at the end of the file with `append` (O_APPEND); returns where it wrote. */
  async writeObject(obj: number, offset: number, data: Buffer, append = false): Promise<number> {
    const dn = await this.fileDnode(obj, 'write');
    const at = append ? dn.size : offset;
    await this.setData(obj, dn, at, data);
    return at;
  }

  async write(path: string, offset: number, data: Buffer): Promise<number> {
    const { object } = await this.view.resolve(path);
    await this.writeObject(object, offset, data);
    return data.length;
  }

  async truncate(path: string, size: number): Promise<void> {
    const { object } = await this.view.resolve(path);
    await this.resize(object, await this.fileDnode(object, 'truncate'), size);
  }

  async setattr(obj: number, c: FsSetAttr): Promise<void> {
    let dn = await this.view.mustDnode(obj, `object ${obj}`);
    if (c.size !== undefined) {
      dn = await this.fileDnode(obj, 'truncate');
      await this.resize(obj, dn, c.size);
      dn = this.head.state(obj)!.dnode;
    }
    const t = this.now();
    const z: Partial<Znode> = {
      ...(c.uid !== undefined && { uid: c.uid }),
      ...(c.gid !== undefined && { gid: c.gid }),
      ...(c.atime !== undefined && { atime: c.atime === 'now' ? t : c.atime }),
      ...(c.mtime !== undefined && { mtime: c.mtime === 'now' ? t : c.mtime }),
      ctime: t,
    };
    const mode = c.mode === undefined ? dn.mode : (dn.mode & ~0o7777) | (c.mode & 0o7777);
    this.head.setDnode(obj, withZnode({ ...dn, mode }, z));
  }

  /** Sets the atime alone (no ctime change), as a read does. */
  touchAtime(obj: number, dn: Dnode): void {
    this.head.setDnode(obj, withZnode(dn, { atime: this.now() }));
  }

  /** Creates a file, directory or symlink (`target`) named `name` in `dir`; returns its object number. */
  async createIn(
    dir: number,
    name: string,
    type: FsObjectType,
    attrs: FsCreateAttrs,
    target?: string,
  ): Promise<number> {
    const entries = await this.liveDir(dir, type === 'dir' ? 'mkdir' : 'create', name);
    if (entries.some((e) => e.name === name))
      throw new ZfsError('EEXIST', `cannot create '${name}' in directory object ${dir}: it exists`);
    const owner = { uid: attrs.uid ?? 0, gid: attrs.gid ?? 0, parent: type === 'dir' ? dir : 0 };
    const bs = type === 'file' ? this.recordsize : FILE_BLOCK_SIZE;
    const object = this.head.create(
      newObjectDnode(type, type === 'symlink' ? 0o777 : attrs.mode, this.now(), owner, bs),
    );
    if (target !== undefined) await this.setData(object, this.head.state(object)!.dnode, 0, Buffer.from(target));
    await this.writeDir(dir, [...entries, { name, object, type }], type === 'dir' ? 1 : 0);
    return object;
  }

  async create(path: string, type: FsObjectType, mode: number): Promise<number> {
    const { dir, name } = await this.parentOf(path, type === 'dir' ? 'mkdir' : 'create');
    return this.createIn(dir, name, type, { mode });
  }

  /** A hard link: a new entry for an existing file or symlink. */
  async linkIn(dir: number, name: string, obj: number): Promise<void> {
    const dn = await this.view.mustDnode(obj, `object ${obj}`);
    if (dn.type === 'dir') throw new ZfsError('EPERM', `cannot link '${name}' to object ${obj}: it is a directory`);
    if (dn.nlink === 0) throw new ZfsError('ENOENT', `cannot link '${name}' to object ${obj}: it was removed`);
    const entries = await this.liveDir(dir, 'link', name);
    if (entries.some((e) => e.name === name))
      throw new ZfsError('EEXIST', `cannot link '${name}' in directory object ${dir}: it exists`);
    this.head.setDnode(obj, this.changed({ ...dn, nlink: dn.nlink + 1 }, false));
    await this.writeDir(dir, [...entries, { name, object: obj, type: dn.type === 'symlink' ? 'symlink' : 'file' }]);
  }

  /** One link fewer; at none the object goes now, or at its last release if it is held. */
  private async dropLink(obj: number, isDir: boolean): Promise<void> {
    const dn = await this.view.mustDnode(obj, `object ${obj}`);
    const nlink = isDir ? 0 : dn.nlink - 1;
    if (nlink > 0) {
      this.head.setDnode(obj, this.changed({ ...dn, nlink }, false));
      return;
    }
    if (this.head.isHeld(obj)) {
      this.head.setDnode(obj, this.changed({ ...dn, nlink: 0 }, false));
      this.head.orphans.add(obj);
      await this.saveUnlinkedSet();
      return;
    }
    await this.freeObject(obj, dn);
  }

  /** Writes the orphans as the unlinked set: u64 object numbers (a hidden data object). */
  async saveUnlinkedSet(): Promise<void> {
    const list = Buffer.alloc(8 * this.head.orphans.size);
    [...this.head.orphans].forEach((o, i) => writeU64(list, i * 8, o));
    let u = this.head.unlinkedSet;
    if (u === 0) {
      if (list.length === 0) return;
      u = this.head.create(newObjectDnode('xattr', 0, this.now()));
      this.head.meta = { ...this.head.meta, ctime: u };
    }
    const dn = this.head.state(u)?.dnode ?? (await this.view.mustDnode(u, 'the unlinked set'));
    await this.setData(u, dn, 0, list);
    await this.resize(u, this.head.state(u)!.dnode, list.length);
  }

  /** At first use after import: frees every object the unlinked set lists (no one can hold them now). */
  async drainUnlinkedSet(): Promise<void> {
    const u = this.head.unlinkedSet;
    if (u === 0) return;
    const dn = await this.view.mustDnode(u, 'the unlinked set');
    if (dn.size === 0) return;
    const list = await this.view.readData(u, dn, 0, dn.size);
    for (let at = 0; at + 8 <= list.length; at += 8) {
      const obj = readU64(list, at, 'the unlinked set');
      const o = await this.view.dnode(obj);
      if (o !== undefined && o.nlink === 0) await this.freeObject(obj, o);
    }
    this.head.orphans.clear();
    await this.saveUnlinkedSet();
  }

  async freeObject(obj: number, dn?: Dnode): Promise<void> {
    const d = dn ?? (await this.view.mustDnode(obj, `object ${obj}`));
    const x = znodeOf(d).xattr;
    // Loaded into the head first: free() changes a loaded object's state.
    if (x !== 0 && (await this.view.dnode(x)) !== undefined) this.head.free(x);
    if (this.head.state(obj) === undefined) await this.view.mustDnode(obj, `object ${obj}`);
    this.head.free(obj);
  }

  /** Removes a file (`dir` false) or an empty directory (`dir` true). */
  async removeIn(dir: number, name: string, isDir: boolean): Promise<void> {
    const verb = isDir ? 'rmdir' : 'unlink';
    const entries = await this.liveDir(dir, verb, name);
    const e = entries.find((x) => x.name === name);
    if (e === undefined) throw new ZfsError('ENOENT', `cannot ${verb} '${name}': no such file or directory`);
    if (!isDir && e.type === 'dir') throw new ZfsError('EISDIR', `cannot unlink '${name}': it is a directory`);
    if (isDir && e.type !== 'dir') throw new ZfsError('ENOTDIR', `cannot rmdir '${name}': not a directory`);
    if (isDir && (await this.view.readDir(e.object, name)).length > 0)
      throw new ZfsError('ENOTEMPTY', `cannot rmdir '${name}': directory not empty`);
    await this.dropLink(e.object, isDir);
    await this.writeDir(
      dir,
      entries.filter((x) => x !== e),
      isDir ? -1 : 0,
    );
  }

  async remove(path: string, isDir: boolean): Promise<void> {
    const { dir, name } = await this.parentOf(path, isDir ? 'rmdir' : 'unlink');
    await this.removeIn(dir, name, isDir);
  }

  /** True if directory `obj` is `dir` or one of its ancestors. */
  private async isAncestor(obj: number, dir: number): Promise<boolean> {
    for (let cur = dir, hops = 0; hops < 4096; hops++) {
      if (cur === obj) return true;
      if (cur === ROOT_OBJECT) return false;
      const next = znodeOf(await this.view.mustDnode(cur, `directory object ${cur}`)).parent;
      if (next === 0) return false;
      cur = next;
    }
    throw new ZfsError('EIO', `directory object ${dir}: its parents do not reach the root`);
  }

  /** rename(2): replaces a file by a file or an empty directory by a directory, atomically in one txg. */
  async renameIn(srcDir: number, srcName: string, dstDir: number, dstName: string): Promise<void> {
    const srcEntries = await this.liveDir(srcDir, 'rename', srcName);
    const moving = srcEntries.find((e) => e.name === srcName);
    if (moving === undefined) throw new ZfsError('ENOENT', `cannot rename '${srcName}': no such file or directory`);
    const dstEntries = srcDir === dstDir ? srcEntries : await this.liveDir(dstDir, 'rename', dstName);
    if (moving.type === 'dir' && (await this.isAncestor(moving.object, dstDir)))
      throw new ZfsError('EINVAL', `cannot rename '${srcName}' to '${dstName}': a directory cannot move into itself`);
    if (srcDir === dstDir && srcName === dstName) return;
    const replaced = dstEntries.find((e) => e.name === dstName);
    if (replaced !== undefined) {
      // rename(2): two links of one file: nothing happens.
      if (replaced.object === moving.object) return;
      if (moving.type !== 'dir' && replaced.type === 'dir')
        throw new ZfsError('EISDIR', `cannot rename '${srcName}' to '${dstName}': it is a directory`);
      if (moving.type === 'dir' && replaced.type !== 'dir')
        throw new ZfsError('ENOTDIR', `cannot rename '${srcName}' to '${dstName}': not a directory`);
      if (replaced.type === 'dir' && (await this.view.readDir(replaced.object, dstName)).length > 0)
        throw new ZfsError('ENOTEMPTY', `cannot rename '${srcName}' to '${dstName}': directory not empty`);
      await this.dropLink(replaced.object, replaced.type === 'dir');
    }
    const moved: DirEntry = { ...moving, name: dstName };
    const isDir = moving.type === 'dir' ? 1 : 0;
    const lostDir = replaced?.type === 'dir' ? 1 : 0;
    const mdn = await this.view.mustDnode(moving.object, srcName);
    this.head.setDnode(moving.object, this.changed(mdn, false, isDir ? { parent: dstDir } : {}));
    if (srcDir === dstDir) {
      await this.writeDir(srcDir, [...srcEntries.filter((e) => e !== moving && e !== replaced), moved], -lostDir);
      return;
    }
    await this.writeDir(
      srcDir,
      srcEntries.filter((e) => e !== moving),
      -isDir,
    );
    await this.writeDir(dstDir, [...dstEntries.filter((e) => e !== replaced), moved], isDir - lostDir);
  }

  async rename(from: string, to: string): Promise<void> {
    const src = await this.parentOf(from, 'rename');
    const dst = await this.parentOf(to, 'rename');
    await this.renameIn(src.dir, src.name, dst.dir, dst.name);
  }

  /** setxattr(2) (value undefined: removexattr). The attributes are rewritten whole, in one txg. */
  async setXattr(obj: number, name: string, value: Buffer | undefined, flags = 0): Promise<void> {
    if (name === '' || Buffer.byteLength(name) > 255)
      throw new ZfsError('EINVAL', `object ${obj}: bad xattr name '${name}'`);
    const dn = await this.view.mustDnode(obj, `object ${obj}`);
    const attrs = await this.view.xattrs(obj, dn);
    const exists = attrs.has(name);
    if (value === undefined || flags & XATTR_REPLACE) {
      if (!exists) throw new ZfsError('ENODATA', `object ${obj}: no xattr '${name}'`);
    } else if (flags & XATTR_CREATE && exists) throw new ZfsError('EEXIST', `object ${obj}: xattr '${name}' exists`);
    if (value === undefined) attrs.delete(name);
    else attrs.set(name, value);
    const bytes = encodeXattrs(attrs);
    if (bytes.length > MAX_XATTR_BYTES)
      throw new ZfsError('E2BIG', `object ${obj}: xattrs would take ${bytes.length} bytes, over ${MAX_XATTR_BYTES}`);
    let x = znodeOf(dn).xattr;
    if (x === 0) x = this.head.create(newObjectDnode('xattr', 0, this.now()));
    const xdn = this.head.state(x)?.dnode ?? (await this.view.mustDnode(x, `xattrs of object ${obj}`));
    await this.setData(x, xdn, 0, bytes);
    await this.resize(x, this.head.state(x)!.dnode, bytes.length);
    this.head.setDnode(obj, this.changed(dn, false, { xattr: x }));
  }
}

// The changing operations on a filesystem head, in POSIX's terms (what a 9P server needs): create, mkdir,
// write, truncate, unlink, rmdir, rename. Each changes dnodes and whole blocks in the FsHead only; nothing
// reaches the disk before the next txg, which writes it all copy-on-write.
import { ZfsError } from './errors.js';
import {
  checkEntryName,
  encodeDir,
  newObjectDnode,
  splitPath,
  type DirEntry,
  type FsHead,
  type FsObjectType,
  type FsView,
} from './fs-objects.js';
import type { Dnode } from './objset.js';

export class FsOps {
  constructor(
    private readonly view: FsView,
    private readonly head: FsHead,
    private readonly now: () => number = Date.now,
  ) {}

  /** The directory holding `path`'s last component, and that component. */
  private async parentOf(path: string, verb: string): Promise<{ dir: number; dirPath: string; name: string }> {
    const parts = splitPath(path);
    if (parts.length === 0) throw new ZfsError('EINVAL', `cannot ${verb} '/': it is the root directory`);
    const name = parts[parts.length - 1];
    checkEntryName(name, path);
    const dirPath = '/' + parts.slice(0, -1).join('/');
    const dir = await this.view.resolve(dirPath);
    if (dir.type !== 'dir') throw new ZfsError('ENOTDIR', `cannot ${verb} '${path}': '${dirPath}' is not a directory`);
    return { dir: dir.object, dirPath, name };
  }

  private async writeDir(dir: number, entries: readonly DirEntry[], nlinkDelta = 0): Promise<void> {
    const dn = await this.view.mustDnode(dir, `directory ${dir}`);
    const bytes = encodeDir(entries);
    await this.setData(dir, dn, 0, bytes);
    const after = this.head.state(dir)!.dnode;
    await this.resize(dir, { ...after, nlink: after.nlink + nlinkDelta }, bytes.length);
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
    const now = this.now();
    this.head.setDnode(obj, { ...dn, size: Math.max(dn.size, offset + data.length), mtime: now, ctime: now });
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
    const now = this.now();
    this.head.setDnode(obj, { ...dn, size, mtime: now, ctime: now });
  }

  async write(path: string, offset: number, data: Buffer): Promise<number> {
    const { object, type } = await this.view.resolve(path);
    if (type !== 'file') throw new ZfsError('EISDIR', `cannot write '${path}': it is a directory`);
    await this.setData(object, await this.view.mustDnode(object, path), offset, data);
    return data.length;
  }

  async truncate(path: string, size: number): Promise<void> {
    const { object, type } = await this.view.resolve(path);
    if (type !== 'file') throw new ZfsError('EISDIR', `cannot truncate '${path}': it is a directory`);
    await this.resize(object, await this.view.mustDnode(object, path), size);
  }

  async create(path: string, type: FsObjectType, mode: number): Promise<number> {
    const { dir, dirPath, name } = await this.parentOf(path, type === 'dir' ? 'mkdir' : 'create');
    const entries = await this.view.readDir(dir, dirPath);
    if (entries.some((e) => e.name === name)) throw new ZfsError('EEXIST', `cannot create '${path}': it exists`);
    const object = this.head.create(newObjectDnode(type, mode, this.now()));
    await this.writeDir(dir, [...entries, { name, object, type }], type === 'dir' ? 1 : 0);
    return object;
  }

  /** Removes a file (`dir` false) or an empty directory (`dir` true). */
  async remove(path: string, dir: boolean): Promise<void> {
    const parent = await this.parentOf(path, dir ? 'rmdir' : 'unlink');
    const entries = await this.view.readDir(parent.dir, parent.dirPath);
    const e = entries.find((x) => x.name === parent.name);
    if (e === undefined) throw new ZfsError('ENOENT', `'${path}': no such file or directory`);
    if (!dir && e.type === 'dir') throw new ZfsError('EISDIR', `cannot unlink '${path}': it is a directory`);
    if (dir && e.type !== 'dir') throw new ZfsError('ENOTDIR', `cannot rmdir '${path}': not a directory`);
    if (dir && (await this.view.readDir(e.object, path)).length > 0)
      throw new ZfsError('ENOTEMPTY', `cannot rmdir '${path}': directory not empty`);
    await this.view.mustDnode(e.object, path);
    this.head.free(e.object);
    await this.writeDir(
      parent.dir,
      entries.filter((x) => x !== e),
      dir ? -1 : 0,
    );
  }

  /** rename(2): replaces a file by a file or an empty directory by a directory, atomically in one txg. */
  async rename(from: string, to: string): Promise<void> {
    const src = await this.parentOf(from, 'rename');
    const dst = await this.parentOf(to, 'rename');
    const srcEntries = await this.view.readDir(src.dir, src.dirPath);
    const moving = srcEntries.find((e) => e.name === src.name);
    if (moving === undefined) throw new ZfsError('ENOENT', `cannot rename '${from}': no such file or directory`);
    const fromParts = splitPath(from);
    const toParts = splitPath(to);
    if (moving.type === 'dir' && toParts.length > fromParts.length && fromParts.every((p, i) => toParts[i] === p))
      throw new ZfsError('EINVAL', `cannot rename '${from}' to '${to}': a directory cannot move into itself`);
    if (src.dir === dst.dir && src.name === dst.name) return;
    const dstEntries = src.dir === dst.dir ? srcEntries : await this.view.readDir(dst.dir, dst.dirPath);
    const replaced = dstEntries.find((e) => e.name === dst.name);
    if (replaced !== undefined) {
      if (moving.type === 'file' && replaced.type === 'dir')
        throw new ZfsError('EISDIR', `cannot rename '${from}' to '${to}': it is a directory`);
      if (moving.type === 'dir' && replaced.type === 'file')
        throw new ZfsError('ENOTDIR', `cannot rename '${from}' to '${to}': not a directory`);
      if (replaced.type === 'dir' && (await this.view.readDir(replaced.object, to)).length > 0)
        throw new ZfsError('ENOTEMPTY', `cannot rename '${from}' to '${to}': directory not empty`);
      await this.view.mustDnode(replaced.object, to);
      this.head.free(replaced.object);
    }
    const moved: DirEntry = { ...moving, name: dst.name };
    const isDir = moving.type === 'dir' ? 1 : 0;
    if (src.dir === dst.dir) {
      await this.writeDir(
        src.dir,
        [...srcEntries.filter((e) => e !== moving && e !== replaced), moved],
        -(replaced?.type === 'dir' ? 1 : 0),
      );
      return;
    }
    await this.writeDir(
      src.dir,
      srcEntries.filter((e) => e !== moving),
      -isDir,
    );
    await this.writeDir(
      dst.dir,
      [...dstEntries.filter((e) => e !== replaced), moved],
      isDir - (replaced?.type === 'dir' ? 1 : 0),
    );
  }
}

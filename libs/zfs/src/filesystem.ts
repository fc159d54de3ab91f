// A filesystem handle: file and directory operations on a filesystem dataset, or read-only ones on a
// snapshot of it, by path or by object number (what a 9P server uses: a fid names an object). Like Volume
// it holds no state: every call goes to the pool, under its lock. Changes are buffered in the open txg, each
// operation whole (a refused write changes nothing); sync() makes them durable. Filesystem changes are not
// logged in the intent log in this slice, so fsync is a txg sync of the pool.
import { ZfsError } from './errors.js';
import { FILE_BLOCK_SIZE, MAX_FILE, ROOT_OBJECT, msOfTime, type DirEntry, type FsStat } from './fs-objects.js';
import type { FsCreateAttrs, FsOps, FsSetAttr } from './fs-ops.js';
import type { FsView } from './fs-objects.js';

export interface FilesystemHost {
  fsRead<T>(dataset: number, snapshot: number | undefined, op: (view: FsView) => Promise<T>): Promise<T>;
  /**
   * `growth`: bytes of data the operation may add (for the space and quota checks). `housekeeping`: an
   * atime update or a release, allowed on a readonly dataset and without the space check. `blockSizeOf`:
   * the block size of the object the growth lands in (default 16 KiB), read under the pool's lock.
   */
  fsWrite<T>(
    dataset: number,
    growth: number,
    op: (ops: FsOps, view: FsView) => Promise<T>,
    housekeeping?: boolean,
    blockSizeOf?: (view: FsView) => Promise<number>,
  ): Promise<T>;
  fsProperty(dataset: number, prop: string): string;
  fsSnapshots(dataset: number): string[];
  fsSpace(dataset: number): { used: number; available: number };
  sync(): Promise<number>;
}

/** statfs(2)'s numbers for a dataset, in bytes and objects. */
export interface FsStatFs {
  readonly blockSize: number;
  readonly totalBytes: number;
  readonly availableBytes: number;
  readonly objects: number;
}

/** relatime: an atime older than this (or than mtime/ctime) is updated by a read. */
const RELATIME_MS = 24 * 3600 * 1000;

const DEFAULT_FILE_MODE = 0o644;
const DEFAULT_DIR_MODE = 0o755;

export class Filesystem {
  constructor(
    private readonly host: FilesystemHost,
    /** "tank/home" or "tank/home@monday". */
    readonly name: string,
    private readonly dataset: number,
    private readonly snapshot: number | undefined,
  ) {}

  get readOnly(): boolean {
    return this.snapshot !== undefined;
  }

  private write<T>(
    verb: string,
    path: string,
    op: (ops: FsOps, view: FsView) => Promise<T>,
    growth = 0,
    blockSizeOf?: (view: FsView) => Promise<number>,
  ): Promise<T> {
    if (this.readOnly)
      return Promise.reject(new ZfsError('EROFS', `cannot ${verb} '${path}' in ${this.name}: snapshots are read-only`));
    return this.host.fsWrite(this.dataset, growth, op, false, blockSizeOf);
  }

  private view<T>(op: (view: FsView) => Promise<T>): Promise<T> {
    return this.host.fsRead(this.dataset, this.snapshot, op);
  }

  /** The root directory's object number. */
  get root(): number {
    return ROOT_OBJECT;
  }

  /** A property's effective value (of the dataset, also for a snapshot's handle). */
  property(prop: string): string {
    return this.host.fsProperty(this.dataset, prop);
  }

  /** The dataset's snapshots by name, oldest first (what .zfs/snapshot lists). */
  snapshots(): string[] {
    return this.host.fsSnapshots(this.dataset);
  }

  getattr(object: number): Promise<FsStat> {
    return this.view((v) => v.statObject(object));
  }

  /** The entry `name` of directory object `dir` ('.' and '..' too). */
  lookup(dir: number, name: string): Promise<DirEntry> {
    return this.view((v) => v.lookup(dir, name));
  }

  /** Entries of directory object `dir`, sorted by name ("." and ".." are not listed). */
  list(dir: number): Promise<DirEntry[]> {
    return this.view((v) => v.readDir(dir, `directory object ${dir}`));
  }

  /** Up to `length` bytes of a file object from `offset`; updates its atime as relatime does (atime=on). */
  async readObject(object: number, offset: number, length: number): Promise<Buffer> {
    checkRange(`object ${object}`, offset, length);
    let stale = false;
    const data = await this.view(async (v) => {
      const dn = await v.mustDnode(object, `object ${object}`);
      if (dn.type === 'dir') throw new ZfsError('EISDIR', `cannot read object ${object}: it is a directory`);
      const st = await v.statObject(object);
      const at = msOfTime(st.atimeNs);
      stale = at <= st.mtime || at <= st.ctime || Date.now() - at > RELATIME_MS;
      return v.readData(object, dn, offset, length);
    });
    if (stale && !this.readOnly && this.property('atime') === 'on' && this.property('readonly') === 'off')
      await this.host.fsWrite(
        this.dataset,
        0,
        async (ops, v) => {
          const dn = await v.dnode(object);
          if (dn !== undefined) ops.touchAtime(object, dn);
        },
        true,
      );
    return data;
  }

  /** Writes at `offset` (at the end with `append`, O_APPEND's rule); returns the offset written at. */
  async writeObject(object: number, offset: number, data: Uint8Array, append = false): Promise<number> {
    checkRange(`object ${object}`, offset, data.length);
    return await this.write(
      'write',
      `object ${object}`,
      (ops) => ops.writeObject(object, offset, Buffer.from(data), append),
      data.length,
      blockSizeOfObject(object),
    );
  }

  /** chmod, chown, truncate (both ways) and utimes in one change. */
  async setattr(object: number, changes: FsSetAttr): Promise<FsStat> {
    if (changes.size !== undefined) checkRange(`object ${object}`, changes.size, 0);
    return await this.write(
      'setattr',
      `object ${object}`,
      async (ops, v) => {
        await ops.setattr(object, changes);
        return v.statObject(object);
      },
      changes.size !== undefined ? FILE_BLOCK_SIZE : 0,
      blockSizeOfObject(object),
    );
  }

  /** Creates a file or directory `name` in directory object `dir` (EEXIST if taken); returns its number. */
  createAt(dir: number, name: string, type: 'file' | 'dir', attrs: FsCreateAttrs): Promise<number> {
    return this.write(type === 'dir' ? 'mkdir' : 'create', name, (ops) => ops.createIn(dir, name, type, attrs));
  }

  symlinkAt(dir: number, name: string, target: string, owner: { uid?: number; gid?: number } = {}): Promise<number> {
    if (target === '' || Buffer.byteLength(target) > 4095)
      return Promise.reject(new ZfsError('EINVAL', `symlink '${name}': bad target length`));
    return this.write(
      'symlink',
      name,
      (ops) => ops.createIn(dir, name, 'symlink', { mode: 0o777, ...owner }, target),
      Buffer.byteLength(target),
    );
  }

  readlink(object: number): Promise<string> {
    return this.view(async (v) => {
      const dn = await v.mustDnode(object, `object ${object}`);
      if (dn.type !== 'symlink') throw new ZfsError('EINVAL', `object ${object} is not a symlink`);
      return (await v.readData(object, dn, 0, dn.size)).toString('utf8');
    });
  }

  /** A hard link `name` in `dir` to file or symlink `object`. */
  linkAt(dir: number, name: string, object: number): Promise<void> {
    return this.write('link', name, (ops) => ops.linkIn(dir, name, object));
  }

  /** unlink or rmdir of `name` in `dir`; a held object (see hold) stays readable until its last release. */
  unlinkAt(dir: number, name: string, isDir: boolean): Promise<void> {
    return this.write(isDir ? 'rmdir' : 'unlink', name, (ops) => ops.removeIn(dir, name, isDir));
  }

  /** rename(2), atomic, also over an existing compatible target. */
  renameAt(srcDir: number, srcName: string, dstDir: number, dstName: string): Promise<void> {
    return this.write('rename', srcName, (ops) => ops.renameIn(srcDir, srcName, dstDir, dstName));
  }

  /** A reference (an open file, a 9P fid): an object unlinked while held is freed at its last release. */
  async hold(object: number): Promise<void> {
    if (this.readOnly) return;
    await this.view((v) => Promise.resolve(v.head?.hold(object)));
  }

  async release(object: number): Promise<void> {
    if (this.readOnly) return;
    await this.host.fsWrite(
      this.dataset,
      0,
      async (ops, v) => {
        if (v.head?.release(object) === true) {
          await ops.freeObject(object);
          await ops.saveUnlinkedSet();
        }
      },
      true,
    );
  }

  async getxattr(object: number, name: string): Promise<Buffer> {
    const attrs = await this.view(async (v) => v.xattrs(object, await v.mustDnode(object, `object ${object}`)));
    const value = attrs.get(name);
    if (value === undefined) throw new ZfsError('ENODATA', `object ${object}: no xattr '${name}'`);
    return value;
  }

  async listxattr(object: number): Promise<string[]> {
    const attrs = await this.view(async (v) => v.xattrs(object, await v.mustDnode(object, `object ${object}`)));
    return [...attrs.keys()];
  }

  /** flags: XATTR_CREATE / XATTR_REPLACE (from fs-ops). */
  setxattr(object: number, name: string, value: Uint8Array, flags = 0): Promise<void> {
    return this.write(
      'setxattr',
      name,
      (ops) => ops.setXattr(object, name, Buffer.from(value), flags),
      value.length + 4096,
    );
  }

  removexattr(object: number, name: string): Promise<void> {
    return this.write('removexattr', name, (ops) => ops.setXattr(object, name, undefined));
  }

  /** statfs: the dataset's referenced plus available bytes as the total. */
  async statfs(): Promise<FsStatFs> {
    const objects = await this.view((v) => Promise.resolve(v.head?.nextObject ?? 0));
    const space = this.host.fsSpace(this.dataset);
    return {
      blockSize: FILE_BLOCK_SIZE,
      totalBytes: space.used + (this.readOnly ? 0 : space.available),
      availableBytes: this.readOnly ? 0 : space.available,
      objects,
    };
  }

  stat(path: string): Promise<FsStat> {
    return this.host.fsRead(this.dataset, this.snapshot, (v) => v.stat(path));
  }

  /** Entries of a directory, sorted by name ("." and ".." are not listed). */
  readdir(path: string): Promise<DirEntry[]> {
    return this.host.fsRead(this.dataset, this.snapshot, async (v) => {
      const { object } = await v.resolve(path);
      return v.readDir(object, path);
    });
  }

  /** Up to `length` bytes from `offset` (fewer at the end of the file). */
  async read(path: string, offset: number, length: number): Promise<Buffer> {
    checkRange(path, offset, length);
    return await this.host.fsRead(this.dataset, this.snapshot, async (v) => {
      const { object, type } = await v.resolve(path);
      if (type !== 'file') throw new ZfsError('EISDIR', `cannot read '${path}': it is a directory`);
      return v.readData(object, await v.mustDnode(object, path), offset, length);
    });
  }

  /** Creates an empty file (EEXIST if the name is taken); returns its object number. */
  create(path: string, mode = DEFAULT_FILE_MODE): Promise<number> {
    return this.write('create', path, (ops) => ops.create(path, 'file', mode));
  }

  mkdir(path: string, mode = DEFAULT_DIR_MODE): Promise<number> {
    return this.write('mkdir', path, (ops) => ops.create(path, 'dir', mode));
  }

  /** Writes at `offset`, extending the file as needed (a gap reads as zeros). */
  async writeFile(path: string, offset: number, data: Uint8Array): Promise<number> {
    checkRange(path, offset, data.length);
    return await this.write(
      'write',
      path,
      (ops) => ops.write(path, offset, Buffer.from(data)),
      data.length,
      blockSizeOfPath(path),
    );
  }

  async truncate(path: string, size: number): Promise<void> {
    checkRange(path, size, 0);
    return await this.write(
      'truncate',
      path,
      (ops) => ops.truncate(path, size),
      FILE_BLOCK_SIZE,
      blockSizeOfPath(path),
    );
  }

  unlink(path: string): Promise<void> {
    return this.write('unlink', path, (ops) => ops.remove(path, false));
  }

  rmdir(path: string): Promise<void> {
    return this.write('rmdir', path, (ops) => ops.remove(path, true));
  }

  rename(from: string, to: string): Promise<void> {
    return this.write('rename', from, (ops) => ops.rename(from, to));
  }

  /** Makes every change so far durable (a txg sync of the pool). */
  async sync(): Promise<void> {
    await this.host.sync();
  }
}

const blockSizeOfObject =
  (object: number) =>
  async (v: FsView): Promise<number> =>
    (await v.mustDnode(object, `object ${object}`)).blockSize;

const blockSizeOfPath =
  (path: string) =>
  async (v: FsView): Promise<number> =>
    (await v.mustDnode((await v.resolve(path)).object, path)).blockSize;

function checkRange(path: string, offset: number, length: number): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > MAX_FILE
  )
    throw new ZfsError('EINVAL', `'${path}': range [${offset}, +${length}) is invalid`);
}

// A filesystem handle: path-based file and directory operations on a filesystem dataset, or read-only ones
// on a snapshot of it. Like Volume it holds no state: every call goes to the pool, under its lock.
// Changes are buffered in the open txg; sync() makes them durable (filesystem changes are not logged in
// the intent log in this slice, so a flush of a pool with dirty filesystems syncs a txg).
import { ZfsError } from './errors.js';
import { FILE_BLOCK_SIZE, type DirEntry, type FsStat } from './fs-objects.js';
import type { FsOps } from './fs-ops.js';
import type { FsView } from './fs-objects.js';

export interface FilesystemHost {
  fsRead<T>(dataset: number, snapshot: number | undefined, op: (view: FsView) => Promise<T>): Promise<T>;
  /** `growth`: bytes of data the operation may add (for the space and quota checks). */
  fsWrite<T>(dataset: number, growth: number, op: (ops: FsOps, view: FsView) => Promise<T>): Promise<T>;
  sync(): Promise<number>;
}

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

  private write<T>(verb: string, path: string, op: (ops: FsOps, view: FsView) => Promise<T>, growth = 0): Promise<T> {
    if (this.readOnly)
      return Promise.reject(new ZfsError('EROFS', `cannot ${verb} '${path}' in ${this.name}: snapshots are read-only`));
    return this.host.fsWrite(this.dataset, growth, op);
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
    return await this.write('write', path, (ops) => ops.write(path, offset, Buffer.from(data)), data.length);
  }

  async truncate(path: string, size: number): Promise<void> {
    checkRange(path, size, 0);
    return await this.write('truncate', path, (ops) => ops.truncate(path, size), FILE_BLOCK_SIZE);
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

/** Files are limited to 2^48 bytes, far below what the u64 fields hold, so offsets stay exact numbers. */
const MAX_FILE = 2 ** 48;

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

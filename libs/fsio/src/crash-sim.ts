// An in-memory filesystem that knows, for every file and directory, what is durable and what is not, and
// can produce the disk as a power cut would leave it. `kill -9` proves nothing about fsync (the page cache
// survives it); this does. Every component's crash tests run against it.
//
// Model (see the contract in fileio.ts): each file has a live image (what reads see), a durable image, and
// the writes/truncates issued since they last reached the durable image, in issue order. A completed
// sync() folds the ops that were pending when it was called into the durable image. Each directory has its
// live entries, its durable entries, and the creates/renames/unlinks since, folded in by fsyncDir().
import { posix } from 'node:path';
import { checkByteCount, FsioError } from './errors.js';
import type { FileHandle, FileIO, OpenOptions } from './fileio.js';
import { type Random, seededRandom, shuffle, upTo } from './random.js';

/**
 * What survives of the un-synced operations:
 *  - 'drop-all': nothing; the disk holds exactly the durable images.
 *  - 'random-subset': any subset of the pending writes, cut into sector pieces, each kept or lost on its
 *    own and landing in any order (a later write may survive an earlier one to the same bytes); any
 *    subset of the pending directory operations, applied in issue order.
 *  - 'reorder-prefix': per file, a prefix of its pending writes in issue order, the write at the cut torn
 *    (some of its sectors landed); per directory, a prefix of its pending operations. Each file and
 *    directory is cut independently, so writes to different files are reordered against each other.
 */
export type CrashMode = 'drop-all' | 'random-subset' | 'reorder-prefix';

export interface CrashOptions {
  /** Same seed, same history, same disk. */
  readonly seed?: number;
  /** Default 'random-subset', the most adversarial. */
  readonly mode?: CrashMode;
}

export interface CrashSimOptions {
  /** Torn writes tear at this granularity. Default 512. */
  readonly sectorSize?: number;
  /** How long a sync takes; other I/O interleaves meanwhile. Default: one turn of the event loop. */
  readonly syncDelay?: () => Promise<void>;
}

type FileOp =
  | { readonly kind: 'write'; readonly offset: number; readonly data: Buffer }
  | { readonly kind: 'truncate'; readonly length: number };
type DirOp =
  | { readonly kind: 'link'; readonly name: string; readonly inode: Inode }
  | { readonly kind: 'unlink'; readonly name: string }
  | { readonly kind: 'rename'; readonly from: string; readonly to: string };

/** A growable byte array whose bytes past `length` are always zero (so extending leaves a zero hole). */
class Bytes {
  private buf: Buffer;
  length: number;

  constructor(init?: Buffer) {
    this.buf = init ? Buffer.from(init) : Buffer.alloc(0);
    this.length = this.buf.length;
  }

  private reserve(n: number): void {
    if (n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(n, this.buf.length * 2, 64));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  read(offset: number, length: number): Buffer {
    const end = Math.min(this.length, offset + length);
    return end > offset ? Buffer.from(this.buf.subarray(offset, end)) : Buffer.alloc(0);
  }

  write(offset: number, data: Uint8Array): void {
    this.reserve(offset + data.length);
    this.buf.set(data, offset);
    this.length = Math.max(this.length, offset + data.length);
  }

  truncate(length: number): void {
    if (length < this.length) this.buf.fill(0, length, this.length);
    else this.reserve(length);
    this.length = length;
  }

  apply(op: FileOp): void {
    if (op.kind === 'write') this.write(op.offset, op.data);
    else this.truncate(op.length);
  }

  bytes(): Buffer {
    return this.read(0, this.length);
  }
}

class FileInode {
  readonly type = 'file';
  readonly live: Bytes;
  readonly durable: Bytes;
  pending: FileOp[] = [];
  constructor(data?: Buffer) {
    this.live = new Bytes(data);
    this.durable = new Bytes(data);
  }
}

class DirInode {
  readonly type = 'dir';
  pending: DirOp[] = [];
  constructor(
    readonly live = new Map<string, Inode>(),
    readonly durable = new Map<string, Inode>(live),
  ) {}
}

type Inode = FileInode | DirInode;

function applyDirOp(entries: Map<string, Inode>, op: DirOp): void {
  if (op.kind === 'link') {
    entries.set(op.name, op.inode);
  } else if (op.kind === 'unlink') {
    entries.delete(op.name);
  } else {
    // A rename whose source never became durable moves nothing (the subset may hold it without the create).
    const inode = entries.get(op.from);
    if (inode === undefined) return;
    entries.delete(op.from);
    entries.set(op.to, inode);
  }
}

/** Cuts a write at sector boundaries: the units a power cut keeps or loses. */
function sectorPieces(op: FileOp, sectorSize: number): FileOp[] {
  if (op.kind === 'truncate') return [op];
  const pieces: FileOp[] = [];
  let at = op.offset;
  const end = op.offset + op.data.length;
  while (at < end) {
    const next = Math.min(end, (Math.floor(at / sectorSize) + 1) * sectorSize);
    pieces.push({ kind: 'write', offset: at, data: op.data.subarray(at - op.offset, next - op.offset) });
    at = next;
  }
  return pieces;
}

export class CrashSimFileIO implements FileIO {
  private root = new DirInode();
  private readonly sectorSize: number;
  private readonly syncDelay: () => Promise<void>;
  private deadBecause: string | undefined;
  private opBudget = Infinity;
  private ops = 0;
  private fsyncs = 0;
  private dirFsyncs = 0;
  private readonly port: SimPort = {
    enter: (what) => this.enter(what),
    syncFile: (inode, what) => this.syncFile(inode, what),
  };

  constructor(options: CrashSimOptions = {}) {
    this.sectorSize = options.sectorSize ?? 512;
    if (!Number.isSafeInteger(this.sectorSize) || this.sectorSize < 1) {
      throw new FsioError('EINVAL', `CrashSimFileIO: sectorSize ${this.sectorSize} is not a positive integer`);
    }
    this.syncDelay = options.syncDelay ?? (() => new Promise<void>((r) => setImmediate(r)));
  }

  /** Completed file syncs (sync and datasync). */
  get fsyncCount(): number {
    return this.fsyncs;
  }

  /** Completed directory syncs. */
  get dirFsyncCount(): number {
    return this.dirFsyncs;
  }

  /** I/O calls made so far (each FileIO and FileHandle method call counts one). */
  get opCount(): number {
    return this.ops;
  }

  /** Whether this instance has lost power (crash() or a cut set by powerCutAfter()). */
  get dead(): boolean {
    return this.deadBecause !== undefined;
  }

  /**
   * Lets `n` more I/O calls through; the next one, and every one after, fails with EIO as if power was cut
   * just before it. Syncs still in flight never complete. Then crash() gives the disk. Walking n from 0 up
   * crashes a procedure at each of its steps.
   */
  powerCutAfter(n: number): void {
    this.opBudget = this.ops + n;
  }

  /**
   * The disk after a power cut now: a new instance holding only what survived. This instance is dead from
   * here on (every call throws EIO), which catches code that keeps using a handle across a crash. crash()
   * may be called again on the dead instance to try another seed or mode on the same history.
   */
  crash(options: CrashOptions = {}): CrashSimFileIO {
    this.deadBecause ??= 'the disk crashed (CrashSimFileIO.crash())';
    const rnd = seededRandom(options.seed ?? 0);
    const root = this.survivingDir(this.root, options.mode ?? 'random-subset', rnd, new Map());
    const disk = new CrashSimFileIO({ sectorSize: this.sectorSize, syncDelay: this.syncDelay });
    disk.root = root;
    return disk;
  }

  /** The durable files (path to bytes, sorted): what any crash is guaranteed to keep. */
  snapshotDisk(): Map<string, Buffer> {
    const files = new Map<string, Buffer>();
    const walk = (dir: DirInode, at: string): void => {
      for (const name of [...dir.durable.keys()].sort()) {
        const inode = dir.durable.get(name)!;
        const path = posix.join(at, name);
        if (inode.type === 'file') files.set(path, inode.durable.bytes());
        else walk(inode, path);
      }
    };
    walk(this.root, '/');
    return files;
  }

  private survivingDir(dir: DirInode, mode: CrashMode, rnd: Random, memo: Map<Inode, Inode>): DirInode {
    const entries = new Map(dir.durable);
    let ops: DirOp[] = [];
    if (mode === 'random-subset') ops = dir.pending.filter(() => rnd() < 0.5);
    else if (mode === 'reorder-prefix') ops = dir.pending.slice(0, upTo(rnd, dir.pending.length));
    for (const op of ops) applyDirOp(entries, op);
    const out = new Map<string, Inode>();
    for (const [name, inode] of entries) {
      let copy = memo.get(inode);
      if (copy === undefined) {
        copy = inode.type === 'file' ? this.survivingFile(inode, mode, rnd) : this.survivingDir(inode, mode, rnd, memo);
        memo.set(inode, copy);
      }
      out.set(name, copy);
    }
    return new DirInode(out);
  }

  private survivingFile(file: FileInode, mode: CrashMode, rnd: Random): FileInode {
    const disk = new Bytes(file.durable.bytes());
    if (mode === 'random-subset') {
      const pieces = file.pending.flatMap((op) => sectorPieces(op, this.sectorSize)).filter(() => rnd() < 0.5);
      for (const op of shuffle(rnd, pieces)) disk.apply(op);
    } else if (mode === 'reorder-prefix') {
      const cut = upTo(rnd, file.pending.length);
      for (const op of file.pending.slice(0, cut)) disk.apply(op);
      const torn = file.pending[cut];
      if (torn?.kind === 'write') {
        const pieces = sectorPieces(torn, this.sectorSize).filter(() => rnd() < 0.5);
        for (const op of shuffle(rnd, pieces)) disk.apply(op);
      }
    }
    return new FileInode(disk.bytes());
  }

  /** Every I/O call starts here: a dead instance refuses, and the power-cut budget is spent. */
  private enter(what: string): void {
    if (this.deadBecause === undefined && this.ops >= this.opBudget) {
      this.deadBecause = `power was cut after ${this.ops} I/O calls (CrashSimFileIO.powerCutAfter())`;
    }
    if (this.deadBecause !== undefined) throw new FsioError('EIO', `${what}: ${this.deadBecause}`);
    this.ops++;
  }

  /** Waits out a sync; it completes only if power held meanwhile. */
  private async syncing(what: string): Promise<void> {
    await this.syncDelay();
    if (this.deadBecause !== undefined) throw new FsioError('EIO', `${what}: ${this.deadBecause}`);
  }

  private split(path: string): string[] {
    return posix
      .resolve('/', path)
      .split('/')
      .filter((c) => c !== '');
  }

  private lookup(path: string, what: string): Inode {
    let node: Inode = this.root;
    for (const name of this.split(path)) {
      if (node.type !== 'dir') throw new FsioError('ENOTDIR', `${what}: a component of ${path} is not a directory`);
      const next = node.live.get(name);
      if (next === undefined) throw new FsioError('ENOENT', `${what}: ${path} does not exist`);
      node = next;
    }
    return node;
  }

  /** The directory that holds (or would hold) the last component of `path`, and that component. */
  private parentOf(path: string, what: string): { dir: DirInode; name: string } {
    const parts = this.split(path);
    const name = parts.pop();
    if (name === undefined) throw new FsioError('EINVAL', `${what}: ${path} is the root directory`);
    const dir = this.lookup('/' + parts.join('/'), what);
    if (dir.type !== 'dir') throw new FsioError('ENOTDIR', `${what}: a component of ${path} is not a directory`);
    return { dir, name };
  }

  private link(dir: DirInode, name: string, inode: Inode): void {
    dir.live.set(name, inode);
    dir.pending.push({ kind: 'link', name, inode });
  }

  async open(path: string, options: OpenOptions = {}): Promise<FileHandle> {
    const what = `open ${path}`;
    this.enter(what);
    const { dir, name } = this.parentOf(path, what);
    let inode = dir.live.get(name);
    if (inode === undefined) {
      if (!options.create) throw new FsioError('ENOENT', `${what}: ${path} does not exist`);
      inode = new FileInode();
      this.link(dir, name, inode);
    } else if (options.create && options.exclusive) {
      throw new FsioError('EEXIST', `${what}: ${path} already exists`);
    }
    if (inode.type === 'dir') throw new FsioError('EISDIR', `${what}: ${path} is a directory`);
    if (options.truncate) {
      inode.live.truncate(0);
      inode.pending.push({ kind: 'truncate', length: 0 });
    }
    return Promise.resolve(new CrashSimFileHandle(this.port, posix.resolve('/', path), inode, !options.readOnly));
  }

  async readFile(path: string): Promise<Buffer> {
    const what = `read ${path}`;
    this.enter(what);
    const inode = this.lookup(path, what);
    if (inode.type === 'dir') throw new FsioError('EISDIR', `${what}: ${path} is a directory`);
    return Promise.resolve(inode.live.bytes());
  }

  async writeFile(path: string, data: Uint8Array): Promise<void> {
    const fh = await this.open(path, { create: true, truncate: true });
    try {
      await fh.write(0, data);
    } finally {
      await fh.close();
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const what = `rename ${from} -> ${to}`;
    this.enter(what);
    const src = this.parentOf(from, what);
    const inode = src.dir.live.get(src.name);
    if (inode === undefined) throw new FsioError('ENOENT', `${what}: ${from} does not exist`);
    const dst = this.parentOf(to, what);
    const target = dst.dir.live.get(dst.name);
    if (target === inode) return Promise.resolve();
    if (
      inode.type === 'dir' &&
      this.split(to)
        .join('/')
        .startsWith(this.split(from).join('/') + '/')
    ) {
      throw new FsioError('EINVAL', `${what}: cannot move a directory into itself`);
    }
    if (target !== undefined) {
      if (inode.type === 'file' && target.type === 'dir')
        throw new FsioError('EISDIR', `${what}: ${to} is a directory`);
      if (inode.type === 'dir' && target.type === 'file')
        throw new FsioError('ENOTDIR', `${what}: ${to} is not a directory`);
      if (target.type === 'dir' && target.live.size > 0)
        throw new FsioError('ENOTEMPTY', `${what}: ${to} is not empty`);
    }
    src.dir.live.delete(src.name);
    dst.dir.live.set(dst.name, inode);
    if (src.dir === dst.dir) {
      src.dir.pending.push({ kind: 'rename', from: src.name, to: dst.name });
    } else {
      src.dir.pending.push({ kind: 'unlink', name: src.name });
      dst.dir.pending.push({ kind: 'link', name: dst.name, inode });
    }
    return Promise.resolve();
  }

  async unlink(path: string): Promise<void> {
    const what = `unlink ${path}`;
    this.enter(what);
    const { dir, name } = this.parentOf(path, what);
    const inode = dir.live.get(name);
    if (inode === undefined) throw new FsioError('ENOENT', `${what}: ${path} does not exist`);
    if (inode.type === 'dir') throw new FsioError('EISDIR', `${what}: ${path} is a directory`);
    dir.live.delete(name);
    dir.pending.push({ kind: 'unlink', name });
    return Promise.resolve();
  }

  async mkdirp(path: string): Promise<void> {
    const what = `mkdir -p ${path}`;
    this.enter(what);
    const parts = this.split(path);
    let dir = this.root;
    parts.forEach((name, i) => {
      const next = dir.live.get(name);
      if (next === undefined) {
        const made = new DirInode();
        this.link(dir, name, made);
        dir = made;
      } else if (next.type === 'file') {
        if (i === parts.length - 1) throw new FsioError('EEXIST', `${what}: ${path} exists and is not a directory`);
        throw new FsioError('ENOTDIR', `${what}: a component of ${path} is not a directory`);
      } else {
        dir = next;
      }
    });
    return Promise.resolve();
  }

  async readdir(path: string): Promise<string[]> {
    const what = `readdir ${path}`;
    this.enter(what);
    const inode = this.lookup(path, what);
    if (inode.type !== 'dir') throw new FsioError('ENOTDIR', `${what}: ${path} is not a directory`);
    return Promise.resolve([...inode.live.keys()].sort());
  }

  async exists(path: string): Promise<boolean> {
    const what = `stat ${path}`;
    this.enter(what);
    try {
      this.lookup(path, what);
      return Promise.resolve(true);
    } catch (e) {
      if (e instanceof FsioError && (e.kind === 'ENOENT' || e.kind === 'ENOTDIR')) return false;
      throw e;
    }
  }

  async fsyncDir(path: string): Promise<void> {
    const what = `fsync directory ${path}`;
    this.enter(what);
    const inode = this.lookup(path, what);
    if (inode.type !== 'dir') throw new FsioError('ENOTDIR', `${what}: ${path} is not a directory`);
    const covered = inode.pending.length;
    await this.syncing(what);
    for (const op of inode.pending.splice(0, covered)) applyDirOp(inode.durable, op);
    this.dirFsyncs++;
  }

  /** Folds a file's ops that were pending at the call into its durable image, once the sync completes. */
  private async syncFile(inode: FileInode, what: string): Promise<void> {
    const covered = inode.pending.length;
    await this.syncing(what);
    for (const op of inode.pending.splice(0, covered)) inode.durable.apply(op);
    this.fsyncs++;
  }
}

/** What a handle needs from its filesystem: the same power and the same power-cut budget. */
interface SimPort {
  enter(what: string): void;
  syncFile(inode: FileInode, what: string): Promise<void>;
}

class CrashSimFileHandle implements FileHandle {
  private closed = false;

  constructor(
    private readonly sim: SimPort,
    readonly path: string,
    private readonly inode: FileInode,
    private readonly writable: boolean,
  ) {}

  private enter(what: string): void {
    this.sim.enter(what);
    if (this.closed) throw new FsioError('EBADF', `${what}: handle is closed`);
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const what = `read ${this.path} at ${offset}`;
    this.enter(what);
    checkByteCount(offset, `read ${this.path}: offset`);
    checkByteCount(length, `read ${this.path}: length`);
    return Promise.resolve(this.inode.live.read(offset, length));
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    const what = `write ${this.path} at ${offset}`;
    this.enter(what);
    if (!this.writable) throw new FsioError('EBADF', `${what}: handle is read-only`);
    checkByteCount(offset, `write ${this.path}: offset`);
    this.writeNow(offset, data);
    return Promise.resolve();
  }

  private writeNow(offset: number, data: Uint8Array): void {
    if (data.length === 0) return;
    const copy = Buffer.from(data);
    this.inode.live.write(offset, copy);
    this.inode.pending.push({ kind: 'write', offset, data: copy });
  }

  async append(data: Uint8Array): Promise<void> {
    const what = `append ${this.path}`;
    this.enter(what);
    if (!this.writable) throw new FsioError('EBADF', `${what}: handle is read-only`);
    this.writeNow(this.inode.live.length, data);
    return Promise.resolve();
  }

  async size(): Promise<number> {
    this.enter(`stat ${this.path}`);
    return Promise.resolve(this.inode.live.length);
  }

  async truncate(length: number): Promise<void> {
    const what = `truncate ${this.path} to ${length}`;
    this.enter(what);
    if (!this.writable) throw new FsioError('EINVAL', `${what}: handle is read-only`);
    checkByteCount(length, `truncate ${this.path}: length`);
    this.inode.live.truncate(length);
    this.inode.pending.push({ kind: 'truncate', length });
    return Promise.resolve();
  }

  async sync(): Promise<void> {
    const what = `fsync ${this.path}`;
    this.enter(what);
    await this.sim.syncFile(this.inode, what);
  }

  async datasync(): Promise<void> {
    const what = `fdatasync ${this.path}`;
    this.enter(what);
    await this.sim.syncFile(this.inode, what);
  }

  async close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.enter(`close ${this.path}`);
    this.closed = true;
    return Promise.resolve();
  }
}

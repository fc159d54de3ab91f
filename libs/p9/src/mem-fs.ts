// An in-memory P9Filesystem with the POSIX semantics a 9P client can observe: the reference
// implementation of the interface (a ZFS dataset implements the same) and the filesystem of the tests.
// Memory answers at once, but the methods stay async so that a refusal is a rejection, as a dataset's is.
/* eslint-disable @typescript-eslint/require-await */
import {
  P9_LOCK_STATUS,
  P9_O,
  P9_XATTR_CREATE,
  P9_XATTR_REPLACE,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
} from './constants.js';
import { P9Error } from './errors.js';
import type {
  P9Attr,
  P9Cred,
  P9DirEntry,
  P9Filesystem,
  P9Handle,
  P9Lock,
  P9NodeId,
  P9SetAttr,
  P9StatFs,
  P9Time,
} from './filesystem.js';
import { P9LockTable } from './locks.js';

const BLOCK = 4096;
/** tmpfs's statfs magic: this is a memory filesystem. */
const TMPFS_MAGIC = 0x01021994;
const MAX_FILE_SIZE = Number.MAX_SAFE_INTEGER;

export interface MemFilesystemOptions {
  /** Bytes of file data the filesystem holds (default 1 GiB); beyond it writes fail with ENOSPC. */
  capacity?: number;
  /** Inodes the filesystem holds (default 1,000,000). */
  maxFiles?: number;
  /** Allow character and block device nodes (default false: mknod refuses them with EPERM). */
  allowDeviceNodes?: boolean;
  /** The clock for timestamps (default: the wall clock). */
  now?: () => P9Time;
  fsid?: bigint;
}

interface Inode {
  ino: P9NodeId;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  rdev: number;
  size: number;
  atime: P9Time;
  mtime: P9Time;
  ctime: P9Time;
  btime: P9Time;
  dataVersion: number;
  xattrs: Map<string, Buffer>;
  /** References from fids (root/lookup/create/retain minus forget). */
  refs: number;
  opens: number;
  /** Regular files: allocated 4 KiB blocks by index; a missing block is a hole. */
  blocks?: Map<number, Buffer>;
  /** Directories: name → entry, in cookie order (every insertion takes a fresh, larger cookie). */
  entries?: Map<string, { ino: P9NodeId; cookie: number }>;
  nextCookie?: number;
  parent?: P9NodeId;
  /** Symlinks. */
  target?: string;
}

interface Open {
  ino: P9NodeId;
  flags: number;
}

// The wall clock at nanosecond resolution: Date.now() anchors the monotonic hrtime once.
const CLOCK_BASE_NS = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

function wallClock(): P9Time {
  const ns = CLOCK_BASE_NS + process.hrtime.bigint();
  return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
}

const isDir = (n: Inode) => (n.mode & S_IFMT) === S_IFDIR;
const isReg = (n: Inode) => (n.mode & S_IFMT) === S_IFREG;

export class MemFilesystem implements P9Filesystem {
  private readonly inodes = new Map<P9NodeId, Inode>();
  private readonly opens = new Map<P9Handle, Open>();
  private readonly locks = new P9LockTable();
  private nextIno = 1;
  private nextHandle = 1;
  private usedBlocks = 0;
  private readonly capacityBlocks: number;
  private readonly maxFiles: number;
  private readonly now: () => P9Time;
  readonly rootIno: P9NodeId;

  constructor(private readonly options: MemFilesystemOptions = {}) {
    this.capacityBlocks = Math.floor((options.capacity ?? 1 << 30) / BLOCK);
    this.maxFiles = options.maxFiles ?? 1_000_000;
    this.now = options.now ?? wallClock;
    const root = this.newInode(S_IFDIR | 0o755, { uid: 0, gid: 0 });
    root.entries = new Map();
    root.nextCookie = 3;
    root.nlink = 2;
    root.parent = root.ino;
    this.rootIno = root.ino;
  }

  /** Inodes alive (linked, or unlinked but still referenced or open). */
  get inodeCount(): number {
    return this.inodes.size;
  }

  private newInode(mode: number, cred: P9Cred): Inode {
    if (this.inodes.size >= this.maxFiles) throw new P9Error('ENOSPC', `no free inodes (${this.maxFiles} in use)`);
    const t = this.now();
    const n: Inode = {
      ino: this.nextIno++,
      mode,
      uid: cred.uid,
      gid: cred.gid,
      nlink: 1,
      rdev: 0,
      size: 0,
      atime: t,
      mtime: t,
      ctime: t,
      btime: t,
      dataVersion: 0,
      xattrs: new Map(),
      refs: 0,
      opens: 0,
    };
    this.inodes.set(n.ino, n);
    return n;
  }

  private node(ino: P9NodeId, what: string): Inode {
    const n = this.inodes.get(ino);
    if (!n) throw new P9Error('ENOENT', `${what}: inode ${ino} no longer exists`);
    return n;
  }

  private dir(ino: P9NodeId, what: string): Inode & { entries: Map<string, { ino: P9NodeId; cookie: number }> } {
    const n = this.node(ino, what);
    if (!n.entries) throw new P9Error('ENOTDIR', `${what}: inode ${ino} is not a directory`);
    if (n.nlink === 0) throw new P9Error('ENOENT', `${what}: directory ${ino} was removed`);
    return n as Inode & { entries: Map<string, { ino: P9NodeId; cookie: number }> };
  }

  private handle(h: P9Handle, what: string): { open: Open; node: Inode } {
    const open = this.opens.get(h);
    if (!open) throw new P9Error('EBADF', `${what}: handle ${h} is not open`);
    return { open, node: this.node(open.ino, what) };
  }

  private touch(n: Inode, which: { m?: boolean; c?: boolean }): void {
    const t = this.now();
    if (which.m) n.mtime = t;
    if (which.c) n.ctime = t;
    n.dataVersion++;
  }

  private maybeReclaim(n: Inode): void {
    if (n.ino === this.rootIno || n.nlink > 0 || n.refs > 0 || n.opens > 0) return;
    if (n.blocks) this.usedBlocks -= n.blocks.size;
    this.inodes.delete(n.ino);
  }

  private attr(n: Inode): P9Attr {
    const blocks = n.blocks ? n.blocks.size * (BLOCK / 512) : isDir(n) ? BLOCK / 512 : 0;
    return {
      ino: n.ino,
      mode: n.mode,
      uid: n.uid,
      gid: n.gid,
      nlink: n.nlink,
      rdev: n.rdev,
      size: n.size,
      blksize: BLOCK,
      blocks,
      atime: n.atime,
      mtime: n.mtime,
      ctime: n.ctime,
      btime: n.btime,
      gen: 0,
      dataVersion: n.dataVersion,
    };
  }

  private link_(
    d: Inode & { entries: Map<string, { ino: P9NodeId; cookie: number }> },
    name: string,
    ino: P9NodeId,
  ): void {
    d.entries.set(name, { ino, cookie: d.nextCookie! });
    d.nextCookie! += 1;
  }

  private checkNewName(d: Inode & { entries: Map<string, unknown> }, name: string, what: string): void {
    if (name === '.' || name === '..' || d.entries.has(name)) throw new P9Error('EEXIST', `${what}: '${name}' exists`);
  }

  async root(): Promise<P9Attr> {
    const r = this.node(this.rootIno, 'root');
    r.refs++;
    return this.attr(r);
  }

  async lookup(dir: P9NodeId, name: string): Promise<P9Attr> {
    const d = this.dir(dir, `lookup '${name}'`);
    let ino: P9NodeId | undefined;
    if (name === '.') ino = d.ino;
    else if (name === '..') ino = d.parent;
    else ino = d.entries.get(name)?.ino;
    if (ino === undefined) throw new P9Error('ENOENT', `lookup: no entry '${name}' in directory ${dir}`);
    const n = this.node(ino, `lookup '${name}'`);
    n.refs++;
    return this.attr(n);
  }

  retain(node: P9NodeId): void {
    this.node(node, 'retain').refs++;
  }

  forget(node: P9NodeId): void {
    const n = this.inodes.get(node);
    if (!n || n.refs === 0) return;
    n.refs--;
    this.maybeReclaim(n);
  }

  async getattr(node: P9NodeId): Promise<P9Attr> {
    return this.attr(this.node(node, 'getattr'));
  }

  async setattr(node: P9NodeId, c: P9SetAttr, _cred: P9Cred): Promise<P9Attr> {
    const n = this.node(node, 'setattr');
    if (c.size !== undefined) {
      if (isDir(n)) throw new P9Error('EISDIR', `setattr: inode ${node} is a directory; it has no size to set`);
      if (!isReg(n)) throw new P9Error('EINVAL', `setattr: inode ${node} is not a regular file`);
      this.truncate(n, c.size, 'setattr');
    }
    if (c.mode !== undefined) n.mode = (n.mode & S_IFMT) | (c.mode & 0o7777);
    if (c.uid !== undefined) n.uid = c.uid;
    if (c.gid !== undefined) n.gid = c.gid;
    const t = this.now();
    if (c.atime) n.atime = c.atime === 'now' ? t : { ...c.atime };
    if (c.mtime) n.mtime = c.mtime === 'now' ? t : { ...c.mtime };
    n.ctime = t;
    n.dataVersion++;
    return this.attr(n);
  }

  private truncate(n: Inode, size: number, what: string): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > MAX_FILE_SIZE) {
      throw new P9Error('EFBIG', `${what}: size ${size} is not possible`);
    }
    const blocks = n.blocks!;
    if (size < n.size) {
      const keep = Math.ceil(size / BLOCK);
      for (const i of [...blocks.keys()]) {
        if (i >= keep) {
          blocks.delete(i);
          this.usedBlocks--;
        }
      }
      // The kept tail of the last block must read as zeros if the file grows again.
      const last = blocks.get(keep - 1);
      if (last && size % BLOCK) last.fill(0, size % BLOCK);
    }
    if (size !== n.size) {
      n.size = size;
      this.touch(n, { m: true, c: true });
    }
  }

  async open(node: P9NodeId, flags: number, _cred: P9Cred): Promise<P9Handle> {
    const n = this.node(node, 'open');
    const acc = flags & P9_O.ACCMODE;
    const writable = acc === P9_O.WRONLY || acc === P9_O.RDWR;
    if ((n.mode & S_IFMT) === S_IFLNK)
      throw new P9Error('ELOOP', `open: inode ${node} is a symlink (the client resolves links)`);
    if (flags & P9_O.DIRECTORY && !isDir(n)) throw new P9Error('ENOTDIR', `open: inode ${node} is not a directory`);
    if (isDir(n) && writable)
      throw new P9Error('EISDIR', `open: inode ${node} is a directory; it cannot be opened for writing`);
    if (isReg(n) && writable && flags & P9_O.TRUNC) this.truncate(n, 0, 'open O_TRUNC');
    return this.addOpen(n, flags);
  }

  private addOpen(n: Inode, flags: number): P9Handle {
    const h = this.nextHandle++;
    this.opens.set(h, { ino: n.ino, flags });
    n.opens++;
    return h;
  }

  async create(
    dir: P9NodeId,
    name: string,
    flags: number,
    mode: number,
    cred: P9Cred,
  ): Promise<{ attr: P9Attr; handle: P9Handle }> {
    const d = this.dir(dir, `create '${name}'`);
    const existing = d.entries.get(name);
    // lcreate is open(O_CREAT): an existing file is opened unless O_EXCL, as diod and QEMU do.
    if (existing) {
      if (flags & P9_O.EXCL) throw new P9Error('EEXIST', `create: '${name}' exists in directory ${dir}`);
      const n = this.node(existing.ino, `create '${name}'`);
      const handle = await this.open(n.ino, flags, cred);
      n.refs++;
      return { attr: this.attr(n), handle };
    }
    this.checkNewName(d, name, `create in directory ${dir}`);
    const n = this.newInode(S_IFREG | (mode & 0o7777), cred);
    n.blocks = new Map();
    this.link_(d, name, n.ino);
    this.touch(d, { m: true, c: true });
    n.refs++;
    return { attr: this.attr(n), handle: this.addOpen(n, flags) };
  }

  async read(handle: P9Handle, offset: number, count: number): Promise<Buffer> {
    const { node: n } = this.handle(handle, 'read');
    if (isDir(n)) throw new P9Error('EISDIR', `read: handle ${handle} is a directory (use readdir)`);
    if (!n.blocks) throw new P9Error('EINVAL', `read: inode ${n.ino} has no data`);
    if (offset >= n.size || count === 0) return Buffer.alloc(0);
    const end = Math.min(n.size, offset + count);
    const out = Buffer.alloc(end - offset);
    for (let pos = offset; pos < end;) {
      const i = Math.floor(pos / BLOCK);
      const within = pos - i * BLOCK;
      const take = Math.min(BLOCK - within, end - pos);
      n.blocks.get(i)?.copy(out, pos - offset, within, within + take);
      pos += take;
    }
    return out;
  }

  async write(handle: P9Handle, offset: number, data: Buffer): Promise<number> {
    const { open, node: n } = this.handle(handle, 'write');
    if (!n.blocks) throw new P9Error('EINVAL', `write: inode ${n.ino} is not a regular file`);
    const at = open.flags & P9_O.APPEND ? n.size : offset;
    if (data.length === 0) return 0;
    const end = at + data.length;
    if (end > MAX_FILE_SIZE) throw new P9Error('EFBIG', `write: would end at ${end}`);
    const first = Math.floor(at / BLOCK);
    const last = Math.floor((end - 1) / BLOCK);
    let fresh = 0;
    for (let i = first; i <= last; i++) if (!n.blocks.has(i)) fresh++;
    // All or nothing: a write that does not fit leaves the file as it was.
    if (this.usedBlocks + fresh > this.capacityBlocks) {
      throw new P9Error('ENOSPC', `write: ${data.length} bytes at ${at} need ${fresh} blocks, the filesystem is full`);
    }
    for (let pos = at; pos < end;) {
      const i = Math.floor(pos / BLOCK);
      const within = pos - i * BLOCK;
      const take = Math.min(BLOCK - within, end - pos);
      let b = n.blocks.get(i);
      if (!b) {
        b = Buffer.alloc(BLOCK);
        n.blocks.set(i, b);
        this.usedBlocks++;
      }
      data.copy(b, within, pos - at, pos - at + take);
      pos += take;
    }
    if (end > n.size) n.size = end;
    this.touch(n, { m: true, c: true });
    return data.length;
  }

  async readdir(handle: P9Handle, cookie: number, limit: number): Promise<P9DirEntry[]> {
    const { node: d } = this.handle(handle, 'readdir');
    if (!d.entries) throw new P9Error('ENOTDIR', `readdir: inode ${d.ino} is not a directory`);
    const out: P9DirEntry[] = [];
    // '.' and '..' hold cookies 1 and 2; entries start at 3 and only grow, so a cookie never moves.
    if (cookie < 1) out.push({ name: '.', ino: d.ino, mode: d.mode, cookie: 1 });
    if (cookie < 2 && out.length < limit) {
      const p = this.inodes.get(d.parent ?? d.ino) ?? d;
      out.push({ name: '..', ino: p.ino, mode: p.mode, cookie: 2 });
    }
    if (d.nlink === 0) return out;
    for (const [name, e] of d.entries) {
      if (out.length >= limit) break;
      if (e.cookie <= cookie) continue;
      const n = this.inodes.get(e.ino);
      if (n) out.push({ name, ino: n.ino, mode: n.mode, cookie: e.cookie });
    }
    return out;
  }

  async fsync(handle: P9Handle, _datasync: boolean): Promise<void> {
    this.handle(handle, 'fsync');
  }

  async release(handle: P9Handle): Promise<void> {
    const open = this.opens.get(handle);
    if (!open) return;
    this.opens.delete(handle);
    this.locks.releaseOwner(open.ino, handle);
    const n = this.inodes.get(open.ino);
    if (n) {
      n.opens--;
      this.maybeReclaim(n);
    }
  }

  async mkdir(dir: P9NodeId, name: string, mode: number, cred: P9Cred): Promise<P9Attr> {
    const d = this.dir(dir, `mkdir '${name}'`);
    this.checkNewName(d, name, `mkdir in directory ${dir}`);
    const n = this.newInode(S_IFDIR | (mode & 0o7777), cred);
    n.entries = new Map();
    n.nextCookie = 3;
    n.nlink = 2;
    n.parent = d.ino;
    this.link_(d, name, n.ino);
    d.nlink++;
    this.touch(d, { m: true, c: true });
    return this.attr(n);
  }

  async unlink(dir: P9NodeId, name: string, removeDir: boolean): Promise<void> {
    const d = this.dir(dir, `unlink '${name}'`);
    if (name === '.' || name === '..') throw new P9Error('EINVAL', `unlink: '${name}' cannot be removed`);
    const e = d.entries.get(name);
    if (!e) throw new P9Error('ENOENT', `unlink: no entry '${name}' in directory ${dir}`);
    const n = this.node(e.ino, `unlink '${name}'`);
    if (removeDir) {
      if (!isDir(n)) throw new P9Error('ENOTDIR', `rmdir: '${name}' is not a directory`);
      if (n.entries!.size > 0) throw new P9Error('ENOTEMPTY', `rmdir: '${name}' is not empty`);
    } else if (isDir(n)) {
      throw new P9Error('EISDIR', `unlink: '${name}' is a directory`);
    }
    d.entries.delete(name);
    this.dropLink(d, n);
    this.touch(d, { m: true, c: true });
  }

  private dropLink(d: Inode, n: Inode): void {
    if (isDir(n)) {
      n.nlink = 0;
      d.nlink--;
    } else {
      n.nlink--;
    }
    this.touch(n, { c: true });
    this.maybeReclaim(n);
  }

  async rename(oldDir: P9NodeId, oldName: string, newDir: P9NodeId, newName: string): Promise<void> {
    const what = `rename '${oldName}' to '${newName}'`;
    const od = this.dir(oldDir, what);
    const nd = this.dir(newDir, what);
    for (const nm of [oldName, newName]) {
      if (nm === '.' || nm === '..') throw new P9Error('EINVAL', `${what}: '${nm}' cannot be renamed`);
    }
    const src = od.entries.get(oldName);
    if (!src) throw new P9Error('ENOENT', `${what}: no entry '${oldName}' in directory ${oldDir}`);
    const n = this.node(src.ino, what);
    const dst = nd.entries.get(newName);
    // Two names of one inode: POSIX says do nothing.
    if (dst && dst.ino === src.ino) return;
    if (isDir(n)) {
      for (let p: Inode | undefined = nd; p; p = p.ino === this.rootIno ? undefined : this.inodes.get(p.parent!)) {
        if (p.ino === n.ino) throw new P9Error('EINVAL', `${what}: a directory cannot move below itself`);
      }
    }
    let victim: Inode | undefined;
    if (dst) {
      victim = this.node(dst.ino, what);
      if (isDir(n) && !isDir(victim)) throw new P9Error('ENOTDIR', `${what}: '${newName}' is not a directory`);
      if (!isDir(n) && isDir(victim)) throw new P9Error('EISDIR', `${what}: '${newName}' is a directory`);
      if (isDir(victim) && victim.entries!.size > 0)
        throw new P9Error('ENOTEMPTY', `${what}: '${newName}' is not empty`);
    }
    // Every check is done: from here the change is applied whole.
    if (victim) {
      nd.entries.delete(newName);
      this.dropLink(nd, victim);
    }
    od.entries.delete(oldName);
    this.link_(nd, newName, n.ino);
    if (isDir(n) && od !== nd) {
      od.nlink--;
      nd.nlink++;
      n.parent = nd.ino;
    }
    this.touch(n, { c: true });
    this.touch(od, { m: true, c: true });
    if (nd !== od) this.touch(nd, { m: true, c: true });
  }

  async symlink(dir: P9NodeId, name: string, target: string, cred: P9Cred): Promise<P9Attr> {
    const d = this.dir(dir, `symlink '${name}'`);
    this.checkNewName(d, name, `symlink in directory ${dir}`);
    if (target === '') throw new P9Error('ENOENT', `symlink '${name}': empty target`);
    const n = this.newInode(S_IFLNK | 0o777, cred);
    n.target = target;
    n.size = Buffer.byteLength(target, 'utf8');
    this.link_(d, name, n.ino);
    this.touch(d, { m: true, c: true });
    return this.attr(n);
  }

  async readlink(node: P9NodeId): Promise<string> {
    const n = this.node(node, 'readlink');
    if (n.target === undefined) throw new P9Error('EINVAL', `readlink: inode ${node} is not a symlink`);
    return n.target;
  }

  async link(dir: P9NodeId, name: string, target: P9NodeId): Promise<void> {
    const d = this.dir(dir, `link '${name}'`);
    const n = this.node(target, `link '${name}'`);
    if (isDir(n)) throw new P9Error('EPERM', `link '${name}': inode ${target} is a directory`);
    if (n.nlink === 0) throw new P9Error('ENOENT', `link '${name}': inode ${target} was unlinked`);
    this.checkNewName(d, name, `link in directory ${dir}`);
    this.link_(d, name, n.ino);
    n.nlink++;
    this.touch(n, { c: true });
    this.touch(d, { m: true, c: true });
  }

  async mknod(dir: P9NodeId, name: string, mode: number, rdev: number, cred: P9Cred): Promise<P9Attr> {
    const d = this.dir(dir, `mknod '${name}'`);
    const fmt = mode & S_IFMT;
    if (fmt === S_IFCHR || fmt === S_IFBLK) {
      if (!this.options.allowDeviceNodes)
        throw new P9Error('EPERM', `mknod '${name}': device nodes are not allowed here`);
    } else if (fmt !== S_IFIFO && fmt !== S_IFSOCK && fmt !== S_IFREG && fmt !== 0) {
      throw new P9Error('EINVAL', `mknod '${name}': mode 0${mode.toString(8)} is not a node type`);
    }
    this.checkNewName(d, name, `mknod in directory ${dir}`);
    const n = this.newInode((fmt || S_IFREG) | (mode & 0o7777), cred);
    if ((fmt || S_IFREG) === S_IFREG) n.blocks = new Map();
    if (fmt === S_IFCHR || fmt === S_IFBLK) n.rdev = rdev;
    this.link_(d, name, n.ino);
    this.touch(d, { m: true, c: true });
    return this.attr(n);
  }

  async statfs(): Promise<P9StatFs> {
    const free = this.capacityBlocks - this.usedBlocks;
    return {
      fstype: TMPFS_MAGIC,
      bsize: BLOCK,
      blocks: this.capacityBlocks,
      bfree: free,
      bavail: free,
      files: this.maxFiles,
      ffree: this.maxFiles - this.inodes.size,
      fsid: this.options.fsid ?? 0n,
      namelen: 255,
    };
  }

  async getxattr(node: P9NodeId, name: string): Promise<Buffer> {
    const v = this.node(node, 'getxattr').xattrs.get(name);
    if (!v) throw new P9Error('ENODATA', `getxattr: inode ${node} has no attribute '${name}'`);
    return Buffer.from(v);
  }

  async listxattr(node: P9NodeId): Promise<string[]> {
    return [...this.node(node, 'listxattr').xattrs.keys()];
  }

  async setxattr(node: P9NodeId, name: string, value: Buffer, flags: number): Promise<void> {
    const n = this.node(node, 'setxattr');
    const has = n.xattrs.has(name);
    if (flags & P9_XATTR_CREATE && has) throw new P9Error('EEXIST', `setxattr: '${name}' exists on inode ${node}`);
    if (flags & P9_XATTR_REPLACE && !has)
      throw new P9Error('ENODATA', `setxattr: no '${name}' on inode ${node} to replace`);
    n.xattrs.set(name, Buffer.from(value));
    this.touch(n, { c: true });
  }

  async removexattr(node: P9NodeId, name: string): Promise<void> {
    const n = this.node(node, 'removexattr');
    if (!n.xattrs.delete(name)) throw new P9Error('ENODATA', `removexattr: no '${name}' on inode ${node}`);
    this.touch(n, { c: true });
  }

  async lock(handle: P9Handle, lock: P9Lock): Promise<number> {
    const { open } = this.handle(handle, 'lock');
    const acc = open.flags & P9_O.ACCMODE;
    // fcntl: a read lock needs a readable file, a write lock a writable one.
    if (lock.type === 0 && acc === P9_O.WRONLY) throw new P9Error('EBADF', `lock: handle ${handle} is write-only`);
    if (lock.type === 1 && acc === P9_O.RDONLY) throw new P9Error('EBADF', `lock: handle ${handle} is read-only`);
    return this.locks.set(open.ino, handle, lock) ?? P9_LOCK_STATUS.ERROR;
  }

  async getlock(handle: P9Handle, lock: P9Lock): Promise<P9Lock> {
    const { open } = this.handle(handle, 'getlock');
    return this.locks.get(open.ino, handle, lock);
  }
}

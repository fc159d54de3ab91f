// libs/p9's P9Filesystem over a ZFS filesystem dataset: what a 9P server (and so a guest's v9fs) sees of
// tank/home. A live node's id is its object number, which the dataset never reuses (so a qid path never
// names two files, and an unlinked file a fid still holds keeps its id); a node id's reference (a fid) is
// a hold on the object, so an unlinked file stays readable until its last fid goes. ZFS's .zfs directory
// sits at the root: .zfs/snapshot/<name> is each snapshot's tree, read-only (EROFS), its nodes numbered
// from VIRTUAL_BASE up. Readdir cookies are a hash of the entry's name, so a cookie never moves while the
// directory changes (entries present throughout a listing are returned once; a 48-bit hash collision,
// vanishingly rare, would hide one of the two names from a listing that stops between them).
import { createHash } from 'node:crypto';
import {
  P9_LOCK_STATUS,
  P9_O,
  P9Error,
  P9LockTable,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
  type P9Attr,
  type P9Cred,
  type P9DirEntry,
  type P9Filesystem,
  type P9Handle,
  type P9Lock,
  type P9NodeId,
  type P9SetAttr,
  type P9StatFs,
  type P9Time,
} from '@dominion/p9';
import { ZfsError, type DirEntry, type Filesystem, type FsStat, type Pool } from '@dominion/zfs';

/** statfs f_type: ZFS's magic, as Linux reports a zfs mount. */
const ZFS_SUPER_MAGIC = 0x2fc12fc1;
const STATFS_BLOCK = 4096;
/** Node ids from here up are .zfs and snapshot nodes; object numbers stay far below. */
export const VIRTUAL_BASE = 2 ** 48;
const ZFSDIR = VIRTUAL_BASE + 1;
const SNAPDIR = VIRTUAL_BASE + 2;
const ZFSDIR_NAME = '.zfs';

/** What a node id stands for. */
type Node =
  | { kind: 'live'; obj: number }
  | { kind: 'zfsdir' }
  | { kind: 'snapdir' }
  | { kind: 'snap'; snap: string; obj: number };

interface Open {
  node: P9NodeId;
  flags: number;
}

export interface ZfsP9Options {
  /** The filesystem id statfs reports (default: from the dataset's name). */
  fsid?: bigint;
}

const MODE_OF: Readonly<Record<DirEntry['type'], number>> = { file: S_IFREG, dir: S_IFDIR, symlink: S_IFLNK };

/** A name's readdir cookie: 48 bits of its sha256, above '.' (1) and '..' (2). */
function cookieOf(name: string): number {
  return createHash('sha256').update(name).digest().readUIntBE(0, 6) + 3;
}

export class ZfsP9Filesystem implements P9Filesystem {
  private readonly live: Filesystem;
  private readonly virtualIds = new Map<string, P9NodeId>();
  private readonly virtualNodes = new Map<P9NodeId, Node>();
  private nextVirtual = VIRTUAL_BASE + 16;
  /** References (fids and open handles) per live object. */
  private readonly refs = new Map<number, number>();
  private readonly opens = new Map<P9Handle, Open>();
  private nextHandle = 1;
  private readonly locks = new P9LockTable();
  private readonly fsid: bigint;
  private readonly born: P9Time;

  constructor(
    private readonly pool: Pool,
    /** "tank/home" */
    readonly dataset: string,
    options: ZfsP9Options = {},
  ) {
    this.live = pool.openFilesystem(dataset);
    if (this.live.readOnly) throw new P9Error('EINVAL', `ZfsP9Filesystem: '${dataset}' is a snapshot, not a dataset`);
    this.fsid = options.fsid ?? createHash('sha256').update(dataset).digest().readBigUInt64BE(0);
    const ms = Date.now();
    this.born = { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
  }

  private node(id: P9NodeId): Node {
    if (id < VIRTUAL_BASE) return { kind: 'live', obj: id };
    if (id === ZFSDIR) return { kind: 'zfsdir' };
    if (id === SNAPDIR) return { kind: 'snapdir' };
    const n = this.virtualNodes.get(id);
    if (n === undefined) throw new P9Error('ENOENT', `node ${id} is unknown to ${this.dataset}`);
    return n;
  }

  /**
   * The stable id of object `obj` of snapshot `snap`, kept for the life of this export (keyed by the
   * snapshot's txg too, so a snapshot destroyed and taken again under its name gets new ids).
   */
  private snapId(snap: string, obj: number, txg = this.snapTxg(snap)): P9NodeId {
    const key = `${snap}\0${txg}\0${obj}`;
    let id = this.virtualIds.get(key);
    if (id === undefined) {
      id = this.nextVirtual++;
      this.virtualIds.set(key, id);
      this.virtualNodes.set(id, { kind: 'snap', snap, obj });
    }
    return id;
  }

  private snapTxg(snap: string): number {
    return this.pool.get(`${this.dataset}@${snap}`).createTxg;
  }

  /** Opened per call: a destroyed snapshot's nodes then fail ENOENT. */
  private snapshotFs(snap: string): Filesystem {
    return this.pool.openFilesystem(`${this.dataset}@${snap}`);
  }

  /** The filesystem and object of a node that is one; EROFS-free .zfs nodes answer undefined. */
  private backing(id: P9NodeId): { fs: Filesystem; obj: number; snap?: string } | undefined {
    const n = this.node(id);
    if (n.kind === 'live') return { fs: this.live, obj: n.obj };
    if (n.kind === 'snap') return { fs: this.snapshotFs(n.snap), obj: n.obj, snap: n.snap };
    return undefined;
  }

  /** A node that can change: a live object (snapshots and .zfs are read-only). */
  private writable(id: P9NodeId, verb: string): number {
    const n = this.node(id);
    if (n.kind !== 'live')
      throw new P9Error('EROFS', `cannot ${verb} in ${this.dataset}/.zfs: snapshots are read-only`);
    return n.obj;
  }

  /** `.zfs` at the root is taken (by ZFS's control directory) for every kind of new entry. */
  private newName(dir: number, name: string, verb: string): void {
    if (dir === this.live.root && name === ZFSDIR_NAME)
      throw new P9Error('EEXIST', `cannot ${verb} ${this.dataset}/.zfs: it is ZFS's control directory`);
  }

  private attrOf(id: P9NodeId, st: FsStat): P9Attr {
    const t = (x: { sec: number; nsec: number }): P9Time => ({ sec: x.sec, nsec: x.nsec });
    return {
      ino: id,
      mode: st.mode,
      uid: st.uid,
      gid: st.gid,
      nlink: st.nlink,
      rdev: 0,
      size: st.size,
      blksize: st.blockSize,
      blocks: Math.ceil(st.blocks / 512),
      atime: t(st.atimeNs),
      mtime: t(st.mtimeNs),
      ctime: t(st.ctimeNs),
      btime: t(st.ctimeNs),
      gen: 0,
      // Changes with every change of content or attributes (ctime is set by each).
      dataVersion: (st.ctimeNs.sec % 2 ** 20) * 1e9 + st.ctimeNs.nsec,
    };
  }

  private virtualAttr(id: P9NodeId): P9Attr {
    return {
      ino: id,
      mode: S_IFDIR | 0o555,
      uid: 0,
      gid: 0,
      nlink: 2,
      rdev: 0,
      size: 0,
      blksize: STATFS_BLOCK,
      blocks: 0,
      atime: this.born,
      mtime: this.born,
      ctime: this.born,
      btime: this.born,
      gen: 0,
      dataVersion: this.pool.get(this.dataset).createTxg,
    };
  }

  async getattr(id: P9NodeId): Promise<P9Attr> {
    const b = this.backing(id);
    if (b === undefined) return this.virtualAttr(id);
    return this.attrOf(id, await b.fs.getattr(b.obj));
  }

  private hold(id: P9NodeId): void {
    if (id >= VIRTUAL_BASE) return;
    const n = this.refs.get(id) ?? 0;
    this.refs.set(id, n + 1);
    // Queued on the pool's lock in call order, so it is in place before any later unlink.
    if (n === 0) this.live.hold(id).catch(() => undefined);
  }

  retain(node: P9NodeId): void {
    this.hold(node);
  }

  forget(node: P9NodeId): void {
    if (node >= VIRTUAL_BASE) return;
    const n = this.refs.get(node) ?? 0;
    if (n <= 1) {
      if (n === 1) {
        this.refs.delete(node);
        this.live.release(node).catch(() => undefined);
      }
      return;
    }
    this.refs.set(node, n - 1);
  }

  async root(): Promise<P9Attr> {
    return this.referenced(this.live.root);
  }

  /** Takes the reference first (queued ahead of any later unlink), then reads the attributes. */
  private async referenced(id: P9NodeId): Promise<P9Attr> {
    this.hold(id);
    try {
      return await this.getattr(id);
    } catch (e) {
      this.forget(id);
      throw e;
    }
  }

  async lookup(dir: P9NodeId, name: string): Promise<P9Attr> {
    const n = this.node(dir);
    let id: P9NodeId;
    if (n.kind === 'zfsdir') {
      if (name === '.' || name === 'snapshot') id = name === '.' ? ZFSDIR : SNAPDIR;
      else if (name === '..') id = this.live.root;
      else throw new P9Error('ENOENT', `'${name}' in ${this.dataset}/.zfs: no such file or directory`);
    } else if (n.kind === 'snapdir') {
      if (name === '.' || name === '..') id = name === '.' ? SNAPDIR : ZFSDIR;
      else if (this.live.snapshots().includes(name)) id = this.snapId(name, this.live.root);
      else throw new P9Error('ENOENT', `'${name}' in ${this.dataset}/.zfs/snapshot: no such snapshot`);
    } else if (n.kind === 'live' && n.obj === this.live.root && name === ZFSDIR_NAME) {
      id = ZFSDIR;
    } else if (n.kind === 'snap' && n.obj === this.live.root && name === '..') {
      id = SNAPDIR;
    } else {
      const b = this.backing(dir)!;
      const e = await b.fs.lookup(b.obj, name);
      id = b.snap === undefined ? e.object : this.snapId(b.snap, e.object);
    }
    return this.referenced(id);
  }

  async setattr(node: P9NodeId, c: P9SetAttr, _cred: P9Cred): Promise<P9Attr> {
    const obj = this.writable(node, 'setattr');
    const st = await this.live.setattr(obj, c);
    return this.attrOf(node, st);
  }

  async open(node: P9NodeId, flags: number, _cred: P9Cred): Promise<P9Handle> {
    const attr = await this.getattr(node);
    const acc = flags & P9_O.ACCMODE;
    const writing = acc === P9_O.WRONLY || acc === P9_O.RDWR;
    const fmt = attr.mode & 0o170000;
    if (fmt === S_IFLNK) throw new P9Error('ELOOP', `open: node ${node} is a symlink (the client resolves links)`);
    if (flags & P9_O.DIRECTORY && fmt !== S_IFDIR)
      throw new P9Error('ENOTDIR', `open: node ${node} is not a directory`);
    if (fmt === S_IFDIR && writing) throw new P9Error('EISDIR', `open: node ${node} is a directory`);
    if (writing) {
      const obj = this.writable(node, 'open for writing');
      if (flags & P9_O.TRUNC) await this.live.setattr(obj, { size: 0 });
    }
    return this.addOpen(node, flags);
  }

  private addOpen(node: P9NodeId, flags: number): P9Handle {
    const h = this.nextHandle++;
    this.opens.set(h, { node, flags });
    this.hold(node);
    return h;
  }

  private handle(h: P9Handle, verb: string): Open {
    const o = this.opens.get(h);
    if (o === undefined) throw new P9Error('EBADF', `${verb}: handle ${h} is not open`);
    return o;
  }

  async create(
    dir: P9NodeId,
    name: string,
    flags: number,
    mode: number,
    cred: P9Cred,
  ): Promise<{ attr: P9Attr; handle: P9Handle }> {
    const d = this.writable(dir, `create '${name}'`);
    this.newName(d, name, 'create');
    let obj: number;
    try {
      obj = await this.live.createAt(d, name, 'file', { mode, uid: cred.uid, gid: cred.gid });
    } catch (e) {
      // lcreate is open(O_CREAT): an existing file is opened unless O_EXCL.
      if (!(e instanceof ZfsError && e.kind === 'EEXIST') || flags & P9_O.EXCL) throw e;
      obj = (await this.live.lookup(d, name)).object;
      const handle = await this.open(obj, flags, cred);
      this.hold(obj);
      return { attr: await this.getattr(obj), handle };
    }
    this.hold(obj);
    return { attr: await this.getattr(obj), handle: this.addOpen(obj, flags) };
  }

  async read(handle: P9Handle, offset: number, count: number): Promise<Buffer> {
    const b = this.backing(this.handle(handle, 'read').node);
    if (b === undefined) throw new P9Error('EISDIR', `read: handle ${handle} is a directory (use readdir)`);
    return b.fs.readObject(b.obj, offset, count);
  }

  async write(handle: P9Handle, offset: number, data: Buffer): Promise<number> {
    const o = this.handle(handle, 'write');
    const obj = this.writable(o.node, 'write');
    await this.live.writeObject(obj, offset, data, (o.flags & P9_O.APPEND) !== 0);
    return data.length;
  }

  async readdir(handle: P9Handle, cookie: number, limit: number): Promise<P9DirEntry[]> {
    const id = this.handle(handle, 'readdir').node;
    const n = this.node(id);
    const all: P9DirEntry[] = [];
    const add = (name: string, ino: P9NodeId, mode: number, c = cookieOf(name)) =>
      all.push({ name, ino, mode, cookie: c });
    add('.', id, S_IFDIR, 1);
    if (n.kind === 'zfsdir') {
      add('..', this.live.root, S_IFDIR, 2);
      add('snapshot', SNAPDIR, S_IFDIR);
    } else if (n.kind === 'snapdir') {
      add('..', ZFSDIR, S_IFDIR, 2);
      for (const s of this.live.snapshots()) add(s, this.snapId(s, this.live.root), S_IFDIR);
    } else {
      const b = this.backing(id)!;
      const attr = await b.fs.getattr(b.obj);
      if (attr.type !== 'dir') throw new P9Error('ENOTDIR', `readdir: node ${id} is not a directory`);
      const txg = b.snap === undefined ? 0 : this.snapTxg(b.snap);
      const up = n.kind === 'snap' && b.obj === this.live.root ? SNAPDIR : attr.parent;
      add('..', n.kind === 'snap' && up !== SNAPDIR ? this.snapId(n.snap, up, txg) : up, S_IFDIR, 2);
      if (attr.nlink > 0) {
        for (const e of await b.fs.list(b.obj))
          add(e.name, b.snap === undefined ? e.object : this.snapId(b.snap, e.object, txg), MODE_OF[e.type]);
        if (n.kind === 'live' && b.obj === this.live.root && this.live.property('snapdir') === 'visible')
          add(ZFSDIR_NAME, ZFSDIR, S_IFDIR);
      }
    }
    return all
      .filter((e) => e.cookie > cookie)
      .sort((a, b) => a.cookie - b.cookie)
      .slice(0, limit);
  }

  async fsync(handle: P9Handle, _datasync: boolean): Promise<void> {
    this.handle(handle, 'fsync');
    // Filesystem changes are not in the intent log in this slice: fsync is a txg sync of the pool.
    await this.live.sync();
  }

  release(handle: P9Handle): Promise<void> {
    const o = this.opens.get(handle);
    if (o === undefined) return Promise.resolve();
    this.opens.delete(handle);
    this.locks.releaseOwner(o.node, handle);
    this.forget(o.node);
    return Promise.resolve();
  }

  async mkdir(dir: P9NodeId, name: string, mode: number, cred: P9Cred): Promise<P9Attr> {
    const d = this.writable(dir, `mkdir '${name}'`);
    this.newName(d, name, 'mkdir');
    const obj = await this.live.createAt(d, name, 'dir', { mode, uid: cred.uid, gid: cred.gid });
    return this.getattr(obj);
  }

  async unlink(dir: P9NodeId, name: string, removeDir: boolean): Promise<void> {
    const d = this.writable(dir, `remove '${name}'`);
    if (d === this.live.root && name === ZFSDIR_NAME)
      throw new P9Error('EROFS', `cannot remove ${this.dataset}/.zfs: it is ZFS's control directory`);
    await this.live.unlinkAt(d, name, removeDir);
  }

  async rename(oldDir: P9NodeId, oldName: string, newDir: P9NodeId, newName: string): Promise<void> {
    const from = this.writable(oldDir, `rename '${oldName}'`);
    const to = this.writable(newDir, `rename to '${newName}'`);
    if ((from === this.live.root && oldName === ZFSDIR_NAME) || (to === this.live.root && newName === ZFSDIR_NAME))
      throw new P9Error('EROFS', `cannot rename over ${this.dataset}/.zfs: it is ZFS's control directory`);
    await this.live.renameAt(from, oldName, to, newName);
  }

  async symlink(dir: P9NodeId, name: string, target: string, cred: P9Cred): Promise<P9Attr> {
    const d = this.writable(dir, `symlink '${name}'`);
    this.newName(d, name, 'symlink');
    return this.getattr(await this.live.symlinkAt(d, name, target, { uid: cred.uid, gid: cred.gid }));
  }

  async readlink(node: P9NodeId): Promise<string> {
    const b = this.backing(node);
    if (b === undefined) throw new P9Error('EINVAL', `readlink: node ${node} is not a symlink`);
    return b.fs.readlink(b.obj);
  }

  async link(dir: P9NodeId, name: string, target: P9NodeId): Promise<void> {
    const d = this.writable(dir, `link '${name}'`);
    this.newName(d, name, 'link');
    const t = this.node(target);
    if (t.kind !== 'live') throw new P9Error('EXDEV', `link '${name}': node ${target} is in a snapshot`);
    await this.live.linkAt(d, name, t.obj);
  }

  mknod(dir: P9NodeId, name: string, _mode: number, _rdev: number, _cred: P9Cred): Promise<P9Attr> {
    return Promise.reject(
      new P9Error(
        'EOPNOTSUPP',
        `mknod '${name}' in node ${dir}: ${this.dataset} holds no device nodes, fifos or sockets`,
      ),
    );
  }

  async statfs(): Promise<P9StatFs> {
    const s = await this.live.statfs();
    const free = Math.floor(s.availableBytes / STATFS_BLOCK);
    const files = s.objects + free;
    return {
      fstype: ZFS_SUPER_MAGIC,
      bsize: STATFS_BLOCK,
      blocks: Math.floor(s.totalBytes / STATFS_BLOCK),
      bfree: free,
      bavail: free,
      files,
      ffree: free,
      fsid: this.fsid,
      namelen: 255,
    };
  }

  async getxattr(node: P9NodeId, name: string): Promise<Buffer> {
    const b = this.backing(node);
    if (b === undefined) throw new P9Error('ENODATA', `getxattr: node ${node} has no attribute '${name}'`);
    return b.fs.getxattr(b.obj, name);
  }

  async listxattr(node: P9NodeId): Promise<string[]> {
    const b = this.backing(node);
    return b === undefined ? [] : b.fs.listxattr(b.obj);
  }

  async setxattr(node: P9NodeId, name: string, value: Buffer, flags: number): Promise<void> {
    await this.live.setxattr(this.writable(node, `setxattr '${name}'`), name, value, flags);
  }

  async removexattr(node: P9NodeId, name: string): Promise<void> {
    await this.live.removexattr(this.writable(node, `removexattr '${name}'`), name);
  }

  lock(handle: P9Handle, lock: P9Lock): Promise<number> {
    const o = this.handle(handle, 'lock');
    const acc = o.flags & P9_O.ACCMODE;
    if (lock.type === 0 && acc === P9_O.WRONLY)
      return Promise.reject(new P9Error('EBADF', `lock: handle ${handle} is write-only`));
    if (lock.type === 1 && acc === P9_O.RDONLY)
      return Promise.reject(new P9Error('EBADF', `lock: handle ${handle} is read-only`));
    return Promise.resolve(this.locks.set(o.node, handle, lock) ?? P9_LOCK_STATUS.ERROR);
  }

  getlock(handle: P9Handle, lock: P9Lock): Promise<P9Lock> {
    return Promise.resolve(this.locks.get(this.handle(handle, 'getlock').node, handle, lock));
  }
}

// One 9P2000.L connection: the version handshake, the fid table and the requests in flight. Bytes come in
// through receive() from any transport (a socket, a 9pfs ring); replies leave through the transport's send().
// Requests run concurrently and each reply carries its tag; a malformed or failing request gets an Rlerror
// for its tag and the session goes on. Only a stream that cannot be framed any more ends the connection.
import {
  P9_AT_REMOVEDIR,
  P9_GETATTR,
  P9_IOHDRSZ,
  P9_MIN_MSIZE,
  P9_NOFID,
  P9_NONUNAME,
  P9_O,
  P9_READDIRHDRSZ,
  P9_SETATTR,
  P9_VERSION_L,
  P9_VERSION_UNKNOWN,
  S_IFDIR,
  S_IFMT,
  dtOfMode,
  qidTypeOfMode,
} from './constants.js';
import { P9Dirent, direntSize, encodeDirents } from './dirent.js';
import { P9Error, linuxErrnoOf } from './errors.js';
import type { P9Attr, P9Cred, P9Filesystem, P9Handle, P9NodeId, P9SetAttr } from './filesystem.js';
import { P9Framer } from './framer.js';
import { P9Body, P9Message, P9MessageOf, P9Reply, decodeMessage, encodeMessage, readHeader } from './messages.js';
import type { P9Qid } from './wire.js';

/** Largest value of a setxattr(2) value (Linux XATTR_SIZE_MAX). */
const XATTR_SIZE_MAX = 65536;

/** Where a session's replies go and how it ends its connection. */
export interface P9Transport {
  send(message: Buffer): void;
  /** The stream cannot be framed any more (or the session was closed): drop the connection. */
  close(reason: P9Error | undefined): void;
}

export interface P9SessionOptions {
  /** The largest msize offered in Rversion. */
  maxMsize: number;
  /** The filesystem exported under an aname, or undefined (attach fails with ENOENT). */
  exportFor(aname: string): P9Filesystem | undefined;
  /** Fids a session may hold (EMFILE beyond). */
  maxFids: number;
  /** Fids a session may hold open, xl's 9pfs `max-open-files` (EMFILE beyond). */
  maxOpenFiles: number;
}

interface XattrRead {
  kind: 'read';
  data: Buffer;
}
interface XattrWrite {
  kind: 'write';
  name: string;
  size: number;
  flags: number;
  value: Buffer;
  written: number;
}

interface Fid {
  fs: P9Filesystem;
  node: P9NodeId;
  mode: number;
  cred: P9Cred;
  /** The directory entry the fid was walked or created through, for Tremove and Trename. */
  parent?: { dir: P9NodeId; name: string };
  open?: { handle: P9Handle; flags: number };
  xattr?: XattrRead | XattrWrite;
}

interface InFlight {
  flushed: boolean;
  done: Promise<void>;
}

function qidOf(a: { ino: P9NodeId; mode: number }): P9Qid {
  // Version stays 0 (as diod does): Linux compares it on revalidation and would fork inodes on every write.
  return { type: qidTypeOfMode(a.mode), version: 0, path: BigInt(a.ino) };
}

function toOffset(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new P9Error('EOVERFLOW', `${what} ${v} is beyond 2^53`);
  return Number(v);
}

function checkName(name: string, what: string): void {
  if (name === '' || name.includes('/') || name.includes('\0')) {
    throw new P9Error('EINVAL', `${what}: '${name}' is not a file name`);
  }
  if (Buffer.byteLength(name, 'utf8') > 255) throw new P9Error('ENAMETOOLONG', `${what}: name longer than 255 bytes`);
}

function makedev(major: number, minor: number): number {
  // glibc's encoding; rdev is what stat(2) shows.
  const v =
    ((BigInt(major) & 0xfffff000n) << 32n) |
    ((BigInt(major) & 0xfffn) << 8n) |
    ((BigInt(minor) & 0xffffff00n) << 12n) |
    (BigInt(minor) & 0xffn);
  return Number(v);
}

/** One byte stream of a session: a socket, or one ring of a 9pfs device (all rings share the fids). */
export interface P9Channel {
  /** Feeds bytes from the client. An unframeable stream closes the whole session. */
  receive(chunk: Uint8Array): void;
}

interface Channel {
  framer: P9Framer;
  send(message: Buffer): void;
}

export class P9Session {
  private readonly channels: Channel[] = [];
  private msize: number;
  private negotiated = false;
  private readonly fids = new Map<number, Fid>();
  private readonly inflight = new Map<number, InFlight>();
  private closed = false;
  /** While a Tversion resets the session, later messages wait behind it. */
  private versionBarrier: Promise<void> | undefined;
  private held: { frame: Buffer; ch: Channel }[] = [];

  constructor(
    private readonly transport: P9Transport,
    private readonly options: P9SessionOptions,
  ) {
    this.msize = options.maxMsize;
    this.channels.push({ framer: new P9Framer(options.maxMsize), send: (b) => transport.send(b) });
  }

  /**
   * Another byte stream into this session, for a transport with several (a 9pfs device's rings: Linux
   * sends a request on ring tag % num-rings, so a Tflush may arrive on another ring than its request).
   * A reply leaves on the stream its request came in on.
   */
  channel(send: (message: Buffer) => void): P9Channel {
    const ch: Channel = { framer: new P9Framer(this.negotiated ? this.msize : this.options.maxMsize), send };
    this.channels.push(ch);
    return { receive: (chunk) => this.receiveOn(ch, chunk) };
  }

  /** The negotiated msize (the server's maximum before Tversion). */
  get negotiatedMsize(): number {
    return this.msize;
  }
  get fidCount(): number {
    return this.fids.size;
  }

  /** Feeds bytes from the client. An unframeable stream closes the session and its transport. */
  receive(chunk: Uint8Array): void {
    this.receiveOn(this.channels[0], chunk);
  }

  private receiveOn(ch: Channel, chunk: Uint8Array): void {
    if (this.closed) return;
    let frames: Buffer[];
    try {
      frames = ch.framer.push(chunk);
    } catch (e) {
      void this.close(e as P9Error);
      return;
    }
    for (const frame of frames) {
      if (this.versionBarrier) this.held.push({ frame, ch });
      else this.dispatch(frame, ch);
    }
  }

  /** Resolves once every request in flight has finished. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight.values()].map((p) => p.done));
  }

  /** Ends the session: no more replies, every fid clunked (handles released, references dropped). */
  async close(reason?: P9Error): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.inflight.values()) p.flushed = true;
    this.transport.close(reason);
    await this.idle();
    await this.clunkAll();
  }

  private send(ch: Channel, reply: Buffer): void {
    if (!this.closed) ch.send(reply);
  }

  private dispatch(frame: Buffer, ch: Channel): void {
    const { tag, id } = readHeader(frame);
    if (id === 100 /* Tversion */) {
      this.versionBarrier = this.runOrdered(frame, tag, ch).finally(() => {
        this.versionBarrier = undefined;
        const held = this.held;
        this.held = [];
        for (let i = 0; i < held.length; i++) {
          if (this.versionBarrier) {
            this.held.push(...held.slice(i));
            break;
          }
          this.dispatch(held[i].frame, held[i].ch);
        }
      });
      return;
    }
    if (id === 108 /* Tflush */) {
      // It acts on the request already in flight under oldtag, so it is judged on arrival.
      void this.runOrdered(frame, tag, ch);
      return;
    }
    let resolve!: () => void;
    const entry: InFlight = { flushed: false, done: new Promise<void>((r) => (resolve = r)) };
    // A tag still in flight is a client bug; the newer request replaces it so the reply matches.
    const prior = this.inflight.get(tag);
    if (prior) prior.flushed = true;
    this.inflight.set(tag, entry);
    void this.run(frame, tag, entry, ch).finally(() => {
      if (this.inflight.get(tag) === entry) this.inflight.delete(tag);
      resolve();
    });
  }

  private async run(frame: Buffer, tag: number, entry: InFlight, ch: Channel): Promise<void> {
    let reply: Buffer;
    try {
      const msg = decodeMessage(frame);
      const body = await this.handle(msg, entry);
      reply = encodeMessage({ ...body, tag });
    } catch (e) {
      reply = encodeMessage({ type: 'Rlerror', tag, ecode: linuxErrnoOf(e) });
    }
    if (!entry.flushed) this.send(ch, reply);
  }

  private async runOrdered(frame: Buffer, tag: number, ch: Channel): Promise<void> {
    let msg: P9Message;
    try {
      msg = decodeMessage(frame);
    } catch (e) {
      this.send(ch, encodeMessage({ type: 'Rlerror', tag, ecode: linuxErrnoOf(e) }));
      return;
    }
    if (msg.type === 'Tflush') {
      const target = this.inflight.get(msg.oldtag);
      if (target) {
        // Its reply is suppressed; Rflush goes out only once it has finished, so the tag is free again.
        target.flushed = true;
        await target.done;
      }
      this.send(ch, encodeMessage({ type: 'Rflush', tag }));
      return;
    }
    if (msg.type === 'Tversion') {
      try {
        this.send(ch, encodeMessage({ ...(await this.version(msg)), tag }));
      } catch (e) {
        this.send(ch, encodeMessage({ type: 'Rlerror', tag, ecode: linuxErrnoOf(e) }));
      }
    }
  }

  private async version(msg: P9MessageOf<'Tversion'>): Promise<P9Body<'Rversion'>> {
    if (msg.msize < P9_MIN_MSIZE) {
      throw new P9Error('EINVAL', `Tversion: msize ${msg.msize} is below the minimum ${P9_MIN_MSIZE}`);
    }
    // A new Tversion aborts everything outstanding and clunks every fid.
    for (const p of this.inflight.values()) p.flushed = true;
    await this.idle();
    await this.clunkAll();
    this.msize = Math.min(msg.msize, this.options.maxMsize);
    // Only the part up to the first '.' after "9P2000" is a version per version(5); ".L" is ours.
    if (msg.version !== P9_VERSION_L) {
      this.negotiated = false;
      return { type: 'Rversion', msize: this.msize, version: P9_VERSION_UNKNOWN };
    }
    this.negotiated = true;
    for (const c of this.channels) c.framer.msize = this.msize;
    return { type: 'Rversion', msize: this.msize, version: P9_VERSION_L };
  }

  private async clunkAll(): Promise<void> {
    const all = [...this.fids.values()];
    this.fids.clear();
    for (const f of all) await this.releaseFid(f).catch(() => undefined);
  }

  private fid(n: number, what: string): Fid {
    const f = this.fids.get(n);
    if (!f) throw new P9Error('EBADF', `${what}: fid ${n} is not in use`);
    return f;
  }

  private freeFid(n: number, what: string): void {
    if (n === P9_NOFID) throw new P9Error('EBADF', `${what}: NOFID cannot name a new fid`);
    if (this.fids.has(n)) throw new P9Error('EEXIST', `${what}: fid ${n} is already in use`);
    if (this.fids.size >= this.options.maxFids) {
      throw new P9Error('EMFILE', `${what}: the session holds ${this.fids.size} fids, its limit`);
    }
  }

  private checkOpenLimit(what: string): void {
    let open = 0;
    for (const f of this.fids.values()) if (f.open) open++;
    if (open >= this.options.maxOpenFiles) {
      throw new P9Error('EMFILE', `${what}: ${open} fids open, the limit (max-open-files)`);
    }
  }

  private openFid(n: number, what: string): Fid & { open: { handle: P9Handle; flags: number } } {
    const f = this.fid(n, what);
    if (!f.open) throw new P9Error('EBADF', `${what}: fid ${n} is not open`);
    return f as Fid & { open: { handle: P9Handle; flags: number } };
  }

  private plainFid(n: number, what: string): Fid {
    const f = this.fid(n, what);
    if (f.open) throw new P9Error('EBADF', `${what}: fid ${n} is already open`);
    if (f.xattr) throw new P9Error('EBADF', `${what}: fid ${n} is an xattr fid`);
    return f;
  }

  private async releaseFid(f: Fid): Promise<void> {
    try {
      if (f.open) await f.fs.release(f.open.handle);
      if (f.xattr?.kind === 'write') {
        const x = f.xattr;
        if (x.written !== x.size) {
          throw new P9Error('EINVAL', `xattr '${x.name}': ${x.written} bytes written, ${x.size} announced`);
        }
        // Linux's removexattr is an xattrcreate of size 0 with XATTR_REPLACE.
        if (x.size === 0 && x.flags === 2) await f.fs.removexattr(f.node, x.name);
        else await f.fs.setxattr(f.node, x.name, x.value, x.flags);
      }
    } finally {
      f.fs.forget(f.node);
    }
  }

  private iounit(): number {
    return this.msize - P9_IOHDRSZ;
  }

  private async handle(msg: P9Message, entry: InFlight): Promise<P9Reply> {
    if (!this.negotiated) {
      throw new P9Error('EPROTO', `${msg.type} tag ${msg.tag}: no 9P2000.L version negotiated yet`);
    }
    const what = `${msg.type} tag ${msg.tag}`;
    switch (msg.type) {
      case 'Tauth':
        // No authentication: diod's answer, which libnpclient reads as "auth not required".
        throw new P9Error('ENOENT', `${what}: authentication is not required`);

      case 'Tattach': {
        this.freeFid(msg.fid, what);
        if (msg.afid !== P9_NOFID) throw new P9Error('EBADF', `${what}: afid ${msg.afid} (no auth fids exist)`);
        const fs = this.options.exportFor(msg.aname);
        if (!fs) throw new P9Error('ENOENT', `${what}: no export named '${msg.aname}'`);
        const uid =
          msg.n_uname !== P9_NONUNAME
            ? msg.n_uname
            : msg.uname === 'root'
              ? 0
              : /^\d+$/.test(msg.uname)
                ? Number(msg.uname)
                : 65534;
        const root = await fs.root();
        if (entry.flushed || this.fids.has(msg.fid)) {
          fs.forget(root.ino);
          throw new P9Error('EEXIST', `${what}: fid ${msg.fid} was taken meanwhile`);
        }
        this.fids.set(msg.fid, { fs, node: root.ino, mode: root.mode, cred: { uid, gid: uid === 0 ? 0 : uid } });
        return { type: 'Rattach', qid: qidOf(root) };
      }

      case 'Twalk':
        return this.walk(msg, entry, what);

      case 'Tlopen': {
        const f = this.plainFid(msg.fid, what);
        this.checkOpenLimit(what);
        const handle = await f.fs.open(f.node, msg.flags, f.cred);
        const attr = await f.fs.getattr(f.node).catch(async (e: unknown) => {
          await f.fs.release(handle);
          throw e;
        });
        if (entry.flushed || f.open || this.fids.get(msg.fid) !== f) {
          await f.fs.release(handle);
          throw new P9Error('EBADF', `${what}: fid ${msg.fid} changed meanwhile`);
        }
        f.open = { handle, flags: msg.flags };
        f.mode = attr.mode;
        return { type: 'Rlopen', qid: qidOf(attr), iounit: this.iounit() };
      }

      case 'Tlcreate': {
        const f = this.plainFid(msg.fid, what);
        this.checkOpenLimit(what);
        checkName(msg.name, what);
        const { attr, handle } = await f.fs.create(f.node, msg.name, msg.flags, msg.mode, {
          uid: f.cred.uid,
          gid: msg.gid,
        });
        if (entry.flushed || f.open || this.fids.get(msg.fid) !== f) {
          await f.fs.release(handle);
          f.fs.forget(attr.ino);
          throw new P9Error('EBADF', `${what}: fid ${msg.fid} changed meanwhile`);
        }
        // The fid now stands for the new file, opened.
        const dir = f.node;
        f.fs.forget(dir);
        f.node = attr.ino;
        f.mode = attr.mode;
        f.parent = { dir, name: msg.name };
        f.open = { handle, flags: msg.flags };
        return { type: 'Rlcreate', qid: qidOf(attr), iounit: this.iounit() };
      }

      case 'Tread': {
        const f = this.fid(msg.fid, what);
        const count = Math.min(msg.count, this.iounit());
        const offset = toOffset(msg.offset, `${what}: offset`);
        if (f.xattr) {
          if (f.xattr.kind !== 'read') throw new P9Error('EBADF', `${what}: fid ${msg.fid} is an xattr being written`);
          return { type: 'Rread', data: f.xattr.data.subarray(Math.min(offset, f.xattr.data.length), offset + count) };
        }
        if (!f.open) throw new P9Error('EBADF', `${what}: fid ${msg.fid} is not open`);
        if ((f.open.flags & P9_O.ACCMODE) === P9_O.WRONLY) {
          throw new P9Error('EBADF', `${what}: fid ${msg.fid} is open write-only`);
        }
        return { type: 'Rread', data: await f.fs.read(f.open.handle, offset, count) };
      }

      case 'Twrite': {
        const f = this.fid(msg.fid, what);
        const offset = toOffset(msg.offset, `${what}: offset`);
        if (f.xattr) {
          const x = f.xattr;
          if (x.kind !== 'write') throw new P9Error('EBADF', `${what}: fid ${msg.fid} is an xattr being read`);
          if (offset + msg.data.length > x.size) {
            throw new P9Error(
              'ERANGE',
              `${what}: xattr '${x.name}' is ${x.size} bytes, write ends at ${offset + msg.data.length}`,
            );
          }
          msg.data.copy(x.value, offset);
          x.written = Math.max(x.written, offset + msg.data.length);
          return { type: 'Rwrite', count: msg.data.length };
        }
        if (!f.open) throw new P9Error('EBADF', `${what}: fid ${msg.fid} is not open`);
        const acc = f.open.flags & P9_O.ACCMODE;
        if (acc !== P9_O.WRONLY && acc !== P9_O.RDWR) {
          throw new P9Error('EBADF', `${what}: fid ${msg.fid} is not open for writing`);
        }
        return { type: 'Rwrite', count: await f.fs.write(f.open.handle, offset, msg.data) };
      }

      case 'Tclunk': {
        const f = this.fid(msg.fid, what);
        this.fids.delete(msg.fid);
        await this.releaseFid(f);
        return { type: 'Rclunk' };
      }

      case 'Tremove': {
        // The fid is clunked whether or not the remove succeeds (remove(5)).
        const f = this.fid(msg.fid, what);
        this.fids.delete(msg.fid);
        try {
          if (!f.parent) throw new P9Error('EBUSY', `${what}: fid ${msg.fid} is an export's root`);
          const now = await f.fs.lookup(f.parent.dir, f.parent.name);
          f.fs.forget(now.ino);
          if (now.ino !== f.node) throw new P9Error('ENOENT', `${what}: '${f.parent.name}' is no longer this file`);
          await f.fs.unlink(f.parent.dir, f.parent.name, (now.mode & S_IFMT) === S_IFDIR);
        } finally {
          await this.releaseFid(f);
        }
        return { type: 'Rremove' };
      }

      case 'Tgetattr': {
        const f = this.fid(msg.fid, what);
        const a = await f.fs.getattr(f.node);
        return this.getattrReply(a, msg.request_mask);
      }

      case 'Tsetattr': {
        const f = this.fid(msg.fid, what);
        const v = msg.valid;
        const changes: P9SetAttr = {};
        if (v & P9_SETATTR.MODE) changes.mode = msg.mode;
        if (v & P9_SETATTR.UID) changes.uid = msg.uid;
        if (v & P9_SETATTR.GID) changes.gid = msg.gid;
        if (v & P9_SETATTR.SIZE) changes.size = toOffset(msg.size, `${what}: size`);
        if (v & P9_SETATTR.ATIME) {
          changes.atime =
            v & P9_SETATTR.ATIME_SET
              ? { sec: Number(BigInt.asIntN(64, msg.atime_sec)), nsec: Number(msg.atime_nsec) }
              : 'now';
        }
        if (v & P9_SETATTR.MTIME) {
          changes.mtime =
            v & P9_SETATTR.MTIME_SET
              ? { sec: Number(BigInt.asIntN(64, msg.mtime_sec)), nsec: Number(msg.mtime_nsec) }
              : 'now';
        }
        if (v & P9_SETATTR.CTIME) changes.ctime = true;
        for (const t of [changes.atime, changes.mtime]) {
          if (t && t !== 'now' && !(t.nsec >= 0 && t.nsec < 1e9)) {
            throw new P9Error('EINVAL', `${what}: nanoseconds ${t.nsec} out of range`);
          }
        }
        await f.fs.setattr(f.node, changes, f.cred);
        return { type: 'Rsetattr' };
      }

      case 'Treaddir': {
        const f = this.openFid(msg.fid, what);
        if ((f.mode & S_IFMT) !== S_IFDIR) throw new P9Error('ENOTDIR', `${what}: fid ${msg.fid} is not a directory`);
        const budget = Math.min(msg.count, this.msize - P9_READDIRHDRSZ);
        const cookie = toOffset(msg.offset, `${what}: offset`);
        const entries = await f.fs.readdir(f.open.handle, cookie, Math.max(1, Math.floor(budget / 25)));
        const out: P9Dirent[] = [];
        let used = 0;
        for (const e of entries) {
          const n = direntSize(e.name);
          if (used + n > budget) break;
          used += n;
          out.push({ qid: qidOf(e), offset: BigInt(e.cookie), type: dtOfMode(e.mode), name: e.name });
        }
        if (out.length === 0 && entries.length > 0) {
          throw new P9Error('EINVAL', `${what}: count ${msg.count} cannot hold the entry '${entries[0].name}'`);
        }
        return { type: 'Rreaddir', data: encodeDirents(out) };
      }

      case 'Tfsync': {
        const f = this.openFid(msg.fid, what);
        await f.fs.fsync(f.open.handle, msg.datasync !== 0);
        return { type: 'Rfsync' };
      }

      case 'Tstatfs': {
        const f = this.fid(msg.fid, what);
        const s = await f.fs.statfs();
        return {
          type: 'Rstatfs',
          fstype: s.fstype,
          bsize: s.bsize,
          blocks: BigInt(s.blocks),
          bfree: BigInt(s.bfree),
          bavail: BigInt(s.bavail),
          files: BigInt(s.files),
          ffree: BigInt(s.ffree),
          fsid: s.fsid,
          namelen: s.namelen,
        };
      }

      case 'Tmkdir': {
        const d = this.fid(msg.dfid, what);
        checkName(msg.name, what);
        const a = await d.fs.mkdir(d.node, msg.name, msg.mode, { uid: d.cred.uid, gid: msg.gid });
        return { type: 'Rmkdir', qid: qidOf(a) };
      }

      case 'Tsymlink': {
        const d = this.fid(msg.fid, what);
        checkName(msg.name, what);
        const a = await d.fs.symlink(d.node, msg.name, msg.symtgt, { uid: d.cred.uid, gid: msg.gid });
        return { type: 'Rsymlink', qid: qidOf(a) };
      }

      case 'Tmknod': {
        const d = this.fid(msg.dfid, what);
        checkName(msg.name, what);
        const rdev = makedev(msg.major, msg.minor);
        const a = await d.fs.mknod(d.node, msg.name, msg.mode, rdev, { uid: d.cred.uid, gid: msg.gid });
        return { type: 'Rmknod', qid: qidOf(a) };
      }

      case 'Treadlink': {
        const f = this.fid(msg.fid, what);
        return { type: 'Rreadlink', target: await f.fs.readlink(f.node) };
      }

      case 'Tlink': {
        const d = this.fid(msg.dfid, what);
        const f = this.fid(msg.fid, what);
        checkName(msg.name, what);
        if (d.fs !== f.fs)
          throw new P9Error('EXDEV', `${what}: fids ${msg.dfid} and ${msg.fid} are in different exports`);
        await d.fs.link(d.node, msg.name, f.node);
        return { type: 'Rlink' };
      }

      case 'Trename': {
        const f = this.fid(msg.fid, what);
        const d = this.fid(msg.dfid, what);
        checkName(msg.name, what);
        if (!f.parent) throw new P9Error('EBUSY', `${what}: fid ${msg.fid} is an export's root`);
        if (d.fs !== f.fs)
          throw new P9Error('EXDEV', `${what}: fids ${msg.fid} and ${msg.dfid} are in different exports`);
        const from = f.parent;
        await f.fs.rename(from.dir, from.name, d.node, msg.name);
        this.renamed(f.fs, from.dir, from.name, d.node, msg.name);
        return { type: 'Rrename' };
      }

      case 'Trenameat': {
        const od = this.fid(msg.olddirfid, what);
        const nd = this.fid(msg.newdirfid, what);
        checkName(msg.oldname, what);
        checkName(msg.newname, what);
        if (od.fs !== nd.fs) throw new P9Error('EXDEV', `${what}: the directories are in different exports`);
        await od.fs.rename(od.node, msg.oldname, nd.node, msg.newname);
        this.renamed(od.fs, od.node, msg.oldname, nd.node, msg.newname);
        return { type: 'Rrenameat' };
      }

      case 'Tunlinkat': {
        const d = this.fid(msg.dirfid, what);
        checkName(msg.name, what);
        if (msg.flags & ~P9_AT_REMOVEDIR) throw new P9Error('EINVAL', `${what}: flags 0x${msg.flags.toString(16)}`);
        await d.fs.unlink(d.node, msg.name, (msg.flags & P9_AT_REMOVEDIR) !== 0);
        return { type: 'Runlinkat' };
      }

      case 'Txattrwalk': {
        const f = this.fid(msg.fid, what);
        this.freeFid(msg.newfid, what);
        let data: Buffer;
        if (msg.name === '') {
          const names = await f.fs.listxattr(f.node);
          data = Buffer.concat(names.map((n) => Buffer.from(`${n}\0`, 'utf8')));
        } else {
          data = await f.fs.getxattr(f.node, msg.name);
        }
        if (entry.flushed || this.fids.has(msg.newfid))
          throw new P9Error('EEXIST', `${what}: fid ${msg.newfid} was taken meanwhile`);
        f.fs.retain(f.node);
        this.fids.set(msg.newfid, { ...f, open: undefined, parent: undefined, xattr: { kind: 'read', data } });
        return { type: 'Rxattrwalk', size: BigInt(data.length) };
      }

      case 'Txattrcreate': {
        const f = this.plainFid(msg.fid, what);
        if (msg.name === '') throw new P9Error('EINVAL', `${what}: empty xattr name`);
        if (msg.attr_size > BigInt(XATTR_SIZE_MAX)) {
          throw new P9Error('E2BIG', `${what}: xattr value of ${msg.attr_size} bytes exceeds ${XATTR_SIZE_MAX}`);
        }
        if (msg.flags & ~3) throw new P9Error('EINVAL', `${what}: flags ${msg.flags}`);
        const size = Number(msg.attr_size);
        f.xattr = { kind: 'write', name: msg.name, size, flags: msg.flags, value: Buffer.alloc(size), written: 0 };
        return { type: 'Rxattrcreate' };
      }

      case 'Tlock': {
        const f = this.openFid(msg.fid, what);
        if (msg.locktype > 2) throw new P9Error('EINVAL', `${what}: lock type ${msg.locktype}`);
        const status = await f.fs.lock(f.open.handle, {
          type: msg.locktype,
          start: msg.start,
          length: msg.length,
          procId: msg.proc_id,
          clientId: msg.client_id,
        });
        return { type: 'Rlock', status };
      }

      case 'Tgetlock': {
        const f = this.openFid(msg.fid, what);
        if (msg.locktype > 2) throw new P9Error('EINVAL', `${what}: lock type ${msg.locktype}`);
        const l = await f.fs.getlock(f.open.handle, {
          type: msg.locktype,
          start: msg.start,
          length: msg.length,
          procId: msg.proc_id,
          clientId: msg.client_id,
        });
        return {
          type: 'Rgetlock',
          locktype: l.type,
          start: l.start,
          length: l.length,
          proc_id: l.procId,
          client_id: l.clientId,
        };
      }

      default:
        throw new P9Error('EOPNOTSUPP', `${what}: not a request this server serves`);
    }
  }

  private async walk(msg: P9MessageOf<'Twalk'>, entry: InFlight, what: string): Promise<P9Reply> {
    const f = this.fid(msg.fid, what);
    if (msg.newfid !== msg.fid) this.freeFid(msg.newfid, what);
    for (const n of msg.wnames) {
      if (n !== '..' && n !== '.') checkName(n, what);
    }
    const qids: P9Qid[] = [];
    let node = f.node;
    let mode = f.mode;
    let parent = f.parent;
    f.fs.retain(node);
    try {
      for (const name of msg.wnames) {
        if ((mode & S_IFMT) !== S_IFDIR) {
          if (qids.length === 0) throw new P9Error('ENOTDIR', `${what}: cannot walk '${name}' from a non-directory`);
          break;
        }
        let a: P9Attr;
        try {
          a = await f.fs.lookup(node, name);
        } catch (e) {
          if (qids.length === 0) throw e;
          break;
        }
        f.fs.forget(node);
        parent = { dir: node, name };
        node = a.ino;
        mode = a.mode;
        qids.push(qidOf(a));
      }
    } catch (e) {
      f.fs.forget(node);
      throw e;
    }
    const complete = qids.length === msg.wnames.length;
    if (!complete || entry.flushed) {
      f.fs.forget(node);
      return { type: 'Rwalk', wqids: qids };
    }
    if (msg.newfid === msg.fid) {
      f.fs.forget(f.node);
      f.node = node;
      f.mode = mode;
      f.parent = parent;
    } else {
      if (this.fids.has(msg.newfid)) {
        f.fs.forget(node);
        throw new P9Error('EEXIST', `${what}: fid ${msg.newfid} was taken meanwhile`);
      }
      this.fids.set(msg.newfid, { fs: f.fs, node, mode, cred: f.cred, parent });
    }
    return { type: 'Rwalk', wqids: qids };
  }

  /** Fids walked through a renamed entry now name it by its new name (for Tremove and Trename). */
  private renamed(fs: P9Filesystem, oldDir: P9NodeId, oldName: string, newDir: P9NodeId, newName: string): void {
    for (const f of this.fids.values()) {
      if (f.fs === fs && f.parent?.dir === oldDir && f.parent.name === oldName)
        f.parent = { dir: newDir, name: newName };
    }
  }

  private getattrReply(a: P9Attr, requested: bigint): P9Body<'Rgetattr'> {
    const b = (n: number) => BigInt(n);
    return {
      type: 'Rgetattr',
      valid: (requested | P9_GETATTR.BASIC) & P9_GETATTR.ALL,
      qid: qidOf(a),
      mode: a.mode,
      uid: a.uid,
      gid: a.gid,
      nlink: b(a.nlink),
      rdev: b(a.rdev),
      size: b(a.size),
      blksize: b(a.blksize),
      blocks: b(a.blocks),
      atime_sec: BigInt.asUintN(64, b(a.atime.sec)),
      atime_nsec: b(a.atime.nsec),
      mtime_sec: BigInt.asUintN(64, b(a.mtime.sec)),
      mtime_nsec: b(a.mtime.nsec),
      ctime_sec: BigInt.asUintN(64, b(a.ctime.sec)),
      ctime_nsec: b(a.ctime.nsec),
      btime_sec: BigInt.asUintN(64, b(a.btime.sec)),
      btime_nsec: b(a.btime.nsec),
      gen: b(a.gen),
      data_version: b(a.dataVersion),
    };
  }
}

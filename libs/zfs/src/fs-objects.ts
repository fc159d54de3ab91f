// Filesystem datasets over the object model: files and directories are objects numbered by their slot in
// the meta-dnode's blocks; a file's bytes are its object's level-0 blocks; a directory's bytes are its
// entries (u64 object, u8 type 1 file / 2 directory / 3 symlink, u8 0, u16 name length, the name in UTF-8),
// rewritten whole on every change (ZFS keeps ZAPs; this is the simple form, fine for directories of modest
// size). A symlink's bytes are its target. The root directory is object 1; object 0 is never used (ZFS's
// meta-dnode number). Object numbers are never reused (the meta-dnode's next number only grows), so an
// object number alone is a stable identity (a 9P qid path) for as long as the dataset lives.
//
// A meta-dnode slot is 256 bytes: the 192-byte dnode, then the znode extension (64 bytes):
//   192 u32 uid  196 u32 gid  200 u64 parent directory  208 u64 xattr object (0 none)
//   216 u64 atime sec  224 u64 mtime sec  232 u64 ctime sec  240 u32 atime nsec  244 u32 mtime nsec
//   248 u32 ctime nsec  252 u32 magic "ZNX1"
// The bonus's mtime/ctime in ms stay written too; a slot without the magic (or whose ms times disagree
// with the extension, as after a receive, which carries the bonus only) takes its times from the bonus.
// An xattr object's bytes are its attributes: u16 name length, name, u32 value length, value, ...
//
// FsView reads a filesystem as of a tree (a snapshot's, or the head's last synced one) with the head's
// dirty state on top if it has one. FsHead holds that dirty state: changed dnodes and whole changed blocks,
// written copy-on-write by the next txg (Pool.syncFilesystem), like a volume's.
import { HOLE, isHole, type BlockPointer } from './blkptr.js';
import type { BlockReader } from './block-reader.js';
import { CHAIN_BLOCK_MAX } from './chain.js';
import { INDIRECT_BLOCK_SIZE, INDIRECT_FANOUT } from './constants.js';
import { ZfsError } from './errors.js';
import { lookupBlock } from './object-tree.js';
import {
  decodeDnode,
  levelsFor,
  DNODE_SIZE_ON_DISK,
  META_BLOCK_SIZE,
  META_SLOT,
  NO_BONUS,
  SLOTS_PER_META_BLOCK,
  type Dnode,
  type Znode,
  type ZnodeTime,
} from './objset.js';
import { readU64, writeU64 } from './u64.js';

/** Every file's block size (ZFS's recordsize; fixed in this slice). */
export const FILE_BLOCK_SIZE = 16 * 1024;
export const ROOT_OBJECT = 1;
const MAX_NAME_BYTES = 255;
/** Files are limited to 2^48 bytes, far below what the u64 fields hold, so offsets stay exact numbers. */
export const MAX_FILE = 2 ** 48;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const ZNODE_MAGIC = 0x31584e5a; // "ZNX1"
/** The most xattr bytes one object may hold (names and values encoded). */
export const MAX_XATTR_BYTES = 64 * 1024;

export type FsObjectType = 'file' | 'dir' | 'symlink';

export interface DirEntry {
  readonly name: string;
  readonly object: number;
  readonly type: FsObjectType;
}

export interface FsStat {
  readonly object: number;
  readonly type: FsObjectType;
  readonly size: number;
  /** st_mode: the type bits and the permission bits. */
  readonly mode: number;
  readonly nlink: number;
  readonly mtime: number;
  readonly ctime: number;
  /** Bytes of blocks its tree holds, as of the last txg (st_blocks * 512). */
  readonly blocks: number;
  readonly uid: number;
  readonly gid: number;
  /** Times to the nanosecond (mtime and ctime above are the same in ms). */
  readonly atimeNs: ZnodeTime;
  readonly mtimeNs: ZnodeTime;
  readonly ctimeNs: ZnodeTime;
  /** The directory holding a directory (itself for the root); 0 for other objects. */
  readonly parent: number;
  readonly blockSize: number;
}

/** The wall clock to the microsecond, as a time with nanoseconds. */
export function nowTime(): ZnodeTime {
  const ns = Math.round((performance.timeOrigin + performance.now()) * 1000) * 1000;
  return { sec: Math.floor(ns / 1e9), nsec: ns % 1e9 };
}

export function timeOfMs(ms: number): ZnodeTime {
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
}

export function msOfTime(t: ZnodeTime): number {
  return t.sec * 1000 + Math.floor(t.nsec / 1e6);
}

/** A filesystem object's znode, derived from the bonus where the slot has none or a stale one. */
export function znodeOf(dn: Dnode): Znode {
  const z = dn.znode;
  const mtime = z !== undefined && msOfTime(z.mtime) === dn.mtime ? z.mtime : timeOfMs(dn.mtime);
  const ctime = z !== undefined && msOfTime(z.ctime) === dn.ctime ? z.ctime : timeOfMs(dn.ctime);
  return {
    uid: z?.uid ?? 0,
    gid: z?.gid ?? 0,
    parent: z?.parent ?? 0,
    xattr: z?.xattr ?? 0,
    atime: z?.atime ?? mtime,
    mtime,
    ctime,
  };
}

/** The dnode with these znode fields changed (and the bonus's ms times kept in step). */
export function withZnode(dn: Dnode, changes: Partial<Znode>): Dnode {
  const znode = { ...znodeOf(dn), ...changes };
  return { ...dn, znode, mtime: msOfTime(znode.mtime), ctime: msOfTime(znode.ctime) };
}

export function encodeZnode(dn: Dnode, out: Buffer, slot: number): void {
  encodeZnodeAt(znodeOf(dn), out, slot + DNODE_SIZE_ON_DISK);
}

/** The 64-byte znode extension at `at` (a meta-dnode slot's tail; a send stream's OBJECT record's). */
export function encodeZnodeAt(z: Znode, out: Buffer, at: number): void {
  out.writeUInt32LE(z.uid >>> 0, at);
  out.writeUInt32LE(z.gid >>> 0, at + 4);
  writeU64(out, at + 8, z.parent);
  writeU64(out, at + 16, z.xattr);
  writeU64(out, at + 24, z.atime.sec);
  writeU64(out, at + 32, z.mtime.sec);
  writeU64(out, at + 40, z.ctime.sec);
  out.writeUInt32LE(z.atime.nsec, at + 48);
  out.writeUInt32LE(z.mtime.nsec, at + 52);
  out.writeUInt32LE(z.ctime.nsec, at + 56);
  out.writeUInt32LE(ZNODE_MAGIC, at + 60);
}

/** The dnode in a meta-dnode slot with its znode extension, or undefined for a free slot. */
export function decodeFsDnode(buf: Buffer, slot: number, where: string): Dnode | undefined {
  const dn = decodeDnode(buf, slot, where);
  if (dn === undefined) return undefined;
  const znode = decodeZnodeAt(buf, slot + DNODE_SIZE_ON_DISK, where);
  return znode === undefined ? dn : { ...dn, znode };
}

export const ZNODE_SIZE = 64;

/** The znode extension at `at`, or undefined where there is none (no magic). */
export function decodeZnodeAt(buf: Buffer, at: number, where: string): Znode | undefined {
  if (buf.length < at + ZNODE_SIZE || buf.readUInt32LE(at + 60) !== ZNODE_MAGIC) return undefined;
  return {
    uid: buf.readUInt32LE(at),
    gid: buf.readUInt32LE(at + 4),
    parent: readU64(buf, at + 8, where),
    xattr: readU64(buf, at + 16, where),
    atime: { sec: readU64(buf, at + 24, where), nsec: buf.readUInt32LE(at + 48) },
    mtime: { sec: readU64(buf, at + 32, where), nsec: buf.readUInt32LE(at + 52) },
    ctime: { sec: readU64(buf, at + 40, where), nsec: buf.readUInt32LE(at + 56) },
  };
}

/** Whether two filesystem dnodes' znodes are the same (an incremental send sends an object if not). */
export function sameZnode(a: Dnode, b: Dnode): boolean {
  return JSON.stringify(znodeOf(a)) === JSON.stringify(znodeOf(b));
}

export function encodeXattrs(attrs: ReadonlyMap<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of attrs) {
    const n = Buffer.from(name, 'utf8');
    const head = Buffer.alloc(2);
    head.writeUInt16LE(n.length);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(value.length);
    parts.push(head, n, len, value);
  }
  return Buffer.concat(parts);
}

export function decodeXattrs(buf: Buffer, where: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (let at = 0; at < buf.length;) {
    if (at + 2 > buf.length) throw new ZfsError('EIO', `${where}: xattr overruns at byte ${at}`);
    const nlen = buf.readUInt16LE(at);
    if (at + 2 + nlen + 4 > buf.length) throw new ZfsError('EIO', `${where}: xattr overruns at byte ${at}`);
    const name = buf.subarray(at + 2, at + 2 + nlen).toString('utf8');
    const vlen = buf.readUInt32LE(at + 2 + nlen);
    const v = at + 6 + nlen;
    if (v + vlen > buf.length) throw new ZfsError('EIO', `${where}: xattr '${name}' overruns the object`);
    out.set(name, Buffer.from(buf.subarray(v, v + vlen)));
    at = v + vlen;
  }
  return out;
}

export function newMetaDnode(): Dnode {
  return {
    type: 'meta',
    nlevels: 1,
    blockSize: META_BLOCK_SIZE,
    indBlockSize: INDIRECT_BLOCK_SIZE,
    maxBlkid: 0,
    root: HOLE,
    ...NO_BONUS,
    size: ROOT_OBJECT + 1,
  };
}

export function newObjectDnode(
  type: FsObjectType | 'xattr',
  mode: number,
  now: number | ZnodeTime,
  owner: Partial<Znode> = {},
  blockSize = FILE_BLOCK_SIZE,
): Dnode {
  const t = typeof now === 'number' ? timeOfMs(now) : now;
  const ms = msOfTime(t);
  const ifmt = type === 'dir' ? S_IFDIR : type === 'symlink' ? S_IFLNK : S_IFREG;
  return {
    type,
    znode: { uid: 0, gid: 0, parent: 0, xattr: 0, ...owner, atime: t, mtime: t, ctime: t },
    nlevels: 1,
    blockSize,
    indBlockSize: INDIRECT_BLOCK_SIZE,
    maxBlkid: 0,
    root: HOLE,
    size: 0,
    mtime: ms,
    ctime: ms,
    mode: ifmt | (mode & 0o7777),
    nlink: type === 'dir' ? 2 : 1,
  };
}

const ENTRY_TYPE_IDS: Readonly<Record<FsObjectType, number>> = { file: 1, dir: 2, symlink: 3 };
const ENTRY_TYPES: readonly (FsObjectType | undefined)[] = [undefined, 'file', 'dir', 'symlink'];

export function encodeDir(entries: readonly DirEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const name = Buffer.from(e.name, 'utf8');
    const head = Buffer.alloc(12);
    writeU64(head, 0, e.object);
    head.writeUInt8(ENTRY_TYPE_IDS[e.type], 8);
    head.writeUInt16LE(name.length, 10);
    parts.push(head, name);
  }
  return Buffer.concat(parts);
}

export function decodeDir(buf: Buffer, where: string): DirEntry[] {
  const out: DirEntry[] = [];
  for (let at = 0; at < buf.length;) {
    if (at + 12 > buf.length) throw new ZfsError('EIO', `${where}: directory entry overruns at byte ${at}`);
    const object = readU64(buf, at, where);
    const t = buf.readUInt8(at + 8);
    const len = buf.readUInt16LE(at + 10);
    const type = ENTRY_TYPES[t];
    if (type === undefined || at + 12 + len > buf.length)
      throw new ZfsError('EIO', `${where}: bad directory entry at byte ${at}`);
    out.push({ object, type, name: buf.subarray(at + 12, at + 12 + len).toString('utf8') });
    at += 12 + len;
  }
  return out;
}

export function checkEntryName(name: string, path: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0'))
    throw new ZfsError('EINVAL', `invalid file name '${name}' in '${path}'`);
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new ZfsError('EINVAL', `file name too long in '${path}'`);
}

/** Path components of "/a/b/c" (leading, trailing and doubled slashes ignored). */
export function splitPath(path: string): string[] {
  return path.split('/').filter((p) => p.length > 0);
}

interface ObjectState {
  dnode: Dnode;
  readonly blocks: Map<number, Buffer | null>;
  freed: boolean;
  /** The object as on disk before a receive replaced it whole: its blocks are killed at sync. */
  replaced?: Dnode;
}

/** The open-context state of a filesystem's head (see the top of this file). */
export class FsHead {
  /** Loaded dnodes, clean or changed, by object number. */
  readonly objects = new Map<number, ObjectState>();
  /** Objects whose dnode or data changed since the last txg. */
  readonly dirty = new Set<number>();
  private dirtyBlocks = 0;
  private dirtyData = 0;
  /** References a client holds on objects (open files, 9P fids): an unlinked one lives until the last goes. */
  private readonly holds = new Map<number, number>();
  /**
   * Objects unlinked while held: freed at their last release. They are also listed on disk in the
   * unlinked set (ZFS's delete queue), so that a crash cannot leak them: the first use of the head after
   * import frees what it lists.
   */
  readonly orphans = new Set<number>();

  constructor(public meta: Dnode) {}

  hold(obj: number): void {
    this.holds.set(obj, (this.holds.get(obj) ?? 0) + 1);
  }

  /** Drops one hold; true if it was the last one of an orphan (the caller frees it). */
  release(obj: number): boolean {
    const n = (this.holds.get(obj) ?? 0) - 1;
    if (n > 0) {
      this.holds.set(obj, n);
      return false;
    }
    this.holds.delete(obj);
    return this.orphans.delete(obj);
  }

  isHeld(obj: number): boolean {
    return this.holds.has(obj);
  }

  get nextObject(): number {
    return this.meta.size;
  }

  /** The unlinked set's object, kept in the meta-dnode's bonus ctime (unused otherwise); 0: none yet. */
  get unlinkedSet(): number {
    return this.meta.ctime;
  }

  get isDirty(): boolean {
    return this.dirty.size > 0;
  }

  get dirtyBytes(): number {
    return this.dirtyData;
  }

  state(obj: number): ObjectState | undefined {
    return this.objects.get(obj);
  }

  load(obj: number, dnode: Dnode): ObjectState {
    const st: ObjectState = { dnode, blocks: new Map(), freed: false };
    this.objects.set(obj, st);
    return st;
  }

  create(dnode: Dnode): number {
    const obj = this.meta.size;
    this.meta = { ...this.meta, size: obj + 1 };
    this.load(obj, dnode);
    this.dirty.add(obj);
    return obj;
  }

  /**
   * Receive: object `obj` gets these attributes; with `reset` (or if it was freed) it starts over as an
   * empty tree, its old blocks killed at the next sync.
   */
  receive(
    obj: number,
    bonus: Pick<Dnode, 'type' | 'size' | 'mtime' | 'ctime' | 'mode' | 'nlink' | 'znode'>,
    on: Dnode | undefined,
    reset: boolean,
    /** A new or reset object's block size (streams before recordsize carry none: 16 KiB). */
    blockSize = FILE_BLOCK_SIZE,
  ): void {
    let st = this.objects.get(obj);
    if (st === undefined) st = this.load(obj, on ?? newObjectDnode(bonus.type === 'dir' ? 'dir' : 'file', 0, 0));
    if (on === undefined || reset || st.freed) {
      if (on !== undefined || st.freed) st.replaced ??= st.dnode;
      this.dirtyBlocks -= st.blocks.size;
      this.dirtyData -= st.blocks.size * st.dnode.blockSize;
      st.blocks.clear();
      st.freed = false;
      st.dnode = newObjectDnode(bonus.type === 'dir' ? 'dir' : 'file', 0, 0, {}, blockSize);
    }
    st.dnode = { ...st.dnode, ...bonus, type: bonus.type };
    if (obj >= this.meta.size) this.meta = { ...this.meta, size: obj + 1 };
    this.dirty.add(obj);
  }

  setDnode(obj: number, dnode: Dnode): void {
    this.objects.get(obj)!.dnode = dnode;
    this.dirty.add(obj);
  }

  setBlock(obj: number, blkid: number, data: Buffer | null): void {
    const st = this.objects.get(obj)!;
    if (!st.blocks.has(blkid)) {
      this.dirtyBlocks++;
      this.dirtyData += st.dnode.blockSize;
    }
    st.blocks.set(blkid, data);
    this.dirty.add(obj);
  }

  free(obj: number): void {
    const st = this.objects.get(obj)!;
    this.dirtyBlocks -= st.blocks.size;
    this.dirtyData -= st.blocks.size * st.dnode.blockSize;
    st.blocks.clear();
    st.freed = true;
    this.dirty.add(obj);
  }

  /** After a txg synced: drop data and freed objects; `synced` are the dnodes as written. */
  synced(meta: Dnode, synced: ReadonlyMap<number, Dnode>): void {
    this.meta = meta;
    for (const obj of this.dirty) {
      const st = this.objects.get(obj)!;
      st.replaced = undefined;
      if (st.freed) this.objects.delete(obj);
      else {
        st.blocks.clear();
        st.dnode = synced.get(obj) ?? st.dnode;
      }
    }
    this.dirty.clear();
    this.dirtyBlocks = 0;
    this.dirtyData = 0;
  }

  /**
   * An upper bound of what syncing allocates with `extraBlocks` more data blocks of `extraBlockSize`
   * bytes: the data blocks, the
   * indirect blocks above them (at each level one per 128 blocks, plus one for a range's ragged end), the
   * meta-dnode blocks holding changed dnodes and their indirect blocks, the objset block, deadlist room.
   */
  estimate(extraBlocks = 0, extraBlockSize = FILE_BLOCK_SIZE): number {
    if (!this.isDirty && extraBlocks === 0) return 0;
    const tree = (blocks: number, levels: number, bs = FILE_BLOCK_SIZE): number =>
      blocks * bs + levels * (Math.ceil(blocks / INDIRECT_FANOUT) + 1) * INDIRECT_BLOCK_SIZE;
    let bytes = 0;
    let indirect = 0;
    for (const obj of this.dirty) {
      const st = this.objects.get(obj)!;
      bytes += tree(st.blocks.size, st.dnode.nlevels + 1, st.dnode.blockSize);
      indirect += st.blocks.size;
    }
    bytes += tree(extraBlocks, levelsFor(MAX_FILE / extraBlockSize), extraBlockSize);
    const metaBlocks = this.dirty.size + 1;
    bytes += tree(metaBlocks, this.meta.nlevels + 1);
    // Replaced blocks may go on a deadlist: a 128-byte entry each.
    bytes += Math.ceil(((this.dirtyBlocks + extraBlocks + indirect + metaBlocks) * 128) / 4096) * 4096;
    return bytes + 4096 + CHAIN_BLOCK_MAX;
  }
}

/** A filesystem as of `meta` (a snapshot's, or the head's), with the head's dirty state on top. */
export class FsView {
  constructor(
    private readonly reader: BlockReader,
    private readonly meta: Dnode,
    readonly head: FsHead | undefined,
    private readonly what: string,
  ) {}

  async dnode(obj: number): Promise<Dnode | undefined> {
    const st = this.head?.state(obj);
    if (st !== undefined) return st.freed ? undefined : st.dnode;
    const meta = this.head?.meta ?? this.meta;
    const blkid = Math.floor(obj / SLOTS_PER_META_BLOCK);
    if (obj <= 0 || blkid > meta.maxBlkid) return undefined;
    const bp = await lookupBlock(this.reader, meta, blkid, `${this.what} meta-dnode`);
    if (isHole(bp)) return undefined;
    const where = `${this.what} meta-dnode blkid ${blkid}`;
    const dn = decodeFsDnode(await this.reader.read(bp, where), (obj % SLOTS_PER_META_BLOCK) * META_SLOT, where);
    if (dn !== undefined) this.head?.load(obj, dn);
    return dn;
  }

  async mustDnode(obj: number, path: string): Promise<Dnode> {
    const dn = await this.dnode(obj);
    if (dn === undefined) throw new ZfsError('EIO', `${this.what}: '${path}' names object ${obj}, which is free`);
    return dn;
  }

  /** One whole block of an object (zeros for a hole). Shared: copy before changing it. */
  async block(obj: number, dn: Dnode, blkid: number): Promise<Buffer> {
    const dirty = this.head?.state(obj)?.blocks.get(blkid);
    if (dirty !== undefined) return dirty ?? Buffer.alloc(dn.blockSize);
    if (blkid > dn.maxBlkid) return Buffer.alloc(dn.blockSize);
    const bp: BlockPointer = await lookupBlock(this.reader, dn, blkid, `${this.what} object ${obj}`);
    if (isHole(bp)) return Buffer.alloc(dn.blockSize);
    return this.reader.read(bp, `${this.what} object ${obj} blkid ${blkid}`);
  }

  async readData(obj: number, dn: Dnode, offset: number, length: number): Promise<Buffer> {
    const end = Math.min(dn.size, offset + length);
    if (end <= offset) return Buffer.alloc(0);
    const out = Buffer.alloc(end - offset);
    const bs = dn.blockSize;
    for (let pos = offset; pos < end;) {
      const blkid = Math.floor(pos / bs);
      const inBlock = pos - blkid * bs;
      const n = Math.min(bs - inBlock, end - pos);
      (await this.block(obj, dn, blkid)).copy(out, pos - offset, inBlock, inBlock + n);
      pos += n;
    }
    return out;
  }

  async readDir(obj: number, path: string): Promise<DirEntry[]> {
    const dn = await this.mustDnode(obj, path);
    if (dn.type !== 'dir') throw new ZfsError('ENOTDIR', `'${path}' is not a directory`);
    return decodeDir(await this.readData(obj, dn, 0, dn.size), `${this.what} directory '${path}'`);
  }

  /** The entry `name` of directory `dir`, '.' and '..' included. */
  async lookup(dir: number, name: string): Promise<DirEntry> {
    const where = `directory object ${dir}`;
    const dn = await this.mustDnode(dir, where);
    if (dn.type !== 'dir') throw new ZfsError('ENOTDIR', `object ${dir} is not a directory (looking up '${name}')`);
    if (name === '.') return { name, object: dir, type: 'dir' };
    if (name === '..') return { name, object: znodeOf(dn).parent || ROOT_OBJECT, type: 'dir' };
    const e = (await this.readDir(dir, where)).find((x) => x.name === name);
    if (e === undefined) throw new ZfsError('ENOENT', `'${name}' in ${where}: no such file or directory`);
    return e;
  }

  async xattrs(obj: number, dn: Dnode): Promise<Map<string, Buffer>> {
    const x = znodeOf(dn).xattr;
    if (x === 0) return new Map();
    const xdn = await this.mustDnode(x, `xattrs of object ${obj}`);
    return decodeXattrs(await this.readData(x, xdn, 0, xdn.size), `${this.what} xattrs of object ${obj}`);
  }

  /** The object a path names (the root for "/"). */
  async resolve(path: string): Promise<{ object: number; type: FsObjectType }> {
    let cur = { object: ROOT_OBJECT, type: 'dir' as FsObjectType };
    const parts = splitPath(path);
    for (let i = 0; i < parts.length; i++) {
      const here = '/' + parts.slice(0, i).join('/');
      if (cur.type !== 'dir') throw new ZfsError('ENOTDIR', `'${here}' is not a directory (in '${path}')`);
      const e = (await this.readDir(cur.object, here)).find((x) => x.name === parts[i]);
      if (e === undefined) throw new ZfsError('ENOENT', `'${path}': no such file or directory`);
      cur = { object: e.object, type: e.type };
    }
    return cur;
  }

  async stat(path: string): Promise<FsStat> {
    const { object } = await this.resolve(path);
    return this.statObject(object, path);
  }

  async statObject(object: number, what = `object ${object}`): Promise<FsStat> {
    const dn = await this.mustDnode(object, what);
    if (dn.type !== 'file' && dn.type !== 'dir' && dn.type !== 'symlink')
      throw new ZfsError('ENOENT', `${this.what}: ${what} is not a file, directory or symlink`);
    let blocks = 0;
    if (!isHole(dn.root)) blocks = dn.root.fill * dn.blockSize;
    const z = znodeOf(dn);
    return {
      object,
      type: dn.type,
      size: dn.size,
      mode: dn.mode,
      nlink: dn.nlink,
      mtime: dn.mtime,
      ctime: dn.ctime,
      blocks,
      uid: z.uid,
      gid: z.gid,
      atimeNs: z.atime,
      mtimeNs: z.mtime,
      ctimeNs: z.ctime,
      parent: dn.type === 'dir' ? z.parent || ROOT_OBJECT : 0,
      blockSize: dn.blockSize,
    };
  }
}

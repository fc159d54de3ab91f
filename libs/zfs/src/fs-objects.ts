// Filesystem datasets over the object model: files and directories are objects numbered by their slot in
// the meta-dnode's blocks; a file's bytes are its object's level-0 blocks; a directory's bytes are its
// entries (u64 object, u8 type 1 file / 2 directory, u8 0, u16 name length, the name in UTF-8), rewritten
// whole on every change (ZFS keeps ZAPs; this is the simple form, fine for directories of modest size).
// The root directory is object 1; object 0 is never used (ZFS's meta-dnode number).
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
import { decodeDnode, META_BLOCK_SIZE, META_SLOT, NO_BONUS, SLOTS_PER_META_BLOCK, type Dnode } from './objset.js';
import { readU64, writeU64 } from './u64.js';

/** Every file's block size (ZFS's recordsize; fixed in this slice). */
export const FILE_BLOCK_SIZE = 16 * 1024;
export const ROOT_OBJECT = 1;
const MAX_NAME_BYTES = 255;
/** Levels a file of 2^48 bytes needs (16 KiB blocks, 128 pointers per indirect block). */
const MAX_FILE_LEVELS = 6;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

export type FsObjectType = 'file' | 'dir';

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

export function newObjectDnode(type: FsObjectType, mode: number, now: number): Dnode {
  return {
    type,
    nlevels: 1,
    blockSize: FILE_BLOCK_SIZE,
    indBlockSize: INDIRECT_BLOCK_SIZE,
    maxBlkid: 0,
    root: HOLE,
    size: 0,
    mtime: now,
    ctime: now,
    mode: (type === 'dir' ? S_IFDIR : S_IFREG) | (mode & 0o7777),
    nlink: type === 'dir' ? 2 : 1,
  };
}

export function encodeDir(entries: readonly DirEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const name = Buffer.from(e.name, 'utf8');
    const head = Buffer.alloc(12);
    writeU64(head, 0, e.object);
    head.writeUInt8(e.type === 'file' ? 1 : 2, 8);
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
    if ((t !== 1 && t !== 2) || at + 12 + len > buf.length)
      throw new ZfsError('EIO', `${where}: bad directory entry at byte ${at}`);
    out.push({ object, type: t === 1 ? 'file' : 'dir', name: buf.subarray(at + 12, at + 12 + len).toString('utf8') });
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

  constructor(public meta: Dnode) {}

  get nextObject(): number {
    return this.meta.size;
  }

  get isDirty(): boolean {
    return this.dirty.size > 0;
  }

  get dirtyBytes(): number {
    return this.dirtyBlocks * FILE_BLOCK_SIZE;
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
    bonus: Pick<Dnode, 'type' | 'size' | 'mtime' | 'ctime' | 'mode' | 'nlink'>,
    on: Dnode | undefined,
    reset: boolean,
  ): void {
    let st = this.objects.get(obj);
    if (st === undefined) st = this.load(obj, on ?? newObjectDnode(bonus.type === 'dir' ? 'dir' : 'file', 0, 0));
    if (on === undefined || reset || st.freed) {
      if (on !== undefined || st.freed) st.replaced ??= st.dnode;
      this.dirtyBlocks -= st.blocks.size;
      st.blocks.clear();
      st.freed = false;
      st.dnode = newObjectDnode(bonus.type === 'dir' ? 'dir' : 'file', 0, 0);
    }
    st.dnode = { ...st.dnode, ...bonus };
    if (obj >= this.meta.size) this.meta = { ...this.meta, size: obj + 1 };
    this.dirty.add(obj);
  }

  setDnode(obj: number, dnode: Dnode): void {
    this.objects.get(obj)!.dnode = dnode;
    this.dirty.add(obj);
  }

  setBlock(obj: number, blkid: number, data: Buffer | null): void {
    const st = this.objects.get(obj)!;
    if (!st.blocks.has(blkid)) this.dirtyBlocks++;
    st.blocks.set(blkid, data);
    this.dirty.add(obj);
  }

  free(obj: number): void {
    const st = this.objects.get(obj)!;
    this.dirtyBlocks -= st.blocks.size;
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
  }

  /**
   * An upper bound of what syncing allocates with `extraBlocks` more data blocks: the data blocks, the
   * indirect blocks above them (at each level one per 128 blocks, plus one for a range's ragged end), the
   * meta-dnode blocks holding changed dnodes and their indirect blocks, the objset block, deadlist room.
   */
  estimate(extraBlocks = 0): number {
    if (!this.isDirty && extraBlocks === 0) return 0;
    const tree = (blocks: number, levels: number): number =>
      blocks * FILE_BLOCK_SIZE + levels * (Math.ceil(blocks / INDIRECT_FANOUT) + 1) * INDIRECT_BLOCK_SIZE;
    let bytes = 0;
    let indirect = 0;
    for (const obj of this.dirty) {
      const st = this.objects.get(obj)!;
      bytes += tree(st.blocks.size, st.dnode.nlevels + 1);
      indirect += st.blocks.size;
    }
    bytes += tree(extraBlocks, MAX_FILE_LEVELS);
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
    const dn = decodeDnode(await this.reader.read(bp, where), (obj % SLOTS_PER_META_BLOCK) * META_SLOT, where);
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
    const dn = await this.mustDnode(object, path);
    let blocks = 0;
    if (!isHole(dn.root)) blocks = dn.root.fill * dn.blockSize;
    return {
      object,
      type: dn.type === 'dir' ? 'dir' : 'file',
      size: dn.size,
      mode: dn.mode,
      nlink: dn.nlink,
      mtime: dn.mtime,
      ctime: dn.ctime,
      blocks,
    };
  }
}

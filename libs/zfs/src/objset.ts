// Object sets and dnodes. A dataset's tree hangs from one objset block (what its block pointer in the MOS,
// and a snapshot's, points at); the objset holds the dnodes of its objects, and a dnode holds the geometry
// of one object and the block pointer at the top of its tree. A zvol has one object, the volume's data
// (ZFS's ZVOL_OBJ), inline in the objset block. A filesystem has one inline dnode, the meta-dnode, whose
// level-0 blocks are arrays of dnodes (filesystem.ts): objects are numbered by their slot there.
//   objset block:  0  8 bytes magic "DOMOBJS1"   8  u32 type (1 volume, 2 filesystem)   12  u32 dnode count
//                 16  dnodes, then zeros to a whole sector
//   dnode (192 bytes):  0  u8 type (1 zvol data, 2 meta-dnode, 3 file, 4 directory, 5 symlink, 6 xattr
//                          object)  1  u8 levels  2  u16 0
//                       4  u32 data block size   8  u32 indirect block size  12  u32 0  16  u64 max blkid
//                      24  u64 0   32  block pointer of the top block (128 bytes)
//                     160  bonus (ZFS's znode attributes): u64 size, u64 mtime (ms), u64 ctime (ms)
//                          (u32 mode and u32 nlink in the u64 at 184)
// A slot of all zeros (type 0) is a free object.
import { BLKPTR_SIZE, INDIRECT_BLOCK_SIZE, INDIRECT_FANOUT, SECTOR } from './constants.js';
import { decodeBlkptr, encodeBlkptr, HOLE, type BlockPointer } from './blkptr.js';
import { ZfsError } from './errors.js';
import { readU64, roundUp, writeU64 } from './u64.js';

const MAGIC = Buffer.from('DOMOBJS1', 'latin1');
const HEADER = 16;
const DNODE_SIZE = 192;

export type DnodeType = 'zvol' | 'meta' | 'file' | 'dir' | 'symlink' | 'xattr';
const DNODE_TYPE_IDS: Readonly<Record<DnodeType, number>> = { zvol: 1, meta: 2, file: 3, dir: 4, symlink: 5, xattr: 6 };
const DNODE_TYPE_BY_ID = new Map(Object.entries(DNODE_TYPE_IDS).map(([k, v]) => [v, k as DnodeType]));

/** The bonus of a file or directory dnode (the meta-dnode keeps its next free object number in `size`). */
export interface DnodeBonus {
  readonly size: number;
  readonly mtime: number;
  readonly ctime: number;
  readonly mode: number;
  readonly nlink: number;
}

export interface ZnodeTime {
  readonly sec: number;
  readonly nsec: number;
}

/** Owner, times to the nanosecond, the parent directory (for '..') and the xattr object (0: none). */
export interface Znode {
  readonly uid: number;
  readonly gid: number;
  readonly parent: number;
  readonly xattr: number;
  readonly atime: ZnodeTime;
  readonly mtime: ZnodeTime;
  readonly ctime: ZnodeTime;
}

export const NO_BONUS: DnodeBonus = Object.freeze({ size: 0, mtime: 0, ctime: 0, mode: 0, nlink: 0 });

export interface Dnode extends DnodeBonus {
  readonly type: DnodeType;
  /** A filesystem object's POSIX attributes beyond the bonus, in its meta-dnode slot (fs-objects.ts). */
  readonly znode?: Znode;
  /** Levels of the tree: 1 when the top block pointer is a data block. */
  readonly nlevels: number;
  readonly blockSize: number;
  readonly indBlockSize: number;
  readonly maxBlkid: number;
  readonly root: BlockPointer;
}

export interface Objset {
  readonly type: 'volume' | 'filesystem';
  readonly dnodes: readonly Dnode[];
}

/** Levels needed so that INDIRECT_FANOUT^(levels-1) top-level slots cover `nblocks`. */
export function levelsFor(nblocks: number): number {
  let levels = 1;
  for (let span = 1; span < nblocks; span *= INDIRECT_FANOUT) levels++;
  return levels;
}

export function newVolumeDnode(volsize: number, volblocksize: number): Dnode {
  const nblocks = Math.ceil(volsize / volblocksize);
  return {
    type: 'zvol',
    nlevels: levelsFor(nblocks),
    blockSize: volblocksize,
    indBlockSize: INDIRECT_BLOCK_SIZE,
    maxBlkid: nblocks - 1,
    root: HOLE,
    ...NO_BONUS,
  };
}

export const DNODE_SIZE_ON_DISK = DNODE_SIZE;

/** Writes one dnode at `at` of `out` (the objset block, or a meta-dnode block). */
export function encodeDnode(dn: Dnode, out: Buffer, at: number): void {
  out.fill(0, at, at + DNODE_SIZE);
  out.writeUInt8(DNODE_TYPE_IDS[dn.type], at);
  out.writeUInt8(dn.nlevels, at + 1);
  out.writeUInt32LE(dn.blockSize, at + 4);
  out.writeUInt32LE(dn.indBlockSize, at + 8);
  writeU64(out, at + 16, dn.maxBlkid);
  encodeBlkptr(dn.root, out, at + 32);
  writeU64(out, at + 160, dn.size);
  writeU64(out, at + 168, dn.mtime);
  writeU64(out, at + 176, dn.ctime);
  out.writeUInt32LE(dn.mode, at + 184);
  out.writeUInt32LE(dn.nlink, at + 188);
}

/** The dnode at `at`, or undefined for a free slot (type 0). */
export function decodeDnode(buf: Buffer, at: number, where: string): Dnode | undefined {
  const typeId = buf.readUInt8(at);
  if (typeId === 0) return undefined;
  const type = DNODE_TYPE_BY_ID.get(typeId);
  if (type === undefined) throw new ZfsError('EIO', `${where}: dnode type ${typeId}`);
  const dn: Dnode = {
    type,
    nlevels: buf.readUInt8(at + 1),
    blockSize: buf.readUInt32LE(at + 4),
    indBlockSize: buf.readUInt32LE(at + 8),
    maxBlkid: readU64(buf, at + 16, where),
    root: decodeBlkptr(buf.subarray(at + 32, at + 32 + BLKPTR_SIZE), 0, where),
    size: readU64(buf, at + 160, where),
    mtime: readU64(buf, at + 168, where),
    ctime: readU64(buf, at + 176, where),
    mode: buf.readUInt32LE(at + 184),
    nlink: buf.readUInt32LE(at + 188),
  };
  if (dn.indBlockSize !== INDIRECT_BLOCK_SIZE || dn.nlevels < 1 || dn.nlevels > 10) {
    throw new ZfsError('EIO', `${where}: dnode has ${dn.nlevels} levels of ${dn.indBlockSize}-byte indirect blocks`);
  }
  return dn;
}

export function encodeObjset(os: Objset): Buffer {
  const out = Buffer.alloc(roundUp(HEADER + os.dnodes.length * DNODE_SIZE, SECTOR));
  MAGIC.copy(out, 0);
  out.writeUInt32LE(os.type === 'volume' ? 1 : 2, 8);
  out.writeUInt32LE(os.dnodes.length, 12);
  os.dnodes.forEach((dn, i) => encodeDnode(dn, out, HEADER + i * DNODE_SIZE));
  return out;
}

export function decodeObjset(buf: Buffer, where: string): Objset {
  if (buf.length < HEADER || !buf.subarray(0, 8).equals(MAGIC))
    throw new ZfsError('EIO', `${where}: not an objset block`);
  const typeId = buf.readUInt32LE(8);
  if (typeId !== 1 && typeId !== 2) throw new ZfsError('EIO', `${where}: objset type ${typeId}`);
  const count = buf.readUInt32LE(12);
  if (HEADER + count * DNODE_SIZE > buf.length)
    throw new ZfsError('EIO', `${where}: ${count} dnodes overrun the block`);
  const dnodes: Dnode[] = [];
  for (let i = 0; i < count; i++) {
    const dn = decodeDnode(buf, HEADER + i * DNODE_SIZE, `${where} dnode ${i}`);
    if (dn === undefined) throw new ZfsError('EIO', `${where}: dnode ${i} is free`);
    dnodes.push(dn);
  }
  return { type: typeId === 1 ? 'volume' : 'filesystem', dnodes };
}

/** Filesystems: the meta-dnode's blocks are 16 KiB arrays of 64 slots of 256 bytes, one dnode each. */
export const META_BLOCK_SIZE = 16 * 1024;
export const META_SLOT = 256;
export const SLOTS_PER_META_BLOCK = META_BLOCK_SIZE / META_SLOT;

/** The dnodes of one meta-dnode block, by object number (free slots left out). */
export function decodeMetaBlock(buf: Buffer, blkid: number, where: string): Map<number, Dnode> {
  const out = new Map<number, Dnode>();
  for (let slot = 0; slot < SLOTS_PER_META_BLOCK; slot++) {
    const dn = decodeDnode(buf, slot * META_SLOT, `${where} object ${blkid * SLOTS_PER_META_BLOCK + slot}`);
    if (dn !== undefined) out.set(blkid * SLOTS_PER_META_BLOCK + slot, dn);
  }
  return out;
}

// Object sets and dnodes. A dataset's tree hangs from one objset block (what its block pointer in the MOS,
// and a snapshot's, points at); the objset holds the dnodes of its objects, and a dnode holds the geometry
// of one object and the block pointer at the top of its tree. A zvol has one object, the volume's data
// (ZFS's ZVOL_OBJ); filesystems will add a meta-dnode whose data blocks are arrays of dnodes.
//   objset block:  0  8 bytes magic "DOMOBJS1"   8  u32 type (1 volume)   12  u32 dnode count   16  dnodes
//   dnode (192 bytes):  0  u8 type (1 zvol data)  1  u8 levels  2  u16 0  4  u32 data block size
//                       8  u32 indirect block size  12  u32 0  16  u64 max blkid  24  u64 0
//                      32  block pointer of the top block (128 bytes)   160  32 zero bytes
// then zeros to a whole sector.
import { BLKPTR_SIZE, INDIRECT_BLOCK_SIZE, INDIRECT_FANOUT, SECTOR } from './constants.js';
import { decodeBlkptr, encodeBlkptr, HOLE, type BlockPointer } from './blkptr.js';
import { ZfsError } from './errors.js';
import { readU64, roundUp, writeU64 } from './u64.js';

const MAGIC = Buffer.from('DOMOBJS1', 'latin1');
const HEADER = 16;
const DNODE_SIZE = 192;

export interface Dnode {
  readonly type: 'zvol';
  /** Levels of the tree: 1 when the top block pointer is a data block. */
  readonly nlevels: number;
  readonly blockSize: number;
  readonly indBlockSize: number;
  readonly maxBlkid: number;
  readonly root: BlockPointer;
}

export interface Objset {
  readonly type: 'volume';
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
  };
}

export function encodeObjset(os: Objset): Buffer {
  const out = Buffer.alloc(roundUp(HEADER + os.dnodes.length * DNODE_SIZE, SECTOR));
  MAGIC.copy(out, 0);
  out.writeUInt32LE(1, 8);
  out.writeUInt32LE(os.dnodes.length, 12);
  os.dnodes.forEach((dn, i) => {
    const at = HEADER + i * DNODE_SIZE;
    out.writeUInt8(1, at);
    out.writeUInt8(dn.nlevels, at + 1);
    out.writeUInt32LE(dn.blockSize, at + 4);
    out.writeUInt32LE(dn.indBlockSize, at + 8);
    writeU64(out, at + 16, dn.maxBlkid);
    encodeBlkptr(dn.root, out, at + 32);
  });
  return out;
}

export function decodeObjset(buf: Buffer, where: string): Objset {
  if (buf.length < HEADER || !buf.subarray(0, 8).equals(MAGIC))
    throw new ZfsError('EIO', `${where}: not an objset block`);
  if (buf.readUInt32LE(8) !== 1) throw new ZfsError('EIO', `${where}: objset type ${buf.readUInt32LE(8)}`);
  const count = buf.readUInt32LE(12);
  if (HEADER + count * DNODE_SIZE > buf.length)
    throw new ZfsError('EIO', `${where}: ${count} dnodes overrun the block`);
  const dnodes: Dnode[] = [];
  for (let i = 0; i < count; i++) {
    const at = HEADER + i * DNODE_SIZE;
    if (buf.readUInt8(at) !== 1) throw new ZfsError('EIO', `${where}: dnode ${i} has type ${buf.readUInt8(at)}`);
    const dn: Dnode = {
      type: 'zvol',
      nlevels: buf.readUInt8(at + 1),
      blockSize: buf.readUInt32LE(at + 4),
      indBlockSize: buf.readUInt32LE(at + 8),
      maxBlkid: readU64(buf, at + 16, where),
      root: decodeBlkptr(buf.subarray(at + 32, at + 32 + BLKPTR_SIZE), 0, `${where} dnode ${i}`),
    };
    if (dn.indBlockSize !== INDIRECT_BLOCK_SIZE || dn.nlevels < 1 || dn.nlevels > 10) {
      throw new ZfsError(
        'EIO',
        `${where}: dnode ${i} has ${dn.nlevels} levels of ${dn.indBlockSize}-byte indirect blocks`,
      );
    }
    dnodes.push(dn);
  }
  return { type: 'volume', dnodes };
}

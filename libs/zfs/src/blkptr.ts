// Block pointers: how every block but the uberblock is reached. Like ZFS's blkptr_t it is 128 bytes, names
// up to three DVAs (only the first is used until ditto blocks arrive), and carries what a reader needs to
// trust the block: its sizes, its birth txg and its checksum. Layout (little-endian):
//    0  DVA[0]: u32 vdev, u32 asize, u64 offset       16  DVA[1]      32  DVA[2]   (zero = unused)
//   48  u32 lsize     52  u32 psize
//   56  u8 checksum id, u8 compression (0 = off, 1 = lz4), u8 block type, u8 level, u32 reserved
//   64  u64 birth txg      72  u64 fill (non-hole level-0 blocks beneath)
//   80  32 bytes checksum of the psize bytes at the DVA
//  112  16 bytes reserved
// A hole is all zeros: no DVA, birth 0.
import { BLKPTR_SIZE } from './constants.js';
import { CHECKSUM_BYTES, CHECKSUM_IDS, checksumAlgoById, type ChecksumAlgo } from './checksum/index.js';
import { compressionById, COMPRESSION_IDS, type CompressionAlgo } from './compression/index.js';
import { ZfsError } from './errors.js';
import { readU64, writeU64 } from './u64.js';

/** What a block holds (ZFS's dmu_object_type, reduced to the kinds this slice writes). */
export type BlockType = 'data' | 'indirect' | 'objset' | 'mos' | 'spacemap' | 'bpobj';
const TYPE_IDS: Readonly<Record<BlockType, number>> = {
  data: 1,
  indirect: 2,
  objset: 3,
  mos: 4,
  spacemap: 5,
  bpobj: 6,
};
const TYPE_BY_ID = new Map<number, BlockType>(Object.entries(TYPE_IDS).map(([k, v]) => [v, k as BlockType]));

export interface BlockPointer {
  readonly vdev: number;
  readonly offset: number;
  readonly asize: number;
  readonly lsize: number;
  readonly psize: number;
  readonly checksumAlgo: ChecksumAlgo;
  /** How the psize bytes at the DVA encode the lsize bytes of the block. */
  readonly compression: CompressionAlgo;
  readonly type: BlockType;
  readonly level: number;
  readonly birth: number;
  readonly fill: number;
  readonly checksum: Buffer;
}

export const HOLE: BlockPointer = Object.freeze({
  vdev: 0,
  offset: 0,
  asize: 0,
  lsize: 0,
  psize: 0,
  checksumAlgo: 'fletcher4',
  compression: 'off',
  type: 'data',
  level: 0,
  birth: 0,
  fill: 0,
  checksum: Buffer.alloc(CHECKSUM_BYTES),
});

export function isHole(bp: BlockPointer): boolean {
  return bp.asize === 0;
}

export function encodeBlkptr(bp: BlockPointer, out: Buffer = Buffer.alloc(BLKPTR_SIZE), at = 0): Buffer {
  out.fill(0, at, at + BLKPTR_SIZE);
  if (isHole(bp)) return out;
  out.writeUInt32LE(bp.vdev, at);
  out.writeUInt32LE(bp.asize, at + 4);
  writeU64(out, at + 8, bp.offset);
  out.writeUInt32LE(bp.lsize, at + 48);
  out.writeUInt32LE(bp.psize, at + 52);
  out.writeUInt8(CHECKSUM_IDS[bp.checksumAlgo], at + 56);
  out.writeUInt8(COMPRESSION_IDS[bp.compression], at + 57);
  out.writeUInt8(TYPE_IDS[bp.type], at + 58);
  out.writeUInt8(bp.level, at + 59);
  writeU64(out, at + 64, bp.birth);
  writeU64(out, at + 72, bp.fill);
  bp.checksum.copy(out, at + 80, 0, CHECKSUM_BYTES);
  return out;
}

export function decodeBlkptr(buf: Buffer, at: number, where: string): BlockPointer {
  const asize = buf.readUInt32LE(at + 4);
  if (asize === 0) return HOLE;
  const typeId = buf.readUInt8(at + 58);
  const type = TYPE_BY_ID.get(typeId);
  if (type === undefined) throw new ZfsError('EIO', `${where}: block pointer names unknown block type ${typeId}`);
  return {
    vdev: buf.readUInt32LE(at),
    asize,
    offset: readU64(buf, at + 8, where),
    lsize: buf.readUInt32LE(at + 48),
    psize: buf.readUInt32LE(at + 52),
    checksumAlgo: checksumAlgoById(buf.readUInt8(at + 56), where),
    compression: compressionById(buf.readUInt8(at + 57), where),
    type,
    level: buf.readUInt8(at + 59),
    birth: readU64(buf, at + 64, where),
    fill: readU64(buf, at + 72, where),
    checksum: Buffer.from(buf.subarray(at + 80, at + 80 + CHECKSUM_BYTES)),
  };
}

/** Two pointers name the same block (the same DVA and the same birth). */
export function sameBlock(a: BlockPointer, b: BlockPointer): boolean {
  return a.vdev === b.vdev && a.offset === b.offset && a.birth === b.birth && a.asize === b.asize;
}

/** The form a bp takes inside the MOS (which is JSON): the hex of its 128 bytes. */
export function blkptrToHex(bp: BlockPointer): string {
  return encodeBlkptr(bp).toString('hex');
}

export function blkptrFromHex(hex: string, where: string): BlockPointer {
  const buf = Buffer.from(hex, 'hex');
  if (buf.length !== BLKPTR_SIZE) throw new ZfsError('EIO', `${where}: block pointer is ${buf.length} bytes`);
  return decodeBlkptr(buf, 0, where);
}

export function describeBlkptr(bp: BlockPointer): string {
  if (isHole(bp)) return 'hole';
  return `${bp.type} L${bp.level} DVA[${bp.vdev}:0x${bp.offset.toString(16)}:0x${bp.asize.toString(16)}] birth=${bp.birth} ${bp.checksumAlgo}${bp.compression === 'off' ? '' : ` ${bp.compression} ${bp.lsize}L/${bp.psize}P`}`;
}

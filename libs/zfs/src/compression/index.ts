// Block compression as a dataset property. A compressed block is stored as a 4-byte little-endian length of
// the compressed stream, the stream, and zeros to a whole 32-bit word (fletcher4's unit); its block pointer
// names the algorithm and carries lsize (the data) and psize (these bytes). Like ZFS, a block is stored
// compressed only if that saves at least 1/8 of it and at least one sector once both are rounded to
// sectors; otherwise it is stored as is (compression off in its block pointer).
// zstd is not offered: Node 20's zlib has no zstd (zstdCompressSync arrives in Node 22.15).
import { SECTOR } from '../constants.js';
import { ZfsError } from '../errors.js';
import { roundUp } from '../u64.js';
import { lz4Compress, lz4Decompress } from './lz4.js';

export { lz4Bound, lz4Compress, lz4Decompress } from './lz4.js';

export type CompressionAlgo = 'off' | 'lz4';

/** This format's own ids (ZFS's enum zio_compress numbers them differently). */
export const COMPRESSION_IDS: Readonly<Record<CompressionAlgo, number>> = { off: 0, lz4: 1 };
const BY_ID = new Map<number, CompressionAlgo>(
  Object.entries(COMPRESSION_IDS).map(([name, id]) => [id, name as CompressionAlgo]),
);

export function compressionById(id: number, where: string): CompressionAlgo {
  const algo = BY_ID.get(id);
  if (algo === undefined) throw new ZfsError('EIO', `${where}: block pointer names unknown compression ${id}`);
  return algo;
}

/** Parses `compression=` as zfs(8) spells it; `on` means lz4, as in OpenZFS 2.x. */
export function parseCompressionProperty(value: string): CompressionAlgo {
  if (value === 'off') return 'off';
  if (value === 'on' || value === 'lz4') return 'lz4';
  if (value === 'zstd' || value.startsWith('zstd-'))
    throw new ZfsError('EOPNOTSUPP', `compression=${value}: zstd needs Node 22 (node:zlib in Node 20 has none)`);
  throw new ZfsError('EINVAL', `compression=${value}: expected on, off or lz4`);
}

/** The bytes to store for `data` and the algorithm they are in: compressed only if it pays, as described above. */
export function compressForStorage(
  algo: CompressionAlgo,
  data: Buffer,
): { payload: Buffer; compression: CompressionAlgo } {
  if (algo === 'off' || data.length < 2 * SECTOR) return { payload: data, compression: 'off' };
  const stream = lz4Compress(data, data.length - (data.length >>> 3) - 4);
  if (stream === undefined) return { payload: data, compression: 'off' };
  const psize = roundUp(4 + stream.length, 4);
  if (psize > data.length - (data.length >>> 3) || roundUp(psize, SECTOR) >= roundUp(data.length, SECTOR)) {
    return { payload: data, compression: 'off' };
  }
  const payload = Buffer.alloc(psize);
  payload.writeUInt32LE(stream.length, 0);
  stream.copy(payload, 4);
  return { payload, compression: 'lz4' };
}

/** The lsize bytes of a verified block as stored (psize bytes). */
export function decompressBlock(
  bp: { readonly compression: CompressionAlgo; readonly lsize: number; readonly psize: number },
  raw: Buffer,
  where: string,
): Buffer {
  if (bp.compression === 'off') return bp.lsize === bp.psize ? raw : raw.subarray(0, bp.lsize);
  const length = raw.readUInt32LE(0);
  if (4 + length > raw.length) throw new ZfsError('EIO', `${where}: compressed length ${length} overruns the block`);
  return lz4Decompress(raw.subarray(4, 4 + length), bp.lsize, where);
}

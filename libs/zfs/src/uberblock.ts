// Uberblocks: the root of the pool's tree, one per synced txg, written into slot txg % UBERBLOCK_SLOTS of
// the ring in every label. A slot (1 KiB, little-endian):
//     0  8 bytes magic "DOMUBER1"      8  u64 format version     16  u64 txg
//    24  u64 guid sum (of all vdev guids, mod 2^64; a missing vdev changes it)
//    32  u64 timestamp (ms)           40  8 bytes pool guid      48  block pointer of the MOS (128 bytes)
//   992  sha256 of bytes 0..992
// Import takes the highest txg among slots whose checksum verifies. A slot torn by a power cut fails its
// checksum and the previous txg (in another slot, untouched) wins.
import { BLKPTR_SIZE, FORMAT_VERSION, UBERBLOCK_SLOT_SIZE } from './constants.js';
import { decodeBlkptr, encodeBlkptr, type BlockPointer } from './blkptr.js';
import { sha256 } from './checksum/index.js';
import { readU64, writeU64 } from './u64.js';

const MAGIC = Buffer.from('DOMUBER1', 'latin1');
const SUM_AT = UBERBLOCK_SLOT_SIZE - 32;

export interface Uberblock {
  readonly txg: number;
  readonly guidSum: bigint;
  readonly timestamp: number;
  readonly poolGuid: string;
  readonly rootbp: BlockPointer;
}

export function encodeUberblock(ub: Uberblock): Buffer {
  const out = Buffer.alloc(UBERBLOCK_SLOT_SIZE);
  MAGIC.copy(out, 0);
  writeU64(out, 8, FORMAT_VERSION);
  writeU64(out, 16, ub.txg);
  out.writeBigUInt64LE(ub.guidSum, 24);
  writeU64(out, 32, ub.timestamp);
  Buffer.from(ub.poolGuid, 'hex').copy(out, 40, 0, 8);
  encodeBlkptr(ub.rootbp, out, 48);
  sha256(out.subarray(0, SUM_AT)).copy(out, SUM_AT);
  return out;
}

/** The uberblock in a slot, or undefined if the slot is empty, torn, or from another format. */
export function decodeUberblock(slot: Buffer, where: string): Uberblock | undefined {
  if (slot.length !== UBERBLOCK_SLOT_SIZE || !slot.subarray(0, 8).equals(MAGIC)) return undefined;
  if (!sha256(slot.subarray(0, SUM_AT)).equals(slot.subarray(SUM_AT))) return undefined;
  try {
    if (readU64(slot, 8, where) !== FORMAT_VERSION) return undefined;
    return {
      txg: readU64(slot, 16, where),
      guidSum: slot.readBigUInt64LE(24),
      timestamp: readU64(slot, 32, where),
      poolGuid: slot.subarray(40, 48).toString('hex'),
      rootbp: decodeBlkptr(slot.subarray(48, 48 + BLKPTR_SIZE), 0, where),
    };
  } catch {
    return undefined;
  }
}

/** The newest uberblock: highest txg, then latest timestamp (copies of one txg in several labels are equal). */
export function newestUberblock(candidates: Iterable<Uberblock>): Uberblock | undefined {
  let best: Uberblock | undefined;
  for (const ub of candidates) {
    if (best === undefined || ub.txg > best.txg || (ub.txg === best.txg && ub.timestamp > best.timestamp)) best = ub;
  }
  return best;
}

/** ZFS's ub_guid_sum: the vdev guids added modulo 2^64. */
export function guidSum(guids: Iterable<string>): bigint {
  let sum = 0n;
  for (const g of guids) sum = (sum + BigInt('0x' + g)) & 0xffffffffffffffffn;
  return sum;
}

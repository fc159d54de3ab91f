// The checksum algorithms a block pointer may name. The numeric ids are this format's own (ZFS's
// enum zio_checksum numbers them differently); 0 is never written, so a zeroed pointer names no algorithm.
import { ZfsError } from '../errors.js';
import { blake3 } from './blake3.js';
import { fletcher4 } from './fletcher4.js';
import { sha256 } from './sha256.js';

export { blake3 } from './blake3.js';
export { fletcher4 } from './fletcher4.js';
export { sha256 } from './sha256.js';

export type ChecksumAlgo = 'fletcher4' | 'sha256' | 'blake3';

export const CHECKSUM_IDS: Readonly<Record<ChecksumAlgo, number>> = { fletcher4: 1, sha256: 2, blake3: 3 };
const BY_ID = new Map<number, ChecksumAlgo>(
  Object.entries(CHECKSUM_IDS).map(([name, id]) => [id, name as ChecksumAlgo]),
);

export const CHECKSUM_BYTES = 32;

export function checksumOf(algo: ChecksumAlgo, data: Uint8Array): Buffer {
  if (algo === 'fletcher4') return fletcher4(data);
  return algo === 'sha256' ? sha256(data) : blake3(data);
}

export function checksumAlgoById(id: number, where: string): ChecksumAlgo {
  const algo = BY_ID.get(id);
  if (algo === undefined) throw new ZfsError('EIO', `${where}: unknown checksum algorithm id ${id}`);
  return algo;
}

/** Parses the `checksum=` property value as zfs(8) spells it; `on` means the default, fletcher4. */
export function parseChecksumProperty(value: string): ChecksumAlgo {
  if (value === 'on' || value === 'fletcher4') return 'fletcher4';
  if (value === 'sha256' || value === 'blake3') return value;
  throw new ZfsError('EINVAL', `checksum=${value}: expected on, fletcher4, sha256 or blake3`);
}

// The checksum algorithms a block pointer may name. The numeric ids are this format's own (ZFS's
// enum zio_checksum numbers them differently); 0 is never written, so a zeroed pointer names no algorithm.
import { ZfsError } from '../errors.js';
import { fletcher4 } from './fletcher4.js';
import { sha256 } from './sha256.js';

export { fletcher4 } from './fletcher4.js';
export { sha256 } from './sha256.js';

/** blake3 is selectable in ZFS too; it comes with a later slice (it needs a hash Node does not ship). */
export type ChecksumAlgo = 'fletcher4' | 'sha256';

export const CHECKSUM_IDS: Readonly<Record<ChecksumAlgo, number>> = { fletcher4: 1, sha256: 2 };
const BY_ID = new Map<number, ChecksumAlgo>(
  Object.entries(CHECKSUM_IDS).map(([name, id]) => [id, name as ChecksumAlgo]),
);

export const CHECKSUM_BYTES = 32;

export function checksumOf(algo: ChecksumAlgo, data: Uint8Array): Buffer {
  return algo === 'fletcher4' ? fletcher4(data) : sha256(data);
}

export function checksumAlgoById(id: number, where: string): ChecksumAlgo {
  const algo = BY_ID.get(id);
  if (algo === undefined) throw new ZfsError('EIO', `${where}: unknown checksum algorithm id ${id}`);
  return algo;
}

/** Parses the `checksum=` property value as zfs(8) spells it; `on` means the default, fletcher4. */
export function parseChecksumProperty(value: string): ChecksumAlgo {
  if (value === 'on' || value === 'fletcher4') return 'fletcher4';
  if (value === 'sha256') return 'sha256';
  if (value === 'blake3') throw new ZfsError('EOPNOTSUPP', `checksum=blake3 is not supported yet`);
  throw new ZfsError('EINVAL', `checksum=${value}: expected on, fletcher4 or sha256`);
}

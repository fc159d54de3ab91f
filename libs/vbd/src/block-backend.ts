// What a virtual block device is stored on: a raw image file now, a zvol later. Offsets and lengths are
// bytes, multiples of sectorSize; `sectors` counts 512-byte units whatever the sector size, as blkif's
// `sectors` key does.
import { VbdError } from './errors.js';

export type BlockSectorSize = 512 | 4096;

export interface BlockBackend {
  /** Names the disk in messages (the image path, the zvol's name). */
  readonly name: string;
  /** Bytes. */
  readonly size: number;
  /** size / 512. */
  readonly sectors: bigint;
  readonly sectorSize: BlockSectorSize;
  readonly readOnly: boolean;
  read(offset: number, length: number): Promise<Buffer>;
  /** Visible to reads at once; durable only after a later flush() completes. */
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Every write that completed before the call is durable once this resolves. */
  flush(): Promise<void>;
  /** The range reads back as zeros afterwards (a stronger promise than blkif makes). */
  discard(offset: number, length: number): Promise<void>;
  close(): Promise<void>;
}

export function isBlockSectorSize(n: number): n is BlockSectorSize {
  return n === 512 || n === 4096;
}

/** Refuses a range that is not whole sectors within the disk (EINVAL naming the disk and the range). */
export function checkRange(
  disk: Pick<BlockBackend, 'name' | 'size' | 'sectorSize'>,
  offset: number,
  length: number,
): void {
  const bad = (why: string) => new VbdError('EINVAL', `${disk.name}: ${length} bytes at ${offset}: ${why}`);
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0)
    throw bad('not a byte range');
  if (offset % disk.sectorSize !== 0 || length % disk.sectorSize !== 0)
    throw bad(`not aligned to the ${disk.sectorSize}-byte sector size`);
  if (offset + length > disk.size) throw bad(`past the end of the disk (${disk.size} bytes)`);
}

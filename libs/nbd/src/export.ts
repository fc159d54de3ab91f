// What a connection serves: a range of bytes with the operations NBD can ask of it. Offsets and lengths
// reaching an export are validated first (inside the export, aligned to blockSize.min, within size).
import { NBD_DEFAULT_MAX_PAYLOAD, NBD_FLAG } from './constants.js';
import { NbdError } from './errors.js';

/** proto.md "Size constraints": powers of two for min and preferred; max is the largest payload accepted. */
export interface NbdBlockSize {
  readonly min: number;
  readonly preferred: number;
  readonly max: number;
}

/** One run of a `base:allocation` answer: `flags` is NBD_STATE_HOLE and/or NBD_STATE_ZERO, or 0. */
export interface NbdExtent {
  readonly length: number;
  readonly flags: number;
}

export interface NbdWriteOptions {
  /** NBD_CMD_FLAG_FUA: durable before the promise resolves. */
  readonly fua: boolean;
}

export interface NbdWriteZeroesOptions extends NbdWriteOptions {
  /** NBD_CMD_FLAG_NO_HOLE: the range must end up allocated, not punched. */
  readonly noHole: boolean;
}

export interface NbdExport {
  /** Bytes; a bigint is accepted but must not exceed Number.MAX_SAFE_INTEGER. */
  readonly size: bigint | number;
  readonly readOnly: boolean;
  /** Shown by NBD_INFO_DESCRIPTION. */
  readonly description?: string;
  /** Defaults: min 1, preferred 4096, max 32 MiB. */
  readonly blockSize?: NbdBlockSize;
  /** NBD_FLAG_CAN_MULTI_CONN: a flush on one connection covers writes completed on every other one. */
  readonly canMultiConn: boolean;
  /** Exactly `length` bytes. */
  read(offset: number, length: number): Promise<Uint8Array>;
  write(offset: number, data: Uint8Array, options: NbdWriteOptions): Promise<void>;
  /** Everything whose write was acknowledged is durable once this resolves. Absent: no SEND_FLUSH/FUA. */
  flush?(): Promise<void>;
  /** A hint; the range reads as anything afterwards. Absent: no SEND_TRIM. */
  trim?(offset: number, length: number): Promise<void>;
  /** The range reads as zeroes afterwards. Absent: no SEND_WRITE_ZEROES. */
  writeZeroes?(offset: number, length: number, options: NbdWriteZeroesOptions): Promise<void>;
  /**
   * Consecutive extents from `offset`, at least one, each nonzero; they may cover less than `length`
   * (the client asks again) or more. Absent: `base:allocation` is not offered for this export.
   */
  blockStatus?(offset: number, length: number): Promise<NbdExtent[]>;
}

export const NBD_DEFAULT_BLOCK_SIZE: NbdBlockSize = { min: 1, preferred: 4096, max: NBD_DEFAULT_MAX_PAYLOAD };

const isPow2 = (n: number): boolean => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** The export's size as a number, and its block sizes checked against proto.md's rules. */
export function describeExport(name: string, exp: NbdExport): { size: number; blockSize: NbdBlockSize } {
  const size = typeof exp.size === 'bigint' ? Number(exp.size) : exp.size;
  if (!Number.isSafeInteger(size) || size < 0 || BigInt(size) !== BigInt(exp.size)) {
    throw new NbdError('EINVAL', `export '${name}': size ${exp.size} is not a byte count below 2^53`);
  }
  const bs = exp.blockSize ?? NBD_DEFAULT_BLOCK_SIZE;
  if (!isPow2(bs.min) || bs.min > 65536) {
    throw new NbdError('EINVAL', `export '${name}': minimum block size ${bs.min} is not a power of 2 up to 65536`);
  }
  if (!isPow2(bs.preferred) || bs.preferred < Math.max(bs.min, 512)) {
    throw new NbdError('EINVAL', `export '${name}': preferred block size ${bs.preferred} is invalid`);
  }
  if (!Number.isSafeInteger(bs.max) || bs.max < bs.preferred || bs.max > 0xffffffff) {
    throw new NbdError('EINVAL', `export '${name}': maximum payload ${bs.max} is below preferred or above 2^32-1`);
  }
  return { size, blockSize: bs };
}

/** Transmission flags for an export; SEND_DF only once structured replies are on. */
export function transmissionFlags(exp: NbdExport, structuredReplies: boolean): number {
  let f = NBD_FLAG.NBD_FLAG_HAS_FLAGS;
  if (exp.readOnly) f |= NBD_FLAG.NBD_FLAG_READ_ONLY;
  if (exp.flush) f |= NBD_FLAG.NBD_FLAG_SEND_FLUSH | NBD_FLAG.NBD_FLAG_SEND_FUA;
  if (exp.trim && !exp.readOnly) f |= NBD_FLAG.NBD_FLAG_SEND_TRIM;
  if (exp.writeZeroes && !exp.readOnly) f |= NBD_FLAG.NBD_FLAG_SEND_WRITE_ZEROES;
  if (structuredReplies) f |= NBD_FLAG.NBD_FLAG_SEND_DF;
  if (exp.canMultiConn) f |= NBD_FLAG.NBD_FLAG_CAN_MULTI_CONN;
  return f;
}

// Offsets, txgs and counts live in u64 fields on disk but stay JavaScript numbers in memory: every value
// this engine writes is below 2^53, and a larger one read back is corruption.
import { ZfsError } from './errors.js';

const TWO32 = 4294967296;

export function writeU64(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE((value % TWO32) >>> 0, offset);
  buf.writeUInt32LE(Math.floor(value / TWO32), offset + 4);
}

export function readU64(buf: Buffer, offset: number, where: string): number {
  const hi = buf.readUInt32LE(offset + 4);
  if (hi >= 1 << 21) throw new ZfsError('EIO', `${where}: u64 at byte ${offset} exceeds 2^53`);
  return hi * TWO32 + buf.readUInt32LE(offset);
}

export function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

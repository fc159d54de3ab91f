// SHA-256 (FIPS 180-4) from node:crypto. ZFS stores it as four big-endian u64 words, which is simply the
// 32-byte digest in order.
import { createHash } from 'node:crypto';

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

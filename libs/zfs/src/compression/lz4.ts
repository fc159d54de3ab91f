// The LZ4 block format (lz4's doc/lz4_Block_format.md), written from the format description. A block is a
// series of sequences: a token (high nibble: literal count, low nibble: match length - 4; 15 means more
// length follows in bytes of 255 ending with one below 255), the literals, a 2-byte little-endian offset
// back into the output, and the match's extra length bytes. The last sequence has literals only. Encoder
// rules the decoder of any implementation relies on: the last 5 bytes are literals, and the last match
// starts at least 12 bytes before the end.
import { ZfsError } from '../errors.js';

const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MF_LIMIT = 12;
const HASH_LOG = 12;
const MAX_OFFSET = 65535;

function read32(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

function hash(seq: number): number {
  return Math.imul(seq, 2654435761) >>> (32 - HASH_LOG);
}

/** The worst case of compress(): incompressible input grows by one length byte per 255 literals, plus a token. */
export function lz4Bound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

function writeLength(out: Uint8Array, at: number, extra: number): number {
  while (extra >= 255) {
    out[at++] = 255;
    extra -= 255;
  }
  out[at++] = extra;
  return at;
}

/**
 * Compresses `src` into one LZ4 block (greedy, one hash-table probe per position tried; after every 64
 * misses in a row the step grows by one, so incompressible input is crossed quickly, as lz4's
 * acceleration does). With `limit`, gives up (undefined) once the output would exceed it.
 */
export function lz4Compress(src: Uint8Array): Buffer;
export function lz4Compress(src: Uint8Array, limit: number): Buffer | undefined;
export function lz4Compress(src: Uint8Array, limit = Infinity): Buffer | undefined {
  const n = src.length;
  const out = Buffer.alloc(lz4Bound(n));
  let op = 0;
  let anchor = 0;
  const emit = (literalEnd: number, offset: number, matchLength: number): void => {
    const literals = literalEnd - anchor;
    const token = op++;
    out[token] = (Math.min(literals, 15) << 4) | (matchLength === 0 ? 0 : Math.min(matchLength - MIN_MATCH, 15));
    if (literals >= 15) op = writeLength(out, op, literals - 15);
    out.set(src.subarray(anchor, literalEnd), op);
    op += literals;
    if (matchLength === 0) return;
    out[op++] = offset & 0xff;
    out[op++] = offset >>> 8;
    if (matchLength - MIN_MATCH >= 15) op = writeLength(out, op, matchLength - MIN_MATCH - 15);
  };
  if (n >= MF_LIMIT + 1) {
    const table = new Int32Array(1 << HASH_LOG).fill(-1);
    const matchStartLimit = n - MF_LIMIT;
    const matchEndLimit = n - LAST_LITERALS;
    let ip = 0;
    let misses = 0;
    while (ip <= matchStartLimit) {
      const seq = read32(src, ip);
      const h = hash(seq);
      const ref = table[h];
      table[h] = ip;
      if (ref < 0 || ip - ref > MAX_OFFSET || read32(src, ref) !== seq) {
        ip += 1 + (misses++ >> 6);
        continue;
      }
      misses = 0;
      let length = MIN_MATCH;
      while (ip + length < matchEndLimit && src[ref + length] === src[ip + length]) length++;
      emit(ip, ip - ref, length);
      if (op > limit) return undefined;
      ip += length;
      anchor = ip;
    }
  }
  if (op + (n - anchor) > limit) return undefined;
  emit(n, 0, 0);
  return op > limit ? undefined : out.subarray(0, op);
}

/** Decodes one LZ4 block whose decoded size is known to be `size`; any malformation is EIO naming `where`. */
export function lz4Decompress(src: Uint8Array, size: number, where: string): Buffer {
  const out = Buffer.alloc(size);
  const bad = (why: string, at: number): ZfsError => new ZfsError('EIO', `${where}: lz4 block ${why} at byte ${at}`);
  let ip = 0;
  let op = 0;
  const readLength = (base: number): number => {
    let length = base;
    if (base !== 15) return length;
    for (;;) {
      if (ip >= src.length) throw bad('ends inside a length', ip);
      const b = src[ip++];
      length += b;
      if (b !== 255) return length;
    }
  };
  for (;;) {
    if (ip >= src.length) throw bad('ends before its last sequence', ip);
    const token = src[ip++];
    const literals = readLength(token >>> 4);
    if (ip + literals > src.length) throw bad(`has ${literals} literals past its end`, ip);
    if (op + literals > size) throw bad(`decodes past ${size} bytes`, ip);
    out.set(src.subarray(ip, ip + literals), op);
    ip += literals;
    op += literals;
    if (ip === src.length) break;
    if (ip + 2 > src.length) throw bad('ends inside an offset', ip);
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > op) throw bad(`has offset ${offset} with ${op} bytes decoded`, ip - 2);
    const length = readLength(token & 15) + MIN_MATCH;
    if (op + length > size) throw bad(`decodes past ${size} bytes`, ip);
    // Byte by byte: a match may overlap the bytes it produces (offset < length repeats a pattern).
    for (let i = 0; i < length; i++, op++) out[op] = out[op - offset];
  }
  if (op !== size) throw bad(`decodes to ${op} bytes, expected ${size}`, ip);
  return out;
}

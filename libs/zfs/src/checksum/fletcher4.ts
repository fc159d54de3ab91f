// Fletcher-4 as ZFS defines it (zio_checksum.h, fletcher_4_native): the input is read as 32-bit words in
// native (here little-endian) order, and four 64-bit accumulators run a += w, b += a, c += b, d += c,
// each wrapping modulo 2^64. The checksum is a, b, c, d as four little-endian u64s.
//
// JavaScript numbers are exact only to 2^53, so each accumulator is kept as two uint32 halves.
import { ZfsError } from '../errors.js';

const TWO32 = 4294967296;
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function wordsOf(data: Uint8Array): Uint32Array {
  if (HOST_LITTLE_ENDIAN && data.byteOffset % 4 === 0) {
    return new Uint32Array(data.buffer, data.byteOffset, data.length / 4);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  const words = new Uint32Array(data.length / 4);
  for (let i = 0; i < words.length; i++) words[i] = view.getUint32(i * 4, true);
  return words;
}

export function fletcher4(data: Uint8Array): Buffer {
  if (data.length % 4 !== 0) {
    throw new ZfsError('EINVAL', `fletcher4: input of ${data.length} bytes is not a whole number of 32-bit words`);
  }
  let a0 = 0;
  let a1 = 0;
  let b0 = 0;
  let b1 = 0;
  let c0 = 0;
  let c1 = 0;
  let d0 = 0;
  let d1 = 0;
  const words = wordsOf(data);
  for (let i = 0; i < words.length; i++) {
    a0 += words[i];
    if (a0 >= TWO32) {
      a0 -= TWO32;
      a1 = (a1 + 1) >>> 0;
    }
    b0 += a0;
    b1 += a1;
    if (b0 >= TWO32) {
      b0 -= TWO32;
      b1 += 1;
    }
    b1 >>>= 0;
    c0 += b0;
    c1 += b1;
    if (c0 >= TWO32) {
      c0 -= TWO32;
      c1 += 1;
    }
    c1 >>>= 0;
    d0 += c0;
    d1 += c1;
    if (d0 >= TWO32) {
      d0 -= TWO32;
      d1 += 1;
    }
    d1 >>>= 0;
  }
  const out = Buffer.alloc(32);
  out.writeUInt32LE(a0, 0);
  out.writeUInt32LE(a1, 4);
  out.writeUInt32LE(b0, 8);
  out.writeUInt32LE(b1, 12);
  out.writeUInt32LE(c0, 16);
  out.writeUInt32LE(c1, 20);
  out.writeUInt32LE(d0, 24);
  out.writeUInt32LE(d1, 28);
  return out;
}

// Range checks for the integer fields the codecs write, so a caller's mistake is named instead of
// silently truncated by the DataView setters.
import { NetifError } from './errors.js';

function check(value: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new NetifError('EINVAL', `${what}: ${value} is outside ${min}..${max}`);
  }
}

export const checkU8 = (v: number, what: string): void => check(v, 0, 0xff, what);
export const checkU16 = (v: number, what: string): void => check(v, 0, 0xffff, what);
export const checkI16 = (v: number, what: string): void => check(v, -0x8000, 0x7fff, what);
export const checkU32 = (v: number, what: string): void => check(v, 0, 0xffffffff, what);

/** Refuses a slot shorter than the struct about to be read from it. */
export function checkLength(bytes: Uint8Array, size: number, what: string): DataView {
  if (bytes.length < size) throw new NetifError('EPROTO', `${what}: ${bytes.length} bytes, need ${size}`);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

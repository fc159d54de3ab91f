// RING_IDX arithmetic (io/ring.h): indices are free-running u32 values that wrap modulo 2^32, so every
// distance between two of them is taken modulo 2^32 too; a slot is the index masked with size-1.
import { RingError } from './errors.js';

export const RING_IDX_MODULUS = 2 ** 32;

export function isRingIdx(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < RING_IDX_MODULUS;
}

export function checkRingIdx(n: unknown, what: string): number {
  if (!isRingIdx(n)) throw new RingError('EINVAL', `${what}: ${String(n)} is not a u32 ring index`);
  return n;
}

/** a + n modulo 2^32. */
export function idxAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** a - b modulo 2^32: how far a is ahead of b. */
export function idxDiff(a: number, b: number): number {
  return (a - b) >>> 0;
}

/** The slot an index lands in; size is a power of two. */
export function ringSlot(idx: number, size: number): number {
  return (idx & (size - 1)) >>> 0;
}

/**
 * RING_PUSH_*_AND_CHECK_NOTIFY: after moving the producer index from `oldProd` to `newProd`, the peer
 * wants an event iff its event index lies in the newly produced range, `(new - event) < (new - old)`.
 */
export function pushNeedsNotify(newProd: number, oldProd: number, event: number): boolean {
  return idxDiff(newProd, event) < idxDiff(newProd, oldProd);
}

/**
 * RING_REQUEST_PROD_OVERFLOW / RING_RESPONSE_PROD_OVERFLOW: a peer's producer index more than `size`
 * ahead of what this side has retired means the peer filled more slots than the ring has.
 */
export function prodOverflow(prod: number, pvt: number, size: number): boolean {
  return idxDiff(prod, pvt) > size;
}

// Ring geometry as io/ring.h computes it (__RING_SIZE): the entries that fit after the 64-byte sring
// header, rounded down to a power of two so that a slot is an index masked with size-1.
import { XEN_PAGE_SIZE } from '@dominion/abi';
import { RingError } from './errors.js';

/** req_prod, req_event, rsp_prod, rsp_event, pvt and padding precede ring[] in the shared page. */
export const SRING_HEADER_SIZE = 64;

/** Number of slots of a ring of `pages` 4 KiB pages whose entry (request/response union) is `entrySize` bytes. */
export function ringSize(pages: number, entrySize: number): number {
  if (!Number.isSafeInteger(pages) || pages < 1)
    throw new RingError('EINVAL', `ring pages: ${pages} is not a positive page count`);
  if (!Number.isSafeInteger(entrySize) || entrySize < 1) {
    throw new RingError('EINVAL', `ring entry size: ${entrySize} is not a positive byte count`);
  }
  const fit = Math.floor((pages * XEN_PAGE_SIZE - SRING_HEADER_SIZE) / entrySize);
  if (fit < 1) throw new RingError('EINVAL', `ring of ${pages} page(s) has no room for a ${entrySize}-byte entry`);
  let size = 1;
  while (size * 2 <= fit) size *= 2;
  return size;
}

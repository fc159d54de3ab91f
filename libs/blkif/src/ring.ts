// blkif on libs/ring: the ring entry is sizeof(blkif_request) for the ABI, so one page holds 32 slots.
import { ringSize, type RingIds } from '@dominion/ring';
import { XEN_IO_PROTO_ABI_NATIVE, type BlkifProtocol } from './constants.js';
import { blkifLayout } from './layout.js';
import type { BlkifRequest } from './request.js';
import type { BlkifResponse } from './response.js';

/** RING_SIZE of a blkif ring of `pages` pages (2^ring-page-order). */
export function blkifRingSize(pages = 1, protocol: BlkifProtocol = XEN_IO_PROTO_ABI_NATIVE): number {
  return ringSize(pages, blkifLayout(protocol).requestSize);
}

/** How a ring finds the echoed id in blkif requests and responses. */
export const BLKIF_RING_IDS: RingIds<BlkifRequest, BlkifResponse> = {
  requestId: (r) => r.id,
  responseId: (r) => r.id,
};

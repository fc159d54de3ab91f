// blkif on libs/ring: the ring entry is sizeof(blkif_request) for the ABI, so one page holds 32 slots.
import { ringSize, type RingIds } from '@dominion/ring';
import { XEN_IO_PROTO_ABI_NATIVE, type BlkifProtocol } from './constants.js';
import { blkifLayout } from './layout.js';
import { decodeRequest, encodeRequest, type BlkifRequest } from './request.js';
import { decodeResponse, encodeResponse, type BlkifResponse } from './response.js';

/** RING_SIZE of a blkif ring of `pages` pages (2^ring-page-order). */
export function blkifRingSize(pages = 1, protocol: BlkifProtocol = XEN_IO_PROTO_ABI_NATIVE): number {
  return ringSize(pages, blkifLayout(protocol).requestSize);
}

/** How a ring finds the echoed id in blkif requests and responses. */
export const BLKIF_RING_IDS: RingIds<BlkifRequest, BlkifResponse> = {
  requestId: (r) => r.id,
  responseId: (r) => r.id,
};

/**
 * blkif entries as a ring stream carries them (the shape libs/ringstream's RingCodec asks for): the request
 * and response structs of the ABI the frontend named in its `protocol` node.
 */
export function blkifRingCodec(protocol: BlkifProtocol = XEN_IO_PROTO_ABI_NATIVE) {
  return {
    protocol,
    ...BLKIF_RING_IDS,
    encodeRequest: (r: BlkifRequest): Uint8Array => encodeRequest(r, protocol),
    decodeRequest: (b: Uint8Array): BlkifRequest => decodeRequest(b, protocol),
    encodeResponse: (r: BlkifResponse): Uint8Array => encodeResponse(r, protocol),
    decodeResponse: (b: Uint8Array): BlkifResponse => decodeResponse(b, protocol),
  };
}

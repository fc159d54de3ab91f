// netif entries as a ring stream carries them (libs/ringstream's RingCodec). Xen's netif rings are slot
// rings where not every slot is answered by id: a tx extra-info slot is answered NETIF_RSP_NULL in place,
// and an rx response goes in its request's slot (xen-facts §3). On a stream, where responses are matched by
// id, a tx entry is therefore one packet: its request and extra-info slots (12 bytes each, as the frontend
// wrote them), answered by one entry of 12-byte response slots, one per slot; its echoed id is its first
// request's. Netfront draws every slot's id from the ring's 256, so no more slots are in flight than the
// ring has. An rx entry is one rx request (8 bytes) answered by one rx response (8 bytes).
import { NETIF_TX_SLOT_SIZE } from './ring.js';
import { NetifError } from './errors.js';
import {
  decodeRxRequest,
  decodeRxResponse,
  encodeRxRequest,
  encodeRxResponse,
  type NetifRxRequest,
  type NetifRxResponse,
} from './rx.js';
import { decodeTxResponse, encodeTxResponse, type NetifTxResponse } from './tx.js';

/** The `protocol` a netif ring stream names in its Hello (the slot layouts are x86's). */
export const NETIF_RING_PROTOCOL = 'x86_64-abi';

/** One tx packet: the raw 12-byte slots of its requests and extra-infos, in ring order. */
export interface NetifTxEntry {
  /** The first request's id. */
  id: number;
  slots: Uint8Array[];
}

/** The responses to a tx packet's slots, in slot order (NETIF_RSP_NULL for an extra-info). */
export interface NetifTxEntryResponse {
  id: number;
  responses: NetifTxResponse[];
}

function slotsOf(bytes: Uint8Array, what: string): Uint8Array[] {
  if (bytes.length === 0 || bytes.length % NETIF_TX_SLOT_SIZE !== 0) {
    throw new NetifError('EPROTO', `${what} of ${bytes.length} bytes is not whole ${NETIF_TX_SLOT_SIZE}-byte slots`);
  }
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += NETIF_TX_SLOT_SIZE) out.push(bytes.subarray(at, at + NETIF_TX_SLOT_SIZE));
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

export const netifTxRingCodec = {
  protocol: NETIF_RING_PROTOCOL,
  requestId: (r: NetifTxEntry): number => r.id,
  responseId: (r: NetifTxEntryResponse): number => r.id,
  encodeRequest: (r: NetifTxEntry): Uint8Array => concat(r.slots),
  decodeRequest: (b: Uint8Array): NetifTxEntry => {
    const slots = slotsOf(b, 'tx packet entry');
    // The id of the netif_tx_request in the first slot (u16 at 8).
    return { id: slots[0][8] | (slots[0][9] << 8), slots };
  },
  encodeResponse: (r: NetifTxEntryResponse): Uint8Array => concat(r.responses.map(encodeTxResponse)),
  decodeResponse: (b: Uint8Array): NetifTxEntryResponse => {
    const responses = slotsOf(b, 'tx response entry').map(decodeTxResponse);
    return { id: responses[0].id, responses };
  },
};

export const netifRxRingCodec = {
  protocol: NETIF_RING_PROTOCOL,
  requestId: (r: NetifRxRequest): number => r.id,
  responseId: (r: NetifRxResponse): number => r.id,
  encodeRequest: (r: NetifRxRequest): Uint8Array => encodeRxRequest(r),
  decodeRequest: (b: Uint8Array): NetifRxRequest => decodeRxRequest(b),
  encodeResponse: (r: NetifRxResponse): Uint8Array => encodeRxResponse(r),
  decodeResponse: (b: Uint8Array): NetifRxResponse => decodeRxResponse(b),
};

/**
 * The `queue` a netif ring stream names in its Hello: 2q for queue q's tx ring, 2q+1 for its rx ring, so
 * that the two rings of a queue are two streams to libs/ringstream (which keys streams by queue).
 */
export function netifRingIndex(queue: number, ring: 'tx' | 'rx'): number {
  return queue * 2 + (ring === 'rx' ? 1 : 0);
}

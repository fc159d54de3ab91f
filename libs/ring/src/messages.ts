// What travels on a ring's stream (ARCHITECTURE §2). A message is one notification: the batch a producer
// pushed before kicking its peer, carrying its producer index as Xen's shared page would show it. Payload
// pages travel inline as grant copies: a request carries the bytes the backend may copy from the
// frontend's grants, a response carries the bytes it copies into them.
import type { GrantRef } from '@dominion/abi';

/** Opaque request id, echoed by the response (blkif: u64, so bigint; netif: u16). */
export type RingId = number | bigint;

/** `length` bytes copied from or into grant `ref` at `offset`. */
export interface GrantCopy {
  ref: GrantRef;
  offset: number;
  data: Uint8Array;
}

export interface RingRequest<Req> {
  req: Req;
  /** Copies out of the frontend's grants for this request (the bytes of a write). */
  copies: GrantCopy[];
}

export interface RingResponse<Rsp> {
  rsp: Rsp;
  /** Copies into the frontend's grants for this request (the bytes of a read). */
  copies: GrantCopy[];
}

/** Frontend to backend: requests up to req_prod. */
export interface RequestBatch<Req> {
  reqProd: number;
  requests: RingRequest<Req>[];
}

/** Backend to frontend: responses up to rsp_prod. */
export interface ResponseBatch<Rsp> {
  rspProd: number;
  responses: RingResponse<Rsp>[];
}

/** How a ring reads the echoed id out of the protocol's own request and response types. */
export interface RingIds<Req, Rsp> {
  requestId(req: Req): RingId;
  responseId(rsp: Rsp): RingId;
}

/** Map key of an id: 7 and 7n are the same request. */
export function idKey(id: unknown): bigint | undefined {
  if (typeof id === 'bigint') return id >= 0n ? id : undefined;
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return BigInt(id);
  return undefined;
}

// struct netif_rx_request / netif_rx_response (x86 layout, little-endian), both 8 bytes.
import { checkI16, checkLength, checkU16, checkU32 } from './fields.js';
import { NETIF_RX_SLOT_SIZE } from './ring.js';

/** An empty buffer page the frontend granted for one received fragment. */
export interface NetifRxRequest {
  id: number;
  gref: number;
}

export interface NetifRxResponse {
  id: number;
  offset: number;
  /** NETRXF_* mask. */
  flags: number;
  /** Bytes received into this buffer (>= 0), or NETIF_RSP_* (< 0). */
  status: number;
}

export function encodeRxRequest(req: NetifRxRequest): Buffer {
  checkU16(req.id, 'rx request id');
  checkU32(req.gref, `rx request ${req.id} gref`);
  const out = Buffer.alloc(NETIF_RX_SLOT_SIZE);
  out.writeUInt16LE(req.id, 0);
  out.writeUInt32LE(req.gref, 4);
  return out;
}

export function decodeRxRequest(bytes: Uint8Array): NetifRxRequest {
  const v = checkLength(bytes, NETIF_RX_SLOT_SIZE, 'rx request');
  return { id: v.getUint16(0, true), gref: v.getUint32(4, true) };
}

export function encodeRxResponse(rsp: NetifRxResponse): Buffer {
  checkU16(rsp.id, 'rx response id');
  checkU16(rsp.offset, `rx response ${rsp.id} offset`);
  checkU16(rsp.flags, `rx response ${rsp.id} flags`);
  checkI16(rsp.status, `rx response ${rsp.id} status`);
  const out = Buffer.alloc(NETIF_RX_SLOT_SIZE);
  out.writeUInt16LE(rsp.id, 0);
  out.writeUInt16LE(rsp.offset, 2);
  out.writeUInt16LE(rsp.flags, 4);
  out.writeInt16LE(rsp.status, 6);
  return out;
}

export function decodeRxResponse(bytes: Uint8Array): NetifRxResponse {
  const v = checkLength(bytes, NETIF_RX_SLOT_SIZE, 'rx response');
  return {
    id: v.getUint16(0, true),
    offset: v.getUint16(2, true),
    flags: v.getUint16(4, true),
    status: v.getInt16(6, true),
  };
}

// struct netif_tx_request / netif_tx_response (x86 layout, little-endian). The tx slot is 12 bytes; a
// response uses only its first 4.
import { checkI16, checkLength, checkU16, checkU32 } from './fields.js';
import { NETIF_TX_SLOT_SIZE } from './ring.js';

export interface NetifTxRequest {
  gref: number;
  offset: number;
  /** NETTXF_* mask. */
  flags: number;
  id: number;
  /** Total packet size in the first request; the fragment's own size in the others. */
  size: number;
}

export interface NetifTxResponse {
  id: number;
  /** NETIF_RSP_*. */
  status: number;
}

export function encodeTxRequest(req: NetifTxRequest): Buffer {
  checkU32(req.gref, 'tx request gref');
  checkU16(req.offset, `tx request ${req.id} offset`);
  checkU16(req.flags, `tx request ${req.id} flags`);
  checkU16(req.id, 'tx request id');
  checkU16(req.size, `tx request ${req.id} size`);
  const out = Buffer.alloc(NETIF_TX_SLOT_SIZE);
  out.writeUInt32LE(req.gref, 0);
  out.writeUInt16LE(req.offset, 4);
  out.writeUInt16LE(req.flags, 6);
  out.writeUInt16LE(req.id, 8);
  out.writeUInt16LE(req.size, 10);
  return out;
}

export function decodeTxRequest(bytes: Uint8Array): NetifTxRequest {
  const v = checkLength(bytes, NETIF_TX_SLOT_SIZE, 'tx request');
  return {
    gref: v.getUint32(0, true),
    offset: v.getUint16(4, true),
    flags: v.getUint16(6, true),
    id: v.getUint16(8, true),
    size: v.getUint16(10, true),
  };
}

/** A full 12-byte slot: id, status, then 8 unused zero bytes. */
export function encodeTxResponse(rsp: NetifTxResponse): Buffer {
  checkU16(rsp.id, 'tx response id');
  checkI16(rsp.status, `tx response ${rsp.id} status`);
  const out = Buffer.alloc(NETIF_TX_SLOT_SIZE);
  out.writeUInt16LE(rsp.id, 0);
  out.writeInt16LE(rsp.status, 2);
  return out;
}

export function decodeTxResponse(bytes: Uint8Array): NetifTxResponse {
  const v = checkLength(bytes, 4, 'tx response');
  return { id: v.getUint16(0, true), status: v.getInt16(2, true) };
}

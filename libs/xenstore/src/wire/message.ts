// struct xsd_sockmsg (io/xs_wire.h): a 16-byte header {type, req_id, tx_id, len}, all u32 little-endian,
// then `len` payload bytes. The same framing runs in both directions, on the socket and on the ring.
import { XENSTORE_PAYLOAD_MAX, XS, XSD_SOCKMSG_SIZE, xsTypeName, type XsdError } from '@dominion/abi';
import { XenstoreError } from '../errors.js';

export interface XsMessage {
  type: number;
  reqId: number;
  txId: number;
  payload: Buffer;
}

export interface XsHeader {
  type: number;
  reqId: number;
  txId: number;
  len: number;
}

function checkU32(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new XenstoreError('EINVAL', `xsd_sockmsg ${what} ${n} is not a u32`);
  }
}

/** The header and payload as one buffer. Refuses (E2BIG) what xenstored would kill the connection for. */
export function encodeXsMessage(m: XsMessage): Buffer {
  checkU32('type', m.type);
  checkU32('req_id', m.reqId);
  checkU32('tx_id', m.txId);
  if (m.payload.length > XENSTORE_PAYLOAD_MAX) {
    throw new XenstoreError(
      'E2BIG',
      `${xsTypeName(m.type)} req_id ${m.reqId}: payload of ${m.payload.length} bytes exceeds XENSTORE_PAYLOAD_MAX ${XENSTORE_PAYLOAD_MAX}`,
    );
  }
  const out = Buffer.allocUnsafe(XSD_SOCKMSG_SIZE + m.payload.length);
  out.writeUInt32LE(m.type, 0);
  out.writeUInt32LE(m.reqId, 4);
  out.writeUInt32LE(m.txId, 8);
  out.writeUInt32LE(m.payload.length, 12);
  m.payload.copy(out, XSD_SOCKMSG_SIZE);
  return out;
}

/** A Buffer view of bytes that may arrive as a plain Uint8Array (a NATS message's data); no copy. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads the 16-byte header at `offset`; does not judge `len` (the parser does). */
export function decodeXsHeader(bytes: Uint8Array, offset = 0): XsHeader {
  const buf = asBuffer(bytes);
  if (!Number.isInteger(offset) || offset < 0 || buf.length - offset < XSD_SOCKMSG_SIZE) {
    throw new XenstoreError(
      'EPROTO',
      `xsd_sockmsg header needs ${XSD_SOCKMSG_SIZE} bytes at offset ${offset}, buffer has ${buf.length}`,
    );
  }
  return {
    type: buf.readUInt32LE(offset),
    reqId: buf.readUInt32LE(offset + 4),
    txId: buf.readUInt32LE(offset + 8),
    len: buf.readUInt32LE(offset + 12),
  };
}

/** Exactly one whole message (a datagram-like transport); trailing or missing bytes are EPROTO. */
export function decodeXsMessage(bytes: Uint8Array): XsMessage {
  const buf = asBuffer(bytes);
  const h = decodeXsHeader(buf);
  if (h.len > XENSTORE_PAYLOAD_MAX) {
    throw new XenstoreError(
      'E2BIG',
      `${xsTypeName(h.type)} req_id ${h.reqId}: len ${h.len} exceeds XENSTORE_PAYLOAD_MAX ${XENSTORE_PAYLOAD_MAX}`,
    );
  }
  if (buf.length !== XSD_SOCKMSG_SIZE + h.len) {
    throw new XenstoreError(
      'EPROTO',
      `${xsTypeName(h.type)} req_id ${h.reqId}: header len ${h.len} but ${buf.length - XSD_SOCKMSG_SIZE} payload bytes`,
    );
  }
  return { type: h.type, reqId: h.reqId, txId: h.txId, payload: Buffer.from(buf.subarray(XSD_SOCKMSG_SIZE)) };
}

// Server-side replies. A reply copies the request's type, req_id and tx_id; an error keeps req_id and tx_id.

const OK = Buffer.from('OK\0', 'latin1');

export function xsReply(req: XsMessage, payload: Buffer | string): XsMessage {
  return {
    type: req.type,
    reqId: req.reqId,
    txId: req.txId,
    payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload,
  };
}

/** `OK\0`, the reply of every request with no data to return. */
export function xsOkReply(req: XsMessage): XsMessage {
  return xsReply(req, Buffer.from(OK));
}

/** type XS_ERROR, payload the errno name and a NUL (`ENOENT\0`). */
export function xsErrorReply(req: XsMessage, error: XsdError): XsMessage {
  return { type: XS.XS_ERROR, reqId: req.reqId, txId: req.txId, payload: Buffer.from(`${error}\0`, 'latin1') };
}

/** An unsolicited XS_WATCH_EVENT: req_id = tx_id = 0, payload `epath\0token\0`. */
export function xsWatchEvent(path: string, token: string): XsMessage {
  if (path.includes('\0') || token.includes('\0')) {
    throw new XenstoreError('EINVAL', `watch event path ${JSON.stringify(path)} or token contains a NUL`);
  }
  return { type: XS.XS_WATCH_EVENT, reqId: 0, txId: 0, payload: Buffer.from(`${path}\0${token}\0`, 'utf8') };
}

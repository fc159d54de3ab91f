// struct blkif_response: id u64 @0, operation u8 @8, status i16 @10; 16 bytes on x86_64 and Arm, 12 on x86_32.
import { BLKIF_RSP, XEN_IO_PROTO_ABI_NATIVE, type BlkifProtocol } from './constants.js';
import { BlkifError } from './errors.js';
import { blkifLayout } from './layout.js';
import { u64, uint } from './request.js';

export interface BlkifResponse {
  /** Copied from the request. */
  id: bigint;
  /** Copied from the request. */
  operation: number;
  /** BLKIF_RSP_*. */
  status: number;
}

export function encodeResponse(rsp: BlkifResponse, protocol: BlkifProtocol = XEN_IO_PROTO_ABI_NATIVE): Buffer {
  const out = Buffer.alloc(blkifLayout(protocol).responseSize);
  const where = `response id ${String(rsp.id)}`;
  out.writeBigUInt64LE(u64(rsp.id, `${where}: id`), 0);
  out.writeUInt8(uint(rsp.operation, 8, `${where}: operation`), 8);
  if (!Number.isInteger(rsp.status) || rsp.status < -0x8000 || rsp.status > 0x7fff) {
    throw new BlkifError('EINVAL', `${where}: status ${rsp.status} is not an i16`);
  }
  out.writeInt16LE(rsp.status, 10);
  return out;
}

export function decodeResponse(buf: Uint8Array, protocol: BlkifProtocol = XEN_IO_PROTO_ABI_NATIVE): BlkifResponse {
  const size = blkifLayout(protocol).responseSize;
  if (buf.length < size)
    throw new BlkifError('EPROTO', `blkif response of ${buf.length} bytes, ${protocol} needs ${size}`);
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return { id: b.readBigUInt64LE(0), operation: b.readUInt8(8), status: b.readInt16LE(10) };
}

/** The response a backend gives a request it refuses or completes. */
export function blkifResponse(
  req: { id: bigint; operation: number },
  status: number = BLKIF_RSP.BLKIF_RSP_OKAY,
): BlkifResponse {
  return { id: req.id, operation: req.operation, status };
}

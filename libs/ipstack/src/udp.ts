// UDP (RFC 768): source port u16 @0, destination port u16 @2, length u16 @4 (header + data), checksum u16 @6
// over the pseudo-header (source, destination, zero, protocol 17, UDP length) and the datagram. A received
// checksum of 0 means none was computed; a computed 0 is sent as 0xffff.
import { internetChecksum, onesSum, pseudoHeaderSum } from './checksum.js';
import { IPPROTO_UDP } from './ipv4.js';

export const UDP_HLEN = 8;

export interface UdpDatagramFields {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

export type UdpParse = UdpDatagramFields | 'bad-length' | 'bad-checksum';

/** `verify` false skips the checksum (a frame netback marked data_validated or csum_blank). */
export function parseUdp(bytes: Uint8Array, src: number, dst: number, verify: boolean): UdpParse {
  if (bytes.length < UDP_HLEN) return 'bad-length';
  const length = (bytes[4] << 8) | bytes[5];
  if (length < UDP_HLEN || length > bytes.length) return 'bad-length';
  const datagram = bytes.subarray(0, length);
  const checksum = (bytes[6] << 8) | bytes[7];
  if (verify && checksum !== 0 && onesSum(datagram, pseudoHeaderSum(src, dst, IPPROTO_UDP, length)) !== 0xffff)
    return 'bad-checksum';
  return {
    srcPort: (bytes[0] << 8) | bytes[1],
    dstPort: (bytes[2] << 8) | bytes[3],
    payload: datagram.subarray(UDP_HLEN),
  };
}

export function buildUdp(src: number, dst: number, d: UdpDatagramFields): Buffer {
  const b = Buffer.alloc(UDP_HLEN + d.payload.length);
  b.writeUInt16BE(d.srcPort, 0);
  b.writeUInt16BE(d.dstPort, 2);
  b.writeUInt16BE(b.length, 4);
  b.set(d.payload, UDP_HLEN);
  const sum = internetChecksum(b, pseudoHeaderSum(src, dst, IPPROTO_UDP, b.length));
  b.writeUInt16BE(sum === 0 ? 0xffff : sum, 6);
  return b;
}

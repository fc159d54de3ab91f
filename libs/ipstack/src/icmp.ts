// ICMP (RFC 792): type u8 @0, code u8 @1, checksum u16 @2 over the whole message; echo and echo reply add
// identifier u16 @4, sequence number u16 @6, then data. Destination unreachable: unused u32 @4, then the
// offending IP header and the first 8 bytes of its data.
import { internetChecksum, onesSum } from './checksum.js';

export const ICMP_ECHOREPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_ECHO = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_HOST_UNREACH = 1;
export const ICMP_PROT_UNREACH = 2;
export const ICMP_PORT_UNREACH = 3;
export const ICMP_HLEN = 8;

export interface IcmpMessage {
  type: number;
  code: number;
  /** Bytes 4..8: identifier and sequence for echo, unused for errors. */
  rest: number;
  data: Uint8Array;
}

export type IcmpParse = IcmpMessage | 'runt' | 'bad-checksum';

export function parseIcmp(bytes: Uint8Array): IcmpParse {
  if (bytes.length < ICMP_HLEN) return 'runt';
  if (onesSum(bytes) !== 0xffff) return 'bad-checksum';
  return {
    type: bytes[0],
    code: bytes[1],
    rest: ((bytes[4] << 24) | (bytes[5] << 16) | (bytes[6] << 8) | bytes[7]) >>> 0,
    data: bytes.subarray(ICMP_HLEN),
  };
}

export function buildIcmp(m: IcmpMessage): Buffer {
  const b = Buffer.alloc(ICMP_HLEN + m.data.length);
  b[0] = m.type;
  b[1] = m.code;
  b.writeUInt32BE(m.rest >>> 0, 4);
  b.set(m.data, ICMP_HLEN);
  b.writeUInt16BE(internetChecksum(b), 2);
  return b;
}

export function echoRest(id: number, seq: number): number {
  return ((id << 16) | seq) >>> 0;
}

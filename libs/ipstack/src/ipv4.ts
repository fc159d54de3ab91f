// The IPv4 header (RFC 791): version/ihl u8 @0, tos u8 @1, total length u16 @2, identification u16 @4,
// flags(3 bits)/fragment offset(13 bits, 8-byte units) u16 @6, ttl u8 @8, protocol u8 @9, header checksum
// u16 @10, source @12, destination @16, options to ihl*4. Big-endian throughout.
import { ipv4At, putIpv4 } from './addr.js';
import { internetChecksum, onesSum } from './checksum.js';

export const IPV4_HLEN = 20;
export const IPV4_MAX_LEN = 0xffff;
export const IP_DF = 0x4000;
export const IP_MF = 0x2000;
export const IP_OFFMASK = 0x1fff;
export const IPPROTO_ICMP = 1;
export const IPPROTO_UDP = 17;
/** Linux's net.ipv4.ip_default_ttl. */
export const IPDEFTTL = 64;

export interface Ipv4Header {
  ihl: number;
  tos: number;
  totalLength: number;
  id: number;
  df: boolean;
  mf: boolean;
  /** Fragment offset in bytes. */
  fragOffset: number;
  ttl: number;
  protocol: number;
  src: number;
  dst: number;
}

export type Ipv4Parse =
  { header: Ipv4Header; payload: Uint8Array } | { error: 'truncated' | 'bad-header' | 'bad-checksum' };

/** Checks a received IPv4 packet (RFC 1122 §3.2.1): version, lengths, header checksum. The payload is cut
 * to the total length, dropping any Ethernet padding. */
export function parseIpv4Packet(bytes: Uint8Array): Ipv4Parse {
  if (bytes.length < IPV4_HLEN) return { error: 'truncated' };
  const ihl = (bytes[0] & 0x0f) * 4;
  const totalLength = (bytes[2] << 8) | bytes[3];
  if (bytes[0] >> 4 !== 4 || ihl < IPV4_HLEN || totalLength < ihl) return { error: 'bad-header' };
  if (bytes.length < totalLength) return { error: 'truncated' };
  if (onesSum(bytes.subarray(0, ihl)) !== 0xffff) return { error: 'bad-checksum' };
  const frag = (bytes[6] << 8) | bytes[7];
  return {
    header: {
      ihl,
      tos: bytes[1],
      totalLength,
      id: (bytes[4] << 8) | bytes[5],
      df: (frag & IP_DF) !== 0,
      mf: (frag & IP_MF) !== 0,
      fragOffset: (frag & IP_OFFMASK) * 8,
      ttl: bytes[8],
      protocol: bytes[9],
      src: ipv4At(bytes, 12),
      dst: ipv4At(bytes, 16),
    },
    payload: bytes.subarray(ihl, totalLength),
  };
}

export interface Ipv4Out {
  id: number;
  df: boolean;
  mf: boolean;
  fragOffset: number;
  ttl: number;
  protocol: number;
  src: number;
  dst: number;
  tos?: number;
}

/** A 20-byte header (no options) with its checksum, followed by `payload`. */
export function buildIpv4Packet(h: Ipv4Out, payload: Uint8Array): Buffer {
  const b = Buffer.alloc(IPV4_HLEN + payload.length);
  b[0] = 0x45;
  b[1] = h.tos ?? 0;
  b.writeUInt16BE(b.length, 2);
  b.writeUInt16BE(h.id, 4);
  b.writeUInt16BE((h.df ? IP_DF : 0) | (h.mf ? IP_MF : 0) | (h.fragOffset / 8), 6);
  b[8] = h.ttl;
  b[9] = h.protocol;
  putIpv4(b, 12, h.src);
  putIpv4(b, 16, h.dst);
  b.writeUInt16BE(internetChecksum(b.subarray(0, IPV4_HLEN)), 10);
  b.set(payload, IPV4_HLEN);
  return b;
}

/** The packets carrying `payload` within `mtu`: one with DF set when it fits, else fragments without DF
 * whose data (but the last's) is a multiple of 8 bytes. */
export function fragmentIpv4(h: Omit<Ipv4Out, 'df' | 'mf' | 'fragOffset'>, payload: Uint8Array, mtu: number): Buffer[] {
  if (IPV4_HLEN + payload.length <= mtu)
    return [buildIpv4Packet({ ...h, df: true, mf: false, fragOffset: 0 }, payload)];
  const per = Math.floor((mtu - IPV4_HLEN) / 8) * 8;
  const out: Buffer[] = [];
  for (let off = 0; off < payload.length; off += per) {
    const end = Math.min(payload.length, off + per);
    out.push(
      buildIpv4Packet({ ...h, df: false, mf: end < payload.length, fragOffset: off }, payload.subarray(off, end)),
    );
  }
  return out;
}

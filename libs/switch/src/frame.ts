// Just enough of Ethernet II, 802.1Q, ARP and IPv4 for switching and anti-spoofing. Parsing never throws:
// a frame too short for the header being read comes back as 'runt'.
import { ipv4At, macAt } from './addr.js';

export const ETH_HLEN = 14;
export const VLAN_HLEN = 4;
export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_8021Q = 0x8100;
const IPV4_MIN_HLEN = 20;
const ARP_IPV4_LEN = 28;
const IPPROTO_UDP = 17;

export interface EthHeader {
  dst: string;
  src: string;
  /** The 802.1Q VLAN id, when tagged (0 for a priority tag). */
  vid?: number;
  /** The inner EtherType (after any tag). */
  etherType: number;
  /** Offset of the payload after the Ethernet (and tag) header. */
  payload: number;
}

export function parseEth(frame: Uint8Array): EthHeader | 'runt' {
  if (frame.length < ETH_HLEN) return 'runt';
  const dst = macAt(frame, 0);
  const src = macAt(frame, 6);
  const type = (frame[12] << 8) | frame[13];
  if (type !== ETH_P_8021Q) return { dst, src, etherType: type, payload: ETH_HLEN };
  if (frame.length < ETH_HLEN + VLAN_HLEN) return 'runt';
  const vid = ((frame[14] << 8) | frame[15]) & 0x0fff;
  return { dst, src, vid, etherType: (frame[16] << 8) | frame[17], payload: ETH_HLEN + VLAN_HLEN };
}

export interface L3Source {
  /** IPv4 source or ARP sender protocol address. */
  ip: string;
  /** A host with no address yet: a DHCP client's 0.0.0.0 UDP 68 -> 67 (which vif-common lets through) or
   * an ARP probe from 0.0.0.0 (RFC 5227). */
  unconfigured: boolean;
}

/** The source IPv4 address claimed by an IPv4 or ARP frame; undefined for other EtherTypes. */
export function l3Source(frame: Uint8Array, eth: EthHeader): L3Source | 'runt' | undefined {
  const p = eth.payload;
  if (eth.etherType === ETH_P_ARP) {
    if (frame.length < p + ARP_IPV4_LEN) return 'runt';
    const ip = ipv4At(frame, p + 14);
    return { ip, unconfigured: ip === '0.0.0.0' };
  }
  if (eth.etherType !== ETH_P_IP) return undefined;
  if (frame.length < p + IPV4_MIN_HLEN) return 'runt';
  const ihl = (frame[p] & 0x0f) * 4;
  const ip = ipv4At(frame, p + 12);
  let unconfigured = false;
  if (ip === '0.0.0.0' && frame[p + 9] === IPPROTO_UDP && ihl >= IPV4_MIN_HLEN && frame.length >= p + ihl + 4) {
    const sport = (frame[p + ihl] << 8) | frame[p + ihl + 1];
    const dport = (frame[p + ihl + 2] << 8) | frame[p + ihl + 3];
    unconfigured = sport === 68 && dport === 67;
  }
  return { ip, unconfigured };
}

/** The frame with its 802.1Q tag removed. */
export function untag(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(frame.length - VLAN_HLEN);
  out.set(frame.subarray(0, 12), 0);
  out.set(frame.subarray(16), 12);
  return out;
}

/** The untagged frame with an 802.1Q tag for `vid` inserted (priority 0). */
export function tag(frame: Uint8Array, vid: number): Uint8Array {
  const out = new Uint8Array(frame.length + VLAN_HLEN);
  out.set(frame.subarray(0, 12), 0);
  out.set([ETH_P_8021Q >> 8, ETH_P_8021Q & 0xff, (vid >> 8) & 0x0f, vid & 0xff], 12);
  out.set(frame.subarray(12), 16);
  return out;
}

// Ethernet II framing (IEEE 802.3 with an EtherType). An 802.1Q tag on a received frame is tolerated: the
// stack reads through it to the inner EtherType. Frames are sent untagged and unpadded, as Linux hands them
// to netfront or a TAP (the 60-byte minimum is padding a NIC adds on the wire).
import { macAt, putMac } from './addr.js';

export const ETH_HLEN = 14;
export const ETH_ALEN = 6;
export const VLAN_HLEN = 4;
export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_8021Q = 0x8100;

export interface EthFrame {
  dst: string;
  src: string;
  etherType: number;
  /** The VLAN id of an 802.1Q tag the frame carried (0 for a priority tag). */
  vid?: number;
  payload: Uint8Array;
}

/** The frame's header fields and payload, or undefined when it is shorter than its header. */
export function parseEthernet(frame: Uint8Array): EthFrame | undefined {
  if (frame.length < ETH_HLEN) return undefined;
  const dst = macAt(frame, 0);
  const src = macAt(frame, 6);
  const type = (frame[12] << 8) | frame[13];
  if (type !== ETH_P_8021Q) return { dst, src, etherType: type, payload: frame.subarray(ETH_HLEN) };
  if (frame.length < ETH_HLEN + VLAN_HLEN) return undefined;
  return {
    dst,
    src,
    vid: ((frame[14] << 8) | frame[15]) & 0x0fff,
    etherType: (frame[16] << 8) | frame[17],
    payload: frame.subarray(ETH_HLEN + VLAN_HLEN),
  };
}

export function buildEthernet(dst: string, src: string, etherType: number, payload: Uint8Array): Buffer {
  const frame = Buffer.alloc(ETH_HLEN + payload.length);
  putMac(frame, 0, dst);
  putMac(frame, 6, src);
  frame.writeUInt16BE(etherType, 12);
  frame.set(payload, ETH_HLEN);
  return frame;
}

// ARP for IPv4 over Ethernet (RFC 826): hrd u16 @0 (1), pro u16 @2 (0x0800), hln u8 @4 (6), pln u8 @5 (4),
// op u16 @6 (1 request, 2 reply), sha @8, spa @14, tha @18, tpa @24; 28 bytes.
import { ipv4At, macAt, putIpv4, putMac } from './addr.js';
import { ETH_P_IP } from './ethernet.js';

export const ARP_LEN = 28;
export const ARPHRD_ETHER = 1;
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;

export interface ArpPacket {
  op: number;
  senderMac: string;
  senderIp: number;
  targetMac: string;
  targetIp: number;
}

export type ArpParse = ArpPacket | 'runt' | 'not-ipv4-ethernet';

export function parseArp(bytes: Uint8Array): ArpParse {
  if (bytes.length < ARP_LEN) return 'runt';
  const hrd = (bytes[0] << 8) | bytes[1];
  const pro = (bytes[2] << 8) | bytes[3];
  if (hrd !== ARPHRD_ETHER || pro !== ETH_P_IP || bytes[4] !== 6 || bytes[5] !== 4) return 'not-ipv4-ethernet';
  return {
    op: (bytes[6] << 8) | bytes[7],
    senderMac: macAt(bytes, 8),
    senderIp: ipv4At(bytes, 14),
    targetMac: macAt(bytes, 18),
    targetIp: ipv4At(bytes, 24),
  };
}

export function buildArp(p: ArpPacket): Buffer {
  const b = Buffer.alloc(ARP_LEN);
  b.writeUInt16BE(ARPHRD_ETHER, 0);
  b.writeUInt16BE(ETH_P_IP, 2);
  b[4] = 6;
  b[5] = 4;
  b.writeUInt16BE(p.op, 6);
  putMac(b, 8, p.senderMac);
  putIpv4(b, 14, p.senderIp);
  putMac(b, 18, p.targetMac);
  putIpv4(b, 24, p.targetIp);
  return b;
}

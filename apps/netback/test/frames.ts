// Frames for the tests, laid out field by field from Ethernet II, ARP (RFC 826) and IPv4/UDP (RFC 791,
// RFC 768), independently of the switch's parser.
const mac = (m: string): number[] => m.split(':').map((o) => parseInt(o, 16));
const ip = (a: string): number[] => a.split('.').map(Number);

export const BCAST = 'ff:ff:ff:ff:ff:ff';

export function eth(dst: string, src: string, etherType: number, payload: number[] | Uint8Array = []): Buffer {
  return Buffer.from([...mac(dst), ...mac(src), etherType >> 8, etherType & 0xff, ...payload]);
}

/** An ARP request who-has `targetIp` tell `senderIp` (htype 1, ptype 0x0800, hlen 6, plen 4, oper 1). */
export function arpRequest(src: string, senderIp: string, targetIp: string): Buffer {
  const body = [0, 1, 8, 0, 6, 4, 0, 1, ...mac(src), ...ip(senderIp), 0, 0, 0, 0, 0, 0, ...ip(targetIp)];
  return eth(BCAST, src, 0x0806, body);
}

/** IPv4/UDP 4000 -> 5000 with a 20-byte header and `data` bytes of 0x5a (checksums zero). */
export function udp(dst: string, src: string, srcIp: string, dstIp: string, data = 8): Buffer {
  const total = 20 + 8 + data;
  const iph = [0x45, 0, total >> 8, total & 0xff, 0, 0, 0, 0, 64, 17, 0, 0, ...ip(srcIp), ...ip(dstIp)];
  const udph = [0x0f, 0xa0, 0x13, 0x88, (8 + data) >> 8, (8 + data) & 0xff, 0, 0];
  return eth(dst, src, 0x0800, [...iph, ...udph, ...new Array<number>(data).fill(0x5a)]);
}

/** A frame of exactly `size` bytes (EtherType 0x88b5, local experimental). */
export function sized(dst: string, src: string, size: number): Buffer {
  return eth(dst, src, 0x88b5, new Uint8Array(size - 14));
}

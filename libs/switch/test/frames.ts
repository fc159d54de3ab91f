// Frame builders for the switch tests. Headers are laid out field by field here, from the Ethernet II,
// ARP (RFC 826) and IPv4 (RFC 791) formats, independently of the switch's parser.
export const MAC_A = '00:16:3e:00:00:0a';
export const MAC_B = '00:16:3e:00:00:0b';
export const MAC_C = '00:16:3e:00:00:0c';
export const BCAST = 'ff:ff:ff:ff:ff:ff';

const mac = (m: string): number[] => m.split(':').map((o) => parseInt(o, 16));
const ip = (a: string): number[] => a.split('.').map(Number);

export function eth(dst: string, src: string, etherType: number, payload: number[] | Uint8Array = []): Buffer {
  return Buffer.from([...mac(dst), ...mac(src), etherType >> 8, etherType & 0xff, ...payload]);
}

/** An ARP request (htype 1, ptype 0x0800, hlen 6, plen 4, oper 1). */
export function arp(src: string, senderIp: string, targetIp: string): Buffer {
  const body = [0, 1, 8, 0, 6, 4, 0, 1, ...mac(src), ...ip(senderIp), 0, 0, 0, 0, 0, 0, ...ip(targetIp)];
  return eth(BCAST, src, 0x0806, body);
}

/** An IPv4/UDP datagram with a 20-byte header (checksums left zero: the switch does not check them). */
export function udp(
  dst: string,
  src: string,
  srcIp: string,
  dstIp: string,
  sport = 4000,
  dport = 5000,
  data = 8,
): Buffer {
  const total = 20 + 8 + data;
  const iph = [0x45, 0, total >> 8, total & 0xff, 0, 0, 0, 0, 64, 17, 0, 0, ...ip(srcIp), ...ip(dstIp)];
  const udph = [sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, (8 + data) >> 8, (8 + data) & 0xff, 0, 0];
  return eth(dst, src, 0x0800, [...iph, ...udph, ...new Array<number>(data).fill(0x5a)]);
}

/** A frame of exactly `size` bytes from `src` to `dst` (EtherType 0x88b5, local experimental). */
export function sized(dst: string, src: string, size: number): Buffer {
  return eth(dst, src, 0x88b5, new Uint8Array(size - 14));
}

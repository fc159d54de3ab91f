// The stack's frames against bytes written by hand from RFC 826 (ARP), 791 (IPv4), 792 (ICMP) and 768
// (UDP), and its answers to frames captured from real Linux (fixtures/linux-capture.ts). Checksums in the
// hand-written frames were worked out separately (one's complement sums of the annotated words).
import { hex } from '@dominion/testing';
import { NETRXF } from '@dominion/netif';
import { IpStack, type IpStackOptions, type UdpDatagram } from '../src/index.js';
import { ARP_REQUEST, ECHO_2000_FRAG1, ECHO_2000_FRAG2, ECHO_REQUEST } from './fixtures/linux-capture.js';

const stacks: IpStack[] = [];
afterEach(() => stacks.splice(0).forEach((s) => s.close()));

function stackAt(mac: string, ipv4: string, extra: Partial<IpStackOptions> = {}) {
  const sent: Buffer[] = [];
  const stack = new IpStack({ mac, ipv4, prefix: 24, send: (f) => sent.push(f), firstIds: { ip: 0x1234 }, ...extra });
  stacks.push(stack);
  return { stack, sent };
}

// The reply Linux at 10.77.9.1 (02:00:0a:4d:09:01) would send to our who-has 10.77.9.1.
const LINUX_ARP_REPLY = hex`
  02000a4d0902 02000a4d0901 0806  # Ethernet: dst us @0, src Linux @6, ARP @12
  0001 0800 06 04 0002            # hrd 1, pro IPv4, hln 6, pln 4, op 2 reply
  02000a4d0901 0a4d0901           # sender MAC @8, sender IP @14: 10.77.9.1
  02000a4d0902 0a4d0902           # target MAC @18, target IP @24: us, 10.77.9.2
`;

describe('ARP (RFC 826)', () => {
  it('announces its address when brought up (gratuitous request, RFC 5227 §2.3)', () => {
    const { stack, sent } = stackAt('02:00:0a:4d:09:02', '10.77.9.2');
    expect(sent).toHaveLength(0);
    stack.up();
    expect(sent).toEqual([
      hex`
        ffffffffffff 02000a4d0902 0806  # broadcast, from us, ARP
        0001 0800 06 04 0001            # Ethernet/IPv4 request
        02000a4d0902 0a4d0902           # sender: us, 10.77.9.2
        000000000000 0a4d0902           # target MAC unknown, target IP: our own
      `,
    ]);
  });

  it("answers Linux's who-has for its address, and only for its address", () => {
    const mine = stackAt('02:00:0a:4d:09:03', '10.77.9.3');
    const other = stackAt('02:00:0a:4d:09:02', '10.77.9.2');
    for (const s of [mine, other]) {
      s.stack.up();
      s.sent.length = 0;
      s.stack.receive(ARP_REQUEST);
    }
    expect(mine.sent).toEqual([
      hex`
        02000a4d0901 02000a4d0903 0806  # to the asker, from us, ARP
        0001 0800 06 04 0002            # Ethernet/IPv4 reply
        02000a4d0903 0a4d0903           # sender: us, 10.77.9.3
        02000a4d0901 0a4d0901           # target: the asker, 10.77.9.1
      `,
    ]);
    expect(mine.stack.arpEntries()).toEqual([
      { ip: '10.77.9.1', state: 'REACHABLE', mac: '02:00:0a:4d:09:01', ageMs: expect.any(Number) },
    ]);
    expect(mine.stack.counters.arp).toMatchObject({ inRequests: 1, outReplies: 1 });
    expect(other.sent).toHaveLength(0);
    expect(other.stack.arpEntries()).toEqual([]);
    expect(other.stack.counters.arp.inRequests).toBe(1);
  });

  it('counts a short ARP packet as an rx frame error', () => {
    const { stack } = stackAt('02:00:0a:4d:09:03', '10.77.9.3');
    stack.up();
    stack.receive(ARP_REQUEST.subarray(0, 14 + 27));
    expect(stack.counters.link).toMatchObject({ rxPackets: 1, rxErrors: 1, rxFrameErrors: 1 });
  });
});

describe('ICMP echo (RFC 792) to a real ping', () => {
  const ECHO_REPLY = hex`
    02000a4d0901 02000a4d0902 0800  # to Linux, from us, IPv4
    45 00 0054 1234 4000 40 01 01d9 # ver 4 ihl 5, tos 0, length 84, id 0x1234, DF, ttl 64, ICMP, header checksum
    0a4d0902 0a4d0901               # from 10.77.9.2 to 10.77.9.1
    00 00 c7a7 6a55 0001            # echo reply, checksum (request's + 0x0800 for the type), same identifier and sequence
    00 cc 06 6b 00 00 00 00 01 f8 06 00 00 00 00 00  # the request's data, unchanged
    10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f
    30 31 32 33 34 35 36 37
  `;

  it("resolves the pinger's MAC, then answers with the echo reply", () => {
    const { stack, sent } = stackAt('02:00:0a:4d:09:02', '10.77.9.2');
    stack.up();
    sent.length = 0;
    stack.receive(ECHO_REQUEST);
    expect(sent).toEqual([
      hex`
        ffffffffffff 02000a4d0902 0806  # broadcast, from us, ARP
        0001 0800 06 04 0001            # request
        02000a4d0902 0a4d0902           # sender: us
        000000000000 0a4d0901           # who has 10.77.9.1
      `,
    ]);
    stack.receive(LINUX_ARP_REPLY);
    expect(sent.slice(1)).toEqual([ECHO_REPLY]);
    expect(stack.counters.icmp).toMatchObject({ InMsgs: 1, InEchos: 1, OutEchoReps: 1 });
    expect(stack.counters.link).toMatchObject({ rxPackets: 2, rxErrors: 0, rxDropped: 0, txPackets: 3 });
  });

  it('reads through an 802.1Q tag and answers untagged', () => {
    const { stack, sent } = stackAt('02:00:0a:4d:09:02', '10.77.9.2');
    stack.up();
    stack.receive(LINUX_ARP_REPLY);
    sent.length = 0;
    const tagged = Buffer.concat([
      ECHO_REQUEST.subarray(0, 12),
      hex`8100 000a  # 802.1Q TPID, priority 0, VLAN 10`,
      ECHO_REQUEST.subarray(12),
    ]);
    stack.receive(tagged);
    expect(sent).toEqual([ECHO_REPLY]);
  });

  it("reassembles Linux's two fragments in either order and fragments the reply at the MTU", () => {
    for (const order of [
      [ECHO_2000_FRAG1, ECHO_2000_FRAG2],
      [ECHO_2000_FRAG2, ECHO_2000_FRAG1],
    ]) {
      const { stack, sent } = stackAt('02:00:0a:4d:09:02', '10.77.9.2');
      stack.up();
      stack.receive(LINUX_ARP_REPLY);
      sent.length = 0;
      stack.receive(order[0]);
      expect(sent).toHaveLength(0);
      stack.receive(order[1]);
      expect(sent).toHaveLength(2);
      expect(sent[0].subarray(0, 42)).toEqual(hex`
        02000a4d0901 02000a4d0902 0800  # to Linux
        45 00 05dc 1234 2000 40 01 1c51 # length 1500, id 0x1234, MF offset 0, ttl 64, ICMP, checksum
        0a4d0902 0a4d0901
        00 00 5262 6a68 0001            # echo reply: request checksum 4a62 + 0x0800, identifier, sequence 1
      `);
      expect(sent[0].subarray(42)).toEqual(ECHO_2000_FRAG1.subarray(42));
      expect(sent[1].subarray(0, 34)).toEqual(hex`
        02000a4d0901 02000a4d0902 0800
        45 00 0224 1234 00b9 40 01 3f50 # length 548, same id, offset 185*8 = 1480, last fragment
        0a4d0902 0a4d0901
      `);
      expect(sent[1].subarray(34)).toEqual(ECHO_2000_FRAG2.subarray(34));
      expect(stack.counters.ip).toMatchObject({ ReasmReqds: 2, ReasmOKs: 1, FragOKs: 1, FragCreates: 2 });
    }
  });

  it('counts a truncated packet and a bad header checksum as rx errors, and answers nothing', () => {
    const { stack, sent } = stackAt('02:00:0a:4d:09:02', '10.77.9.2');
    stack.up();
    stack.receive(LINUX_ARP_REPLY);
    sent.length = 0;
    stack.receive(ECHO_REQUEST.subarray(0, 60));
    const badSum = Buffer.from(ECHO_REQUEST);
    badSum[24] ^= 0x01; // IPv4 header checksum @10 (14 + 10)
    stack.receive(badSum);
    expect(sent).toHaveLength(0);
    expect(stack.counters.ip).toMatchObject({ InHdrErrors: 2, InCsumErrors: 1 });
    expect(stack.counters.link).toMatchObject({ rxErrors: 2, rxFrameErrors: 1 });
    stack.receive(ECHO_REQUEST);
    expect(sent).toHaveLength(1);
  });
});

describe('UDP (RFC 768)', () => {
  const frame = (checksum: string) =>
    Buffer.concat([
      hex`
        02000a000002 02000a000001 0800
        45 00 001f 0001 4000 40 11 26cb
        0a000001 0a000002
        1388 0007 000b
      `,
      Buffer.from(checksum, 'hex'),
      hex`686921  # "hi!"`,
    ]);

  function bound() {
    const { stack, sent } = stackAt('02:00:0a:00:00:02', '10.0.0.2');
    stack.up();
    const got: UdpDatagram[] = [];
    stack.udpBind(7, (d) => got.push(d));
    return { stack, sent, got };
  }

  it('delivers a datagram with a good checksum and drops one with a bad checksum, counting it', () => {
    const { stack, got } = bound();
    stack.receive(frame('4edd'));
    stack.receive(frame('4ede'));
    expect(got).toEqual([{ from: '10.0.0.1', fromPort: 5000, to: '10.0.0.2', payload: Buffer.from('hi!') }]);
    expect(stack.counters.udp).toMatchObject({ InDatagrams: 1, InErrors: 1, InCsumErrors: 1 });
    expect(stack.counters.link).toMatchObject({ rxPackets: 2, rxErrors: 1, rxDropped: 0 });
  });

  it('accepts checksum 0 (none computed) and trusts a frame netback marked data_validated', () => {
    const { stack, got } = bound();
    stack.receive(frame('0000'));
    stack.receive(frame('4ede'), NETRXF.NETRXF_data_validated);
    stack.receive(frame('4ede'), NETRXF.NETRXF_csum_blank);
    expect(got).toHaveLength(3);
    expect(stack.counters.udp.InCsumErrors).toBe(0);
  });

  it('sends with the RFC 768 checksum', () => {
    const { stack, sent } = stackAt('02:00:0a:00:00:01', '10.0.0.1', { firstIds: { ip: 1 } });
    stack.up();
    stack.receive(hex`
      02000a000001 02000a000002 0806  # 10.0.0.2 tells us where it is
      0001 0800 06 04 0002
      02000a000002 0a000002
      02000a000001 0a000001
    `);
    sent.length = 0;
    const sock = stack.udpBind(5000, () => undefined);
    sock.send('10.0.0.2', 7, Buffer.from('hi!'));
    expect(sent).toEqual([
      hex`
        02000a000002 02000a000001 0800
        45 00 001f 0001 4000 40 11 26cb
        0a000001 0a000002
        1388 0007 000b 4edd 686921
      `,
    ]);
  });

  it('answers a datagram to a closed port with ICMP port unreachable quoting it (RFC 792)', () => {
    const { stack, sent } = stackAt('02:00:0a:00:00:02', '10.0.0.2', { firstIds: { ip: 0x0100 } });
    stack.up();
    stack.receive(hex`
      02000a000002 02000a000001 0806
      0001 0800 06 04 0002
      02000a000001 0a000001
      02000a000002 0a000002
    `);
    sent.length = 0;
    stack.receive(frame('4edd'));
    expect(stack.counters.udp.NoPorts).toBe(1);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toEqual(hex`
      02000a000001 02000a000002 0800  # back to 10.0.0.1
      45 00 0038 0100 4000 40 01 25c3 # length 56, id 0x0100, DF, ttl 64, ICMP, header checksum
      0a000002 0a000001
      03 03 9a85 00000000             # destination unreachable, port unreachable, checksum, unused
      45 00 001f 0001 4000 40 11 26cb # the datagram's IP header as received
      0a000001 0a000002
      1388 0007 000b 4edd             # and its first 8 bytes: the UDP header
    `);
  });
});

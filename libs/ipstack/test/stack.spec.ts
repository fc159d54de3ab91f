// Behaviour of stacks talking to each other over a test hub with a hand-driven clock: ARP resolution,
// ageing and its bounded queue, ping outcomes, UDP with fragmentation, reassembly limits, refusals.
import { IpStack, IpStackError, formatPing, type UdpDatagram } from '../src/index.js';
import { FakeClock } from './fake-clock.js';
import { Hub } from './hub.js';

let clock: FakeClock;
let hub: Hub;
let a: IpStack;
let b: IpStack;

beforeEach(() => {
  clock = new FakeClock();
  hub = new Hub(clock);
  a = hub.add({ mac: '00:16:3e:00:00:01', ipv4: '10.0.0.1', prefix: 24, firstIds: { ip: 1, echo: 0x100 } });
  b = hub.add({ mac: '00:16:3e:00:00:02', ipv4: '10.0.0.2', prefix: 24 });
  a.up();
  b.up();
});

afterEach(() => hub.close());

describe('ping', () => {
  it('gets a reply to each request, with round trips from the clock', async () => {
    const run = a.ping('10.0.0.2', { count: 3, intervalMs: 1000 });
    const result = await clock.until(run);
    expect(result).toMatchObject({ transmitted: 3, received: 3, errors: 0, duplicates: 0, loss: 0, rtts: [0, 0, 0] });
    expect(result.events.map((e) => e.kind === 'reply' && [e.seq, e.from, e.bytes, e.ttl])).toEqual([
      [1, '10.0.0.2', 64, 64],
      [2, '10.0.0.2', 64, 64],
      [3, '10.0.0.2', 64, 64],
    ]);
    expect(result.elapsedMs).toBe(2000);
    expect(b.counters.icmp).toMatchObject({ InEchos: 3, OutEchoReps: 3 });
  });

  it('loses requests whose replies come later than the timeout, and reports duplicates', async () => {
    // b's reply to seq 2 is held back 1.5 s; the reply to seq 1 arrives twice.
    hub.tap = (f, from) => {
      const seq = f.length >= 42 && f[23] === 1 && f[34] === 0 ? f.readUInt16BE(40) : -1;
      if (from === b && seq === 2) {
        clock.setTimer(() => a.receive(f), 1500);
        return [];
      }
      return from === b && seq === 1 ? [f, f] : [f];
    };
    const result = await clock.until(a.ping('10.0.0.2', { count: 3, intervalMs: 1000, timeoutMs: 1000 }));
    expect(result).toMatchObject({ transmitted: 3, received: 2, duplicates: 1 });
    expect(result.loss).toBeCloseTo(100 / 3, 10);
    expect(formatPing(result)).toContain('3 packets transmitted, 2 received, +1 duplicates, 33.3333% packet loss');
    expect(formatPing(result)).toContain('64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.000 ms (DUP!)');
  });

  it('reports Destination Host Unreachable when ARP gets no answer, beside a reachable host', async () => {
    const ok = await clock.until(a.ping('10.0.0.2', { count: 1 }));
    expect(ok.received).toBe(1);
    const before = { ...a.counters.arp };
    const result = await clock.until(a.ping('10.0.0.9', { count: 2, intervalMs: 1000, timeoutMs: 5000 }));
    expect(formatPing(result)).toBe(
      [
        'PING 10.0.0.9 (10.0.0.9) 56(84) bytes of data.',
        'From 10.0.0.1 icmp_seq=1 Destination Host Unreachable',
        'From 10.0.0.1 icmp_seq=2 Destination Host Unreachable',
        '',
        '--- 10.0.0.9 ping statistics ---',
        '2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 3000ms',
        '',
      ].join('\n'),
    );
    expect(a.counters.arp.outRequests - before.outRequests).toBe(3);
    expect(a.counters.arp.resolveFailed - before.resolveFailed).toBe(1);
    expect(a.counters.link.txDropped).toBe(2);
  });

  it('pings its own address through the loopback, without touching the wire', async () => {
    const frames = hub.frames.length;
    const result = await clock.until(a.ping('10.0.0.1', { count: 2, intervalMs: 100 }));
    expect(result).toMatchObject({ transmitted: 2, received: 2 });
    expect(hub.frames.length).toBe(frames);
  });

  it('refuses a destination with no route, and a bad size, naming them; routes through a gateway', async () => {
    await expect(a.ping('192.168.1.1')).rejects.toThrow(
      new IpStackError('ENOENT', 'ping 192.168.1.1: no route to 192.168.1.1 from eth0 (10.0.0.1/24, no gateway)'),
    );
    expect(a.counters.ip.OutNoRoutes).toBe(1);
    expect(() => a.ping('10.0.0.2', { size: 65508 })).toThrow(/size 65508 is outside 0\.\.65507/);
    a.configure({ gateway: '10.0.0.2' });
    const viaGateway = await clock.until(a.ping('192.168.1.1', { count: 1 }));
    // b is the gateway's MAC but not 192.168.1.1 and forwards nothing: the request reaches b and is dropped.
    expect(viaGateway.received).toBe(0);
    expect(b.counters.ip.InAddrErrors).toBe(1);
  });

  it('fails with ENOTCONN while the interface is down', async () => {
    a.down();
    await expect(a.ping('10.0.0.2')).rejects.toMatchObject({ kind: 'ENOTCONN' });
    a.up();
    expect((await clock.until(a.ping('10.0.0.2', { count: 1 }))).received).toBe(1);
  });
});

describe('ARP', () => {
  it('holds at most queueLen packets for an unresolved address, dropping the oldest', async () => {
    const c = hub.add({ mac: '00:16:3e:00:00:03', ipv4: '10.0.0.3', arp: { queueLen: 2 } });
    c.up();
    const got: string[] = [];
    b.udpBind(9, (d) => got.push(d.payload.toString()));
    hub.tap = (f) => (f.readUInt16BE(12) === 0x0806 && f.readUInt16BE(20) === 2 ? [] : [f]); // replies lost
    const sock = c.udpBind(0, () => undefined);
    for (const m of ['1', '2', '3', '4', '5']) sock.send('10.0.0.2', 9, Buffer.from(m));
    expect(c.counters.arp.unresolvedDiscards).toBe(3);
    expect(c.counters.link.txDropped).toBe(3);
    hub.tap = (f) => [f];
    await clock.advance(1000); // the retransmitted request gets its reply
    expect(got).toEqual(['4', '5']);
  });

  it('forgets an entry reachableMs after it was confirmed and asks again', async () => {
    const sock = a.udpBind(0, () => undefined);
    const requests = () => a.counters.arp.outRequests;
    sock.send('10.0.0.2', 9, Buffer.from('x'));
    await clock.advance(0);
    const first = requests();
    await clock.advance(29_000);
    sock.send('10.0.0.2', 9, Buffer.from('x'));
    expect(requests()).toBe(first);
    await clock.advance(1_000);
    sock.send('10.0.0.2', 9, Buffer.from('x'));
    expect(requests()).toBe(first + 1);
    expect(a.arpEntries()).toEqual([{ ip: '10.0.0.2', state: 'INCOMPLETE', ageMs: 0 }]);
  });

  it('counts a conflict when another MAC claims our address', async () => {
    const rogue = hub.add({ mac: '00:16:3e:00:00:66', ipv4: '10.0.0.1' });
    rogue.up();
    await clock.advance(0);
    expect(a.counters.arp.conflicts).toBe(1);
  });
});

describe('UDP', () => {
  it('carries a 4000-byte datagram in three fragments and reassembles it', async () => {
    const got: UdpDatagram[] = [];
    b.udpBind(5001, (d) => got.push(d));
    const payload = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 13) & 0xff));
    const sock = a.udpBind(40000, () => undefined);
    sock.send('10.0.0.2', 5001, payload);
    await clock.advance(0);
    expect(got).toEqual([{ from: '10.0.0.1', fromPort: 40000, to: '10.0.0.2', payload }]);
    expect(a.counters.ip).toMatchObject({ FragOKs: 1, FragCreates: 3 });
    expect(b.counters.ip).toMatchObject({ ReasmReqds: 3, ReasmOKs: 1 });
  });

  it('delivers to the subnet broadcast address', async () => {
    const got: string[] = [];
    b.udpBind(5001, (d) => got.push(`${d.to} ${d.payload.toString()}`));
    a.udpBind(0, () => undefined).send('10.0.0.255', 5001, Buffer.from('all'));
    await clock.advance(0);
    expect(got).toEqual(['10.0.0.255 all']);
  });

  it('refuses a bound port, an oversized datagram, a closed socket, and sending while down', () => {
    const s = a.udpBind(5000, () => undefined);
    expect(() => a.udpBind(5000, () => undefined)).toThrow(
      new IpStackError('EEXIST', 'udp bind on eth0: port 5000 is in use'),
    );
    expect(() => s.send('10.0.0.2', 9, new Uint8Array(65508))).toThrow(
      expect.objectContaining({ kind: 'E2BIG', message: expect.stringContaining('65508 bytes exceed the 65507') }),
    );
    s.send('10.0.0.2', 9, new Uint8Array(65507));
    a.down();
    expect(() => s.send('10.0.0.2', 9, Buffer.from('x'))).toThrow(
      new IpStackError('ENOTCONN', 'udp send from port 5000 to 10.0.0.2:9: interface eth0 is down'),
    );
    s.close();
    expect(() => s.send('10.0.0.2', 9, Buffer.from('x'))).toThrow(expect.objectContaining({ kind: 'ESHUTDOWN' }));
    expect(a.udpBind(5000, () => undefined).port).toBe(5000);
  });

  it('answers a closed port with port unreachable the sender counts', async () => {
    a.udpBind(0, () => undefined).send('10.0.0.2', 4444, Buffer.from('anyone?'));
    await clock.advance(0);
    expect(b.counters.udp.NoPorts).toBe(1);
    expect(b.counters.icmp.OutDestUnreachs).toBe(1);
    expect(a.counters.icmp.InDestUnreachs).toBe(1);
  });
});

describe('ICMP errors', () => {
  it('sends at most icmpErrorsPerSecond port unreachables, refilling over time', async () => {
    const limited = hub.add({ mac: '00:16:3e:00:00:07', ipv4: '10.0.0.7', icmpErrorsPerSecond: 2 });
    limited.up();
    const sock = a.udpBind(0, () => undefined);
    for (let i = 0; i < 5; i++) sock.send('10.0.0.7', 4444, Buffer.from('x'));
    await clock.advance(0);
    expect(limited.counters.udp.NoPorts).toBe(5);
    expect(limited.counters.icmp.OutDestUnreachs).toBe(2);
    await clock.advance(500);
    sock.send('10.0.0.7', 4444, Buffer.from('x'));
    await clock.advance(0);
    expect(limited.counters.icmp.OutDestUnreachs).toBe(3);
  });

  it('answers an IP protocol it does not speak with protocol unreachable', async () => {
    const before = b.counters.ip.InUnknownProtos;
    // An IPv4 packet with protocol 6 (TCP) from a to b, header checksum worked out by hand.
    const frame = Buffer.from(
      '00163e000002' + '00163e000001' + '0800' + '45000014' + '00004000' + '4006' + '26e2' + '0a000001' + '0a000002',
      'hex',
    );
    b.receive(frame);
    await clock.advance(0);
    expect(b.counters.ip.InUnknownProtos).toBe(before + 1);
    expect(b.counters.icmp.OutDestUnreachs).toBe(1);
    expect(a.counters.icmp.InDestUnreachs).toBe(1);
  });
});

describe('reassembly limits', () => {
  /** The fragments b sends for one 3000-byte datagram to a, captured off the hub. */
  async function fragmentsOf(): Promise<Buffer[]> {
    const frames: Buffer[] = [];
    hub.tap = (f, from) => {
      if (from === b && f.readUInt16BE(12) === 0x0800) {
        frames.push(f);
        return [];
      }
      return [f];
    };
    b.udpBind(0, () => undefined).send('10.0.0.1', 7, new Uint8Array(3000));
    await clock.advance(0);
    hub.tap = (f) => [f];
    return frames;
  }

  it('drops a datagram whose fragments do not all arrive within 30 s', async () => {
    const [first, , last] = await fragmentsOf();
    a.receive(first);
    a.receive(last);
    await clock.advance(29_999);
    expect(a.counters.ip.ReasmTimeout).toBe(0);
    await clock.advance(1);
    expect(a.counters.ip).toMatchObject({ ReasmTimeout: 1, ReasmFails: 1, ReasmOKs: 0 });
    expect(a.counters.link.rxDropped).toBe(2);
  });

  it('fails a datagram with overlapping fragments, and completes one without', async () => {
    const frags = await fragmentsOf();
    const overlapping = Buffer.from(frags[1]);
    // Move the middle fragment back 8 bytes (offset field @6 of the IPv4 header, in 8-byte units),
    // fixing the header checksum by recomputing it the long way.
    overlapping.writeUInt16BE(overlapping.readUInt16BE(20) - 1, 20);
    overlapping.writeUInt16BE(0, 24);
    let sum = 0;
    for (let i = 14; i < 34; i += 2) sum += overlapping.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    overlapping.writeUInt16BE(~sum & 0xffff, 24);
    a.receive(frags[0]);
    a.receive(overlapping);
    expect(a.counters.ip.ReasmFails).toBe(1);
    const again = await fragmentsOf();
    for (const f of again) a.receive(f);
    expect(a.counters.ip.ReasmOKs).toBe(1);
  });

  it('keeps at most maxDatagrams in progress', async () => {
    const limited = hub.add({ mac: '00:16:3e:00:00:05', ipv4: '10.0.0.5', reassembly: { maxDatagrams: 2 } });
    limited.up();
    const firsts: Buffer[] = [];
    for (let i = 0; i < 3; i++) firsts.push((await fragmentsOf())[0]);
    for (const f of firsts) a.receive(f);
    expect(a.counters.ip).toMatchObject({ ReasmReqds: 3, ReasmFails: 0 });
    // The same three first fragments, readdressed to a stack that holds two datagrams at most.
    for (const f of firsts) {
      const copy = Buffer.from(f);
      copy.set([0x00, 0x16, 0x3e, 0x00, 0x00, 0x05], 0);
      copy.set([10, 0, 0, 5], 30); // IPv4 destination @16
      copy.writeUInt16BE(copy.readUInt16BE(24) - 4, 24); // header checksum: the destination's last byte grew by 4
      limited.receive(copy);
    }
    expect(limited.counters.ip).toMatchObject({ ReasmReqds: 3, ReasmFails: 1, InHdrErrors: 0 });
    expect(limited.counters.link.rxDropped).toBe(1);
  });
});

describe('receive filtering and counters', () => {
  it('ignores frames for other MACs, drops unknown EtherTypes and anything while down', () => {
    const ipv6 = Buffer.alloc(60);
    ipv6.set([0x00, 0x16, 0x3e, 0x00, 0x00, 0x01, 0x00, 0x16, 0x3e, 0x00, 0x00, 0x02, 0x86, 0xdd]);
    const other = Buffer.from(ipv6);
    other[5] = 0x09;
    const before = { ...a.counters.link };
    a.receive(ipv6);
    a.receive(other);
    a.down();
    a.receive(ipv6);
    const l = a.counters.link;
    expect([l.rxPackets, l.rxDropped, l.rxErrors, l.otherHost]).toEqual([
      before.rxPackets + 3,
      before.rxDropped + 2,
      before.rxErrors,
      before.otherHost + 1,
    ]);
  });

  it('refuses bad interface settings, naming the field', () => {
    const base = { send: () => undefined };
    expect(() => new IpStack({ ...base, mac: '00:16:3e:00:00' })).toThrow(
      new IpStackError('EINVAL', 'interface eth0 mac: "00:16:3e:00:00" is not a MAC address'),
    );
    expect(() => new IpStack({ ...base, mac: '01:00:5e:00:00:01' })).toThrow(/is a group address/);
    expect(() => new IpStack({ ...base, mac: '00:16:3e:00:00:01', ipv4: '10.0.0.256' })).toThrow(
      /interface eth0 address: "10.0.0.256" is not an IPv4 address/,
    );
    expect(() => new IpStack({ ...base, mac: '00:16:3e:00:00:01', ipv4: '10.0.0.1', prefix: 33 })).toThrow(
      /prefix: 33/,
    );
    expect(() => new IpStack({ ...base, mac: '00:16:3e:00:00:01', ipv4: '10.0.0.1', gateway: '10.0.1.1' })).toThrow(
      /gateway: 10.0.1.1 is not on the interface's subnet/,
    );
    expect(() => new IpStack({ ...base, mac: '00:16:3e:00:00:01', mtu: 67 })).toThrow(/mtu: 67 is not 68\.\.65535/);
    expect(() => new IpStack({ ...base, mac: '00:16:3e:00:00:01', arp: { queueLen: 0 } })).toThrow(
      new IpStackError('EINVAL', 'interface eth0 arp queueLen: 0 is not a positive number'),
    );
    expect(new IpStack({ ...base, mac: '00:16:3e:00:00:01', ipv4: '10.0.0.1', gateway: '10.0.0.254' }).state).toEqual({
      name: 'eth0',
      mac: '00:16:3e:00:00:01',
      up: false,
      mtu: 1500,
      ipv4: '10.0.0.1',
      prefix: 24,
      netmask: '255.255.255.0',
      broadcast: '10.0.0.255',
      gateway: '10.0.0.254',
    });
  });

  it('announces a new address set while up', () => {
    const before = a.counters.arp.outRequests;
    a.configure({ ipv4: '10.0.0.11' });
    expect(a.counters.arp.outRequests).toBe(before + 1);
    expect(hub.frames.at(-1)!.subarray(28, 32)).toEqual(Buffer.from([10, 0, 0, 11]));
  });
});

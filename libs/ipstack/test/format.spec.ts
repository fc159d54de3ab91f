// Text against what the real tools printed on this machine (iputils ping 20221126, net-tools ifconfig 2.10).
import { IpStack, formatArp, formatIfconfig, formatPing, type PingResult } from '../src/index.js';
import { FakeClock } from './fake-clock.js';
import { Hub } from './hub.js';

describe('formatPing', () => {
  it("matches iputils' output for `ping -c 2 -i 0.2 127.0.0.1` (0.243 and 0.032 ms)", () => {
    const result: PingResult = {
      dst: '127.0.0.1',
      size: 56,
      transmitted: 2,
      received: 2,
      duplicates: 0,
      errors: 0,
      loss: 0,
      elapsedMs: 202.3,
      rtts: [0.243, 0.032],
      // what IpStack.ping computes for these round trips
      rtt: { min: 0.032, avg: 0.137, max: 0.243, mdev: 0.105 },
      events: [
        { kind: 'reply', seq: 1, from: '127.0.0.1', bytes: 64, ttl: 64, timeMs: 0.243, duplicate: false },
        { kind: 'reply', seq: 2, from: '127.0.0.1', bytes: 64, ttl: 64, timeMs: 0.032, duplicate: false },
      ],
    };
    expect(formatPing(result)).toBe(`PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.243 ms
64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=0.032 ms

--- 127.0.0.1 ping statistics ---
2 packets transmitted, 2 received, 0% packet loss, time 202ms
rtt min/avg/max/mdev = 0.032/0.137/0.243/0.105 ms
`);
  });

  it('computes those statistics from the round trips as iputils does', async () => {
    // b's replies are held back 0.243 ms and 0.032 ms on the wire.
    const clock = new FakeClock();
    const hub = new Hub(clock);
    const a = hub.add({ mac: '00:16:3e:00:00:01', ipv4: '10.0.0.1' });
    const b = hub.add({ mac: '00:16:3e:00:00:02', ipv4: '10.0.0.2' });
    a.up();
    b.up();
    await clock.advance(0);
    const delays = [0.243, 0.032];
    hub.tap = (f, from) => {
      if (from !== b || f.readUInt16BE(12) !== 0x0800) return [f];
      clock.setTimer(() => a.receive(f), delays.shift()!);
      return [];
    };
    const r = await clock.until(a.ping('10.0.0.2', { count: 2, intervalMs: 200 }));
    expect(r.rtts).toEqual([0.243, 0.032]);
    expect(r.rtt).toEqual({ min: 0.032, avg: 0.137, max: 0.243, mdev: 0.105 });
    hub.close();
  });

  it('prints round trips with the precision iputils uses at each magnitude', () => {
    const line = (timeMs: number) =>
      formatPing({
        dst: '10.0.0.2',
        size: 56,
        transmitted: 3,
        received: 1,
        duplicates: 0,
        errors: 0,
        loss: 200 / 3,
        elapsedMs: 2047,
        rtts: [timeMs],
        events: [{ kind: 'reply', seq: 1, from: '10.0.0.2', bytes: 64, ttl: 63, timeMs, duplicate: false }],
      }).split('\n')[1];
    expect([0.512, 1.234, 12.345, 123.456].map(line)).toEqual([
      '64 bytes from 10.0.0.2: icmp_seq=1 ttl=63 time=0.512 ms',
      '64 bytes from 10.0.0.2: icmp_seq=1 ttl=63 time=1.23 ms',
      '64 bytes from 10.0.0.2: icmp_seq=1 ttl=63 time=12.3 ms',
      '64 bytes from 10.0.0.2: icmp_seq=1 ttl=63 time=123 ms',
    ]);
  });

  it('prints the loss of a run with no replies and no rtt line', () => {
    const text = formatPing({
      dst: '10.0.0.9',
      size: 56,
      transmitted: 3,
      received: 0,
      duplicates: 0,
      errors: 0,
      loss: 100,
      elapsedMs: 2040.4,
      rtts: [],
      events: [],
    });
    expect(text).toBe(`PING 10.0.0.9 (10.0.0.9) 56(84) bytes of data.

--- 10.0.0.9 ping statistics ---
3 packets transmitted, 0 received, 100% packet loss, time 2040ms
`);
  });
});

describe('formatIfconfig', () => {
  it('lays out an interface as net-tools does (checked against `ifconfig` on a TAP here)', () => {
    expect(
      formatIfconfig({
        name: 'dipp20801',
        up: true,
        mtu: 1500,
        mac: 'b6:0d:70:eb:17:b8',
        ipv4: { address: '10.77.9.1', netmask: '255.255.255.0', broadcast: '10.77.9.255' },
        rxPackets: 0,
        rxBytes: 0,
        rxErrors: 0,
        rxDropped: 0,
        rxFrameErrors: 0,
        txPackets: 4,
        txBytes: 308,
        txErrors: 0,
        txDropped: 0,
      }),
    ).toBe(`dipp20801: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500
        inet 10.77.9.1  netmask 255.255.255.0  broadcast 10.77.9.255
        ether b6:0d:70:eb:17:b8  txqueuelen 1000  (Ethernet)
        RX packets 0  bytes 0 (0.0 B)
        RX errors 0  dropped 0  overruns 0  frame 0
        TX packets 4  bytes 308 (308.0 B)
        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0

`);
  });

  it('scales bytes in powers of 1024 with one truncated decimal, and shows a down interface', () => {
    const text = formatIfconfig({
      name: 'eth0',
      up: false,
      mtu: 1500,
      mac: '00:16:3e:00:00:01',
      rxPackets: 979967,
      rxBytes: 117671201,
      rxErrors: 1,
      rxDropped: 2,
      rxFrameErrors: 1,
      txPackets: 68381,
      txBytes: 2305995551,
      txErrors: 3,
      txDropped: 4,
    });
    // lo and eth0 on this machine printed (112.2 MiB) and (2.1 GiB) for these byte counts.
    expect(text.split('\n')).toEqual([
      'eth0: flags=4098<BROADCAST,MULTICAST>  mtu 1500',
      '        ether 00:16:3e:00:00:01  txqueuelen 1000  (Ethernet)',
      '        RX packets 979967  bytes 117671201 (112.2 MiB)',
      '        RX errors 1  dropped 2  overruns 0  frame 1',
      '        TX packets 68381  bytes 2305995551 (2.1 GiB)',
      '        TX errors 3  dropped 4 overruns 0  carrier 0  collisions 0',
      '',
      '',
    ]);
  });

  it("is what IpStack.formatIfconfig prints for the stack's own counters", () => {
    const stack = new IpStack({
      name: 'eth1',
      mac: '00:16:3e:00:00:01',
      ipv4: '192.168.7.9',
      prefix: 20,
      send: () => undefined,
    });
    stack.up(); // one gratuitous ARP: 42 bytes
    expect(stack.formatIfconfig().split('\n').slice(0, 6)).toEqual([
      'eth1: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500',
      '        inet 192.168.7.9  netmask 255.255.240.0  broadcast 192.168.15.255',
      '        ether 00:16:3e:00:00:01  txqueuelen 1000  (Ethernet)',
      '        RX packets 0  bytes 0 (0.0 B)',
      '        RX errors 0  dropped 0  overruns 0  frame 0',
      '        TX packets 1  bytes 42 (42.0 B)',
    ]);
    stack.close();
  });
});

describe('formatArp', () => {
  it('lays out the table as `arp -n` printed it in a namespace here', () => {
    expect(
      formatArp(
        [
          { ip: '10.5.0.9', state: 'INCOMPLETE' },
          { ip: '10.5.0.7', state: 'REACHABLE', mac: '00:16:3e:00:00:07' },
        ],
        'd0',
      ),
    ).toBe(
      [
        'Address                  HWtype  HWaddress           Flags Mask            Iface',
        '10.5.0.9                         (incomplete)                              d0',
        '10.5.0.7                 ether   00:16:3e:00:00:07   C                     d0',
        '',
      ].join('\n'),
    );
  });
});

import { hex } from '@dominion/testing';
import { EthernetSwitch, SwitchError, parseEth, tag, untag, type IngressResult } from '../src/index.js';
import { BCAST, MAC_A, MAC_B, MAC_C, arp, eth, sized, udp } from './frames.js';

const to = (r: IngressResult): string[] => r.deliveries.map((d) => d.port).sort();

function threePorts(sw = new EthernetSwitch({ name: 'xenbr0' })): EthernetSwitch {
  for (const [name, owner] of [
    ['vif1.0', 'dom1'],
    ['vif2.0', 'dom2'],
    ['vif3.0', 'dom3'],
  ])
    sw.addPort({ name, owner });
  return sw;
}

describe('802.1Q tags', () => {
  const untagged = hex`
    ffffffffffff  # dst  @0
    00163e00000a  # src  @6
    0806          # EtherType @12  ARP
    0001          # payload @14
  `;
  const tagged = hex`
    ffffffffffff  # dst  @0
    00163e00000a  # src  @6
    8100          # TPID @12  802.1Q
    000a          # TCI  @14  PCP 0, DEI 0, VID 10
    0806          # EtherType @16  ARP
    0001          # payload @18
  `;
  it('inserts and removes the tag after the source MAC', () => {
    expect(Buffer.from(tag(untagged, 10))).toEqual(tagged);
    expect(Buffer.from(untag(tagged))).toEqual(untagged);
    expect(parseEth(tagged)).toEqual({ dst: BCAST, src: MAC_A, vid: 10, etherType: 0x0806, payload: 18 });
  });
  it('calls a tagged frame cut inside its tag a runt, beside the full one parsing', () => {
    expect(parseEth(tagged.subarray(0, 17))).toBe('runt');
    expect(parseEth(tagged.subarray(0, 18))).not.toBe('runt');
  });
});

describe('learning and flooding', () => {
  it('floods broadcast and unknown unicast, then forwards learned unicast to one port', () => {
    const sw = threePorts();
    expect(to(sw.ingress('vif1.0', arp(MAC_A, '10.0.0.10', '10.0.0.20'), 0))).toEqual(['vif2.0', 'vif3.0']);
    expect(to(sw.ingress('vif2.0', udp(MAC_A, MAC_B, '10.0.0.20', '10.0.0.10'), 1))).toEqual(['vif1.0']);
    expect(to(sw.ingress('vif1.0', udp(MAC_B, MAC_A, '10.0.0.10', '10.0.0.20'), 2))).toEqual(['vif2.0']);
    expect(to(sw.ingress('vif1.0', udp(MAC_C, MAC_A, '10.0.0.10', '10.0.0.30'), 3))).toEqual(['vif2.0', 'vif3.0']);
    expect(to(sw.ingress('vif2.0', udp('01:00:5e:00:00:01', MAC_B, '10.0.0.20', '224.0.0.1'), 4))).toEqual([
      'vif1.0',
      'vif3.0',
    ]);
    expect(
      sw
        .macTable(4)
        .map((e) => [e.mac, e.port])
        .sort(),
    ).toEqual([
      [MAC_A, 'vif1.0'],
      [MAC_B, 'vif2.0'],
    ]);
    const c1 = sw.counters('vif1.0');
    expect([c1.rxFrames, c1.txFrames]).toEqual([3, 2]); // the unicast reply and the multicast
    expect(sw.counters('vif3.0').txFrames).toBe(3);
  });

  it('delivers the same frame bytes it was given when no tag changes', () => {
    const sw = threePorts();
    const frame = arp(MAC_A, '10.0.0.10', '10.0.0.20');
    expect(sw.ingress('vif1.0', frame, 0).deliveries.every((d) => d.frame === frame)).toBe(true);
  });

  it('follows a MAC that moves to another port and drops a frame for the port it came from', () => {
    const sw = threePorts();
    sw.ingress('vif1.0', arp(MAC_A, '10.0.0.10', '10.0.0.20'), 0);
    sw.ingress('vif3.0', arp(MAC_A, '10.0.0.10', '10.0.0.20'), 1);
    expect(to(sw.ingress('vif2.0', udp(MAC_A, MAC_B, '10.0.0.20', '10.0.0.10'), 2))).toEqual(['vif3.0']);
    const back = sw.ingress('vif3.0', udp(MAC_A, MAC_A, '10.0.0.10', '10.0.0.10'), 3);
    expect(back).toEqual({ verdict: 'dropped', reason: 'same-port', deliveries: [] });
  });

  it('forgets a MAC after the ageing time (default 300 s) and floods again', () => {
    const sw = threePorts();
    sw.ingress('vif1.0', arp(MAC_A, '10.0.0.10', '10.0.0.20'), 0);
    expect(to(sw.ingress('vif2.0', udp(MAC_A, MAC_B, '10.0.0.20', '10.0.0.10'), 300_000))).toEqual(['vif1.0']);
    expect(sw.macTable(300_000).find((e) => e.mac === MAC_A)?.age).toBe(300_000);
    expect(to(sw.ingress('vif2.0', udp(MAC_A, MAC_B, '10.0.0.20', '10.0.0.10'), 300_001))).toEqual([
      'vif1.0',
      'vif3.0',
    ]);
    expect(sw.macTable(300_001).map((e) => e.mac)).toEqual([MAC_B]);
  });

  it('ages with a configured time', () => {
    const sw = threePorts(new EthernetSwitch({ ageingMs: 1000 }));
    sw.ingress('vif1.0', arp(MAC_A, '10.0.0.10', '10.0.0.20'), 0);
    expect(to(sw.ingress('vif2.0', udp(MAC_A, MAC_B, '10.0.0.20', '10.0.0.10'), 1000))).toEqual(['vif1.0']);
    expect(to(sw.ingress('vif2.0', udp(MAC_A, MAC_B, '10.0.0.20', '10.0.0.10'), 1001))).toHaveLength(2);
  });

  it('removes a port with what it learned; an unknown port is ENOENT beside a known one working', () => {
    const sw = threePorts();
    sw.ingress('vif1.0', arp(MAC_A, '10.0.0.10', '10.0.0.20'), 0);
    sw.removePort('vif1.0');
    expect(sw.macTable(1)).toEqual([]);
    expect(() => sw.ingress('vif1.0', arp(MAC_A, '10.0.0.10', '10.0.0.20'), 1)).toThrow(/xenbr0: no port vif1.0/);
    expect(() => sw.removePort('vif1.0')).toThrow(SwitchError);
    expect(to(sw.ingress('vif2.0', arp(MAC_B, '10.0.0.20', '10.0.0.10'), 1))).toEqual(['vif3.0']);
  });
});

describe('anti-spoofing (vif mac= and ip=)', () => {
  function guarded(): EthernetSwitch {
    const sw = new EthernetSwitch({ name: 'xenbr0' });
    sw.addPort({ name: 'vif1.0', owner: 'dom1', mac: MAC_A, ips: ['10.0.0.10'] });
    sw.addPort({ name: 'vif2.0', owner: 'dom2' });
    return sw;
  }

  it('passes the allowed source and drops another MAC or IP, counting each', () => {
    const sw = guarded();
    expect(sw.ingress('vif1.0', udp(BCAST, MAC_A, '10.0.0.10', '10.0.0.20'), 0).verdict).toBe('forwarded');
    expect(sw.ingress('vif1.0', udp(BCAST, MAC_C, '10.0.0.10', '10.0.0.20'), 0)).toMatchObject({
      verdict: 'dropped',
      reason: 'spoofed-mac',
    });
    expect(sw.ingress('vif1.0', udp(BCAST, MAC_A, '10.0.0.99', '10.0.0.20'), 0)).toMatchObject({
      reason: 'spoofed-ip',
    });
    expect(sw.ingress('vif1.0', arp(MAC_A, '10.0.0.99', '10.0.0.20'), 0)).toMatchObject({ reason: 'spoofed-ip' });
    expect(sw.ingress('vif1.0', arp(MAC_A, '10.0.0.10', '10.0.0.20'), 0).verdict).toBe('forwarded');
    // Not IPv4 or ARP: only the MAC is checked.
    expect(sw.ingress('vif1.0', sized(BCAST, MAC_A, 64), 0).verdict).toBe('forwarded');
    const c = sw.counters('vif1.0');
    expect(c.drops).toMatchObject({ 'spoofed-mac': 1, 'spoofed-ip': 2 });
    expect([c.rxFrames, sw.counters('vif2.0').txFrames]).toEqual([6, 3]);
  });

  it('lets a DHCP client and an ARP probe from 0.0.0.0 through, but not other 0.0.0.0 traffic', () => {
    const sw = guarded();
    expect(sw.ingress('vif1.0', udp(BCAST, MAC_A, '0.0.0.0', '255.255.255.255', 68, 67), 0).verdict).toBe('forwarded');
    expect(sw.ingress('vif1.0', arp(MAC_A, '0.0.0.0', '10.0.0.10'), 0).verdict).toBe('forwarded');
    expect(sw.ingress('vif1.0', udp(BCAST, MAC_A, '0.0.0.0', '255.255.255.255', 68, 53), 0)).toMatchObject({
      reason: 'spoofed-ip',
    });
  });

  it('drops truncated IPv4 and ARP from a guarded port as runts; an unguarded port forwards them', () => {
    const sw = guarded();
    const shortIp = udp(BCAST, MAC_A, '10.0.0.10', '10.0.0.20').subarray(0, 14 + 19);
    const shortArp = arp(MAC_A, '10.0.0.10', '10.0.0.20').subarray(0, 14 + 27);
    expect(sw.ingress('vif1.0', shortIp, 0)).toMatchObject({ reason: 'runt' });
    expect(sw.ingress('vif1.0', shortArp, 0)).toMatchObject({ reason: 'runt' });
    expect(sw.ingress('vif2.0', eth(BCAST, MAC_B, 0x0800, [0x45]), 0).verdict).toBe('forwarded');
    expect(sw.counters('vif1.0').drops.runt).toBe(2);
  });

  it('never throws on garbage: short frames are counted as runts', () => {
    const sw = guarded();
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
    let results = 0;
    for (let i = 0; i < 2000; i++) {
      const frame = Buffer.from(Array.from({ length: Math.floor(rnd() * 80) }, () => Math.floor(rnd() * 256)));
      sw.ingress(i % 2 ? 'vif1.0' : 'vif2.0', frame, i);
      results++;
    }
    expect(results).toBe(2000);
    expect(sw.ingress('vif2.0', Buffer.alloc(13), 0)).toMatchObject({ reason: 'runt' });
  });
});

describe('port configuration', () => {
  it('refuses a MAC already claimed by another port, beside a distinct MAC accepted', () => {
    const sw = new EthernetSwitch({ name: 'xenbr0' });
    sw.addPort({ name: 'vif1.0', owner: 'dom1', mac: MAC_A });
    let err: unknown;
    try {
      sw.addPort({ name: 'vif2.0', owner: 'dom2', mac: '00:16:3E:00:00:0A' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SwitchError);
    expect(err).toMatchObject({
      kind: 'EEXIST',
      message: expect.stringMatching(/MAC 00:16:3e:00:00:0a .* port vif1.0 \(owner dom1\)/),
    });
    sw.addPort({ name: 'vif2.0', owner: 'dom2', mac: MAC_B });
    expect(sw.portNames()).toEqual(['vif1.0', 'vif2.0']);
  });

  it('refuses a duplicate name and bad values, naming them', () => {
    const sw = new EthernetSwitch();
    sw.addPort({ name: 'vif1.0', owner: 'dom1' });
    expect(() => sw.addPort({ name: 'vif1.0', owner: 'dom9' })).toThrow(/port vif1.0 already exists/);
    expect(() => sw.addPort({ name: 'x', owner: 'o', mac: '00:16:3e:00:00' })).toThrow(/x mac: .* not a MAC/);
    expect(() => sw.addPort({ name: 'x', owner: 'o', ips: ['10.0.0.256'] })).toThrow(/x ip: .* not an IPv4/);
    expect(() => sw.addPort({ name: 'x', owner: 'o', vlan: { pvid: 4095 } })).toThrow(/VLAN id 4095/);
    expect(() => sw.addPort({ name: 'x', owner: 'o', rate: { bytesPerInterval: 0 } })).toThrow(/rate/);
    expect(sw.portNames()).toEqual(['vif1.0']);
  });
});

describe('VLANs', () => {
  function vlanSwitch(): EthernetSwitch {
    const sw = new EthernetSwitch({ name: 'xenbr0' });
    sw.addPort({ name: 'a', owner: 'dom1', vlan: { pvid: 10 } });
    sw.addPort({ name: 'b', owner: 'dom2', vlan: { pvid: 10 } });
    sw.addPort({ name: 'c', owner: 'dom3', vlan: { pvid: 20 } });
    sw.addPort({
      name: 'trunk',
      owner: 'uplink',
      vlan: {
        pvid: 1,
        members: [
          { vid: 10, untagged: false },
          { vid: 20, untagged: false },
        ],
      },
    });
    return sw;
  }

  it('switches only within a VLAN, tagging on trunk ports', () => {
    const sw = vlanSwitch();
    const frame = arp(MAC_A, '10.0.0.10', '10.0.0.20');
    const r = sw.ingress('a', frame, 0);
    expect(to(r)).toEqual(['b', 'trunk']);
    expect(r.deliveries.find((d) => d.port === 'b')!.frame).toBe(frame);
    expect(Buffer.from(r.deliveries.find((d) => d.port === 'trunk')!.frame).subarray(12, 16)).toEqual(
      hex`8100 000a  # TPID, TCI VID 10`,
    );
    expect(to(sw.ingress('c', arp(MAC_C, '10.0.0.30', '10.0.0.10'), 1))).toEqual(['trunk']);
    expect(to(sw.ingress('c', udp(MAC_A, MAC_C, '10.0.0.30', '10.0.0.10'), 2))).toEqual(['trunk']);
  });

  it('untags a trunk frame for an access port and drops a VLAN the port is not in', () => {
    const sw = vlanSwitch();
    sw.ingress('c', arp(MAC_C, '10.0.0.30', '10.0.0.10'), 0);
    const inner = udp(MAC_C, MAC_B, '10.0.0.20', '10.0.0.30');
    const r = sw.ingress('trunk', tag(inner, 20), 1);
    expect(to(r)).toEqual(['c']);
    expect(Buffer.from(r.deliveries[0].frame)).toEqual(inner);
    expect(sw.ingress('trunk', tag(inner, 30), 2)).toMatchObject({ reason: 'vlan' });
    expect(sw.ingress('a', tag(inner, 20), 3)).toMatchObject({ reason: 'vlan' });
    expect(sw.counters('trunk').drops.vlan).toBe(1);
  });

  it('learns a MAC separately per VLAN', () => {
    const sw = vlanSwitch();
    sw.ingress('a', arp(MAC_A, '10.0.0.10', '10.0.0.20'), 0);
    sw.ingress('c', arp(MAC_A, '10.0.0.10', '10.0.0.20'), 0);
    expect(
      sw
        .macTable(0)
        .map((e) => `${e.vid}/${e.port}`)
        .sort(),
    ).toEqual(['10/a', '20/c']);
    expect(to(sw.ingress('b', udp(MAC_A, MAC_B, '10.0.0.20', '10.0.0.10'), 1))).toEqual(['a']);
  });
});

describe('rate limiting (vif rate=)', () => {
  /** Offers back-to-back frames for `ms` of simulated time, retrying each deferred one when told. */
  function offer(sw: EthernetSwitch, port: string, src: string, size: number, ms: number) {
    const admitted: number[] = [];
    let t = 0;
    for (let guard = 0; t < ms && guard < 100_000; guard++) {
      const r = sw.ingress(port, sized(BCAST, src, size), t);
      if (r.verdict === 'deferred') t = r.until;
      else admitted.push(t);
    }
    return admitted;
  }

  it('admits 1MB/s@20ms as ~20 KB per interval while an unlimited port passes everything', () => {
    const sw = new EthernetSwitch();
    sw.addPort({ name: 'slow', owner: 'dom1', rate: { bytesPerInterval: 20_000, intervalUsecs: 20_000 } });
    sw.addPort({ name: 'fast', owner: 'dom2' });
    sw.addPort({ name: 'sink', owner: 'dom3' });
    const admitted = offer(sw, 'slow', MAC_A, 1000, 1000);
    const perInterval = new Map<number, number>();
    for (const t of admitted) perInterval.set(Math.floor(t / 20), (perInterval.get(Math.floor(t / 20)) ?? 0) + 1000);
    expect([...perInterval.values()].every((b) => b === 20_000)).toBe(true);
    expect(admitted.length * 1000).toBe(1_000_000);
    expect(sw.counters('slow').rxBytes).toBe(1_000_000);
    expect(sw.counters('slow').deferred).toBeGreaterThanOrEqual(49);

    for (let i = 0; i < 100; i++) expect(sw.ingress('fast', sized(BCAST, MAC_B, 1000), 0).verdict).toBe('forwarded');
  });

  it('defers until the next interval (default 50 ms); a frame larger than the credit waits for the burst to grow', () => {
    const sw = new EthernetSwitch();
    sw.addPort({ name: 'p', owner: 'dom1', rate: { bytesPerInterval: 1000 } }, 0);
    sw.addPort({ name: 'q', owner: 'dom2' });
    expect(sw.ingress('p', sized(BCAST, MAC_A, 600), 0).verdict).toBe('forwarded');
    expect(sw.ingress('p', sized(BCAST, MAC_A, 600), 10)).toEqual({ verdict: 'deferred', until: 50, deliveries: [] });
    // Refill at 50: min(400 + 1000, max(1000, 1500)) = 1400, still short of 1500; at 100 it reaches 1500.
    expect(sw.ingress('p', sized(BCAST, MAC_A, 1500), 50)).toMatchObject({ verdict: 'deferred', until: 100 });
    expect(sw.ingress('p', sized(BCAST, MAC_A, 1500), 100).verdict).toBe('forwarded');
    expect(sw.ingress('p', sized(BCAST, MAC_A, 60), 110)).toMatchObject({ verdict: 'deferred', until: 150 });
    expect(sw.counters('p')).toMatchObject({ rxFrames: 2, rxBytes: 2100, deferred: 3 });
    expect(sw.counters('q')).toMatchObject({ txFrames: 2, txBytes: 2100 });
  });
});

// vif specs (xl-network-configuration(5), xl's parse_nic_config) and vif rates (libxlu_vif.c). The
// rate results are Xen's own expectations from tools/xl/check-xl-vif-parse; the error lines are what
// xl 4.17's libxlutil printed for the same rates (test/golden/README.md).
import { XlCfgError, parseMac, parseVifRate, parseVifSpec, parseVlan, randomXenMac } from '../src/index.js';

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof XlCfgError) return e.message;
    throw e;
  }
  throw new Error('accepted');
}

describe('vif spec', () => {
  it('reads every key xl reads', () => {
    const { vif, warnings } = parseVifSpec(
      'mac=00:16:3E:0a:0B:0c, bridge=xenbr1,gatewaydev=eth0,type=vif,model=e1000,vifname=web0,script=vif-route,' +
        'ip=10.0.0.2 10.0.0.3,backend=netdom,rate=10Mb/s,devid=4,mtu=9000,vlan=10p/20,untrusted',
      { devid: 1 },
    );
    expect(warnings).toEqual([]);
    expect(vif).toEqual({
      spec: expect.any(String),
      devid: 4,
      mac: '00:16:3e:0a:0b:0c',
      bridge: 'xenbr1',
      gatewaydev: 'eth0',
      type: 'vif',
      model: 'e1000',
      vifname: 'web0',
      script: 'vif-route',
      ip: '10.0.0.2 10.0.0.3',
      backend: 'netdom',
      rate: { spec: '10Mb/s', bytesPerInterval: 62500, intervalUsecs: 50000 },
      mtu: 9000,
      vlan: {
        spec: '10p/20',
        pvid: 10,
        members: [
          { vid: 10, untagged: true },
          { vid: 20, untagged: false },
        ],
      },
      trusted: false,
    });
  });

  it("has libxl's defaults: bridge xenbr0, script vif-bridge, mtu 1500, devid = list index, no MAC yet", () => {
    expect(parseVifSpec('', { devid: 2 }).vif).toEqual({
      spec: '',
      devid: 2,
      bridge: 'xenbr0',
      script: 'vif-bridge',
      mtu: 1500,
    });
    expect(parseVifSpec('mtu=0').vif.mtu).toBe(1500);
    expect(parseVifSpec('trusted').vif.trusted).toBe(true);
  });

  it('drops blanks before a word (not after it) and skips empty words, as strtok + xl do', () => {
    const { vif } = parseVifSpec('bridge=br1 ,, ip=1.2.3.4,');
    expect(vif.bridge).toBe('br1 ');
    expect(vif.ip).toBe('1.2.3.4');
  });

  it("takes netdev as gatewaydev with xl's deprecation warning", () => {
    const r = parseVifSpec('netdev=eth1', { where: { source: 'vm.cfg', line: 3, column: 8 } });
    expect(r.vif.gatewaydev).toBe('eth1');
    expect(r.warnings).toEqual([
      'vm.cfg:3:8: warning: the netdev parameter is deprecated, please use gatewaydev instead',
    ]);
  });

  it('ignores an unknown word in a config file with a warning, and refuses it for network-attach', () => {
    const where = { source: 'vm.cfg', line: 5, column: 7 };
    const r = parseVifSpec('bridge=br0,colour=blue,loud', { where });
    expect(r.vif.bridge).toBe('br0');
    expect(r.warnings).toEqual([
      "vm.cfg:5:7: warning: unrecognized argument `colour=blue' in vif spec, ignored (as xl does)",
      "vm.cfg:5:7: warning: unrecognized argument `loud' in vif spec, ignored (as xl does)",
    ]);
    expect(refusal(() => parseVifSpec(['bridge=br0', 'colour=blue'], { strict: true }))).toBe(
      "command line: config parsing error in vif: unrecognized argument in `colour=blue'",
    );
    expect(parseVifSpec(['bridge=br0', 'mac=00:16:3e:00:00:01'], { strict: true }).vif).toMatchObject({
      bridge: 'br0',
      mac: '00:16:3e:00:00:01',
    });
  });

  it('network-attach words are not split on commas', () => {
    expect(parseVifSpec(['ip=10.0.0.1,10.0.0.2'], { strict: true }).vif.ip).toBe('10.0.0.1,10.0.0.2');
  });

  it("passes xl's COLO keys through", () => {
    expect(parseVifSpec('forwarddev=eth2,colo_checkpoint_port=9000').vif.colo).toEqual({
      forwarddev: 'eth2',
      colo_checkpoint_port: '9000',
    });
  });

  it.each([
    ['mac=00:16:3e:00:00', "Invalid parameter `mac'"],
    ['mac=00:16:3e:00:00:0g', "Invalid parameter `mac'"],
    ['mac=00:16:3e:00:00:100', "Invalid parameter `mac'"],
    ['type=ioemux', "Invalid parameter `type'"],
    ['devid=x', 'failed to convert "x" to number'],
    ['mtu=-1', 'failed to convert "-1" to number'],
    ['vlan=5000', "Invalid parameter `vlan': VLAN 5000 is outside 1..4094"],
  ])('refuses %s', (word, msg) => {
    expect(refusal(() => parseVifSpec(word))).toBe(`command line: config parsing error in vif: ${msg} in \`${word}'`);
  });
});

describe('MAC addresses', () => {
  it('are six groups of hex digits, normalised to lowercase pairs', () => {
    expect(parseMac('0:16:3E:a:b:c')).toBe('00:16:3e:0a:0b:0c');
    expect(parseMac('00-16-3e-00-00-01')).toBeUndefined();
  });

  it("randomXenMac: Xen's OUI 00:16:3e and the top bit of the fourth byte clear, as libxl generates them", () => {
    expect(randomXenMac(() => Uint8Array.of(0xff, 0xab, 0x01))).toBe('00:16:3e:7f:ab:01');
    expect(randomXenMac(() => Uint8Array.of(0x80, 0x00, 0x00))).toBe('00:16:3e:00:00:00');
  });
});

describe('vif rate', () => {
  // check-xl-vif-parse: each group gives the same rate_bytes_per_interval / rate_interval_usecs
  it.each([
    [['16000000b/s', '16000000b/s@50ms', '2000000B/s', '2000000B/s@50ms'], 100000, 50000],
    [['16Kb/s', '16Kb/s@50ms', '2KB/s', '2KB/s@50ms'], 100, 50000],
    [['16Mb/s', '16Mb/s@50ms', '2MB/s', '2MB/s@50ms'], 100000, 50000],
    [['8Gb/s', '8Gb/s@50ms', '1GB/s', '1GB/s@50ms'], 50000000, 50000],
    [['80Mb/s@1s', '10MB/s@1s'], 10000000, 1000000],
  ])('%j', (rates, bytesPerInterval, intervalUsecs) => {
    for (const r of rates) expect(parseVifRate(r)).toEqual({ bytesPerInterval, intervalUsecs });
  });

  it("the man page's examples; a bare interval is seconds", () => {
    expect(parseVifRate('1MB/s@20ms')).toEqual({ bytesPerInterval: 20000, intervalUsecs: 20000 });
    expect(parseVifRate('250KB/s')).toEqual({ bytesPerInterval: 12500, intervalUsecs: 50000 });
    // libxlutil: 10Mb/s@10 = 12500000 per 10000000 us, @10m = 12500 per 10000, @100u = 125 per 100
    expect(parseVifRate('10Mb/s@10')).toEqual({ bytesPerInterval: 12500000, intervalUsecs: 10000000 });
    expect(parseVifRate('10Mb/s@10m')).toEqual({ bytesPerInterval: 12500, intervalUsecs: 10000 });
    expect(parseVifRate('10Mb/s@100u')).toEqual({ bytesPerInterval: 125, intervalUsecs: 100 });
  });

  it('reads numbers as strtoull base 0 does: 010 is octal (libxlutil: 010Mb/s = 50000 per 50 ms)', () => {
    expect(parseVifRate('010Mb/s')).toEqual({ bytesPerInterval: 50000, intervalUsecs: 50000 });
  });

  // check-xl-vif-parse's failing cases, with libxlutil's messages
  it.each([
    ['foo', 'invalid rate', 'foo'],
    ['10MB', 'invalid rate', '10MB'],
    ['10MB/m', 'invalid rate', '10MB/m'],
    ['10ZB/s', 'invalid rate', '10ZB/s'],
    ['10ZB/m', 'invalid rate', '10ZB/m'],
    ['4294967296b/s', 'rate overflow', '4294967296b/s'],
    ['4294967296Kb/s', 'rate overflow', '4294967296Kb/s'],
    ['4294967296Mb/s', 'rate overflow', '4294967296Mb/s'],
    ['4294967296Gb/s', 'rate overflow', '4294967296Gb/s'],
    ['0B/s', 'rate overflow', '0B/s'],
    ['10Mb/s@foo', 'invalid replenishment interval', 'foo'],
    ['10Mb/s@10h', 'invalid replenishment interval', '10h'],
    ['10MB/s@foo', 'invalid replenishment interval', 'foo'],
    ['10MB/s@10h', 'invalid replenishment interval', '10h'],
    ['1B/s@4294967296us', 'replenishment interval overflow', '4294967296us'],
    ['1B/s@4294968ms', 'replenishment interval overflow', '4294968ms'],
    ['1B/s@4295s', 'replenishment interval overflow', '4295s'],
    ['1B/s@0us', 'replenishment interval overflow', '0us'],
    ['4294967295GB/s@5us', 'rate overflow', '4294967295GB/s@5us'],
    ['4296MB/s@4294s', 'rate overflow', '4296MB/s@4294s'],
    ['@', 'no rate specified', '@'],
    ['10Mb/s@', 'invalid replenishment interval', ''],
  ])('refuses %s', (rate, msg, what) => {
    expect(refusal(() => parseVifRate(rate))).toBe(`command line: config parsing error in vif: ${msg} in \`${what}'`);
  });

  it('a rate in a vif spec fails with where the spec was written', () => {
    expect(refusal(() => parseVifSpec('rate=10MB', { where: { source: 'vm.cfg', line: 2, column: 7 } }))).toBe(
      "vm.cfg:2:7: config parsing error in vif: invalid rate in `10MB'",
    );
  });
});

describe('vlan', () => {
  it("reads the man page's examples", () => {
    expect(parseVlan('10')).toEqual({ pvid: 10, members: [{ vid: 10, untagged: true }] });
    expect(parseVlan('10p/20')).toEqual({
      pvid: 10,
      members: [
        { vid: 10, untagged: true },
        { vid: 20, untagged: false },
      ],
    });
    const plus = parseVlan('10p/100+10x4');
    expect(typeof plus !== 'string' && plus.members.map((m) => m.vid)).toEqual([10, 100, 110, 120, 130, 140]);
  });

  it('reads ranges and untagged marks', () => {
    const r = parseVlan('1p/5-7u/9');
    expect(r).toEqual({
      pvid: 1,
      members: [
        { vid: 1, untagged: true },
        { vid: 5, untagged: true },
        { vid: 6, untagged: true },
        { vid: 7, untagged: true },
        { vid: 9, untagged: false },
      ],
    });
  });

  it.each([
    ['0', 'VLAN 0 is outside 1..4094'],
    ['10/20', 'one VLAN id must be marked as the PVID with `p`'],
    ['10p/20p', 'more than one PVID (10 and 20)'],
    ['7-5', "range `7-5' runs backwards"],
    ['1p/4090-4095', "range `4090-4095' is outside 1..4094"],
    ['1p/4000+100x1', "`4000+100x1' goes beyond VLAN 4094"],
    ['10q', "`10q' is not a VLAN id, a range a-b or v+OFFSETxCOUNT"],
    ['', "`' is not a VLAN id, a range a-b or v+OFFSETxCOUNT"],
  ])('refuses %j', (spec, why) => expect(parseVlan(spec)).toBe(why));
});

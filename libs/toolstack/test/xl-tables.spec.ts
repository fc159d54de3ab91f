import {
  formatXlBlockList,
  formatXlInfo,
  formatXlNetworkList,
  formatXlUptime,
  formatXlVcpuList,
  NOT_DESTROYING_DOMAIN_0,
  domainDoesNotExist,
  resolveDomain,
  ToolstackError,
} from '@dominion/toolstack';

describe('xl device lists', () => {
  it('block-list: %-5d %-3d %-6d %-5d %-6d %-8d %-30s', () => {
    const out = formatXlBlockList([
      {
        devid: 51712,
        backendDomid: 0,
        frontendDomid: 5,
        state: 4,
        evtch: 9,
        ringRef: 8,
        backendPath: '/local/domain/0/backend/vbd/5/51712',
      },
    ]);
    expect(out.split('\n')).toEqual([
      'Vdev  BE  handle state evt-ch ring-ref BE-path                       ',
      '51712 0   5      4     9      8        /local/domain/0/backend/vbd/5/51712',
      '',
    ]);
  });

  it('block-list prints -1 for a ring not yet published', () => {
    const out = formatXlBlockList([{ devid: 51728, backendDomid: 0, frontendDomid: 5, state: 1, backendPath: '/x' }]);
    expect(out.split('\n')[1]).toBe('51728 0   5      1     -1     -1       /x                            ');
  });

  it('network-list: %-3d %-2d <mac>%6d %5d %6d %5d/%-11d %-30s', () => {
    const out = formatXlNetworkList([
      {
        devid: 0,
        backendDomid: 0,
        mac: '00:16:3e:01:02:03',
        state: 4,
        evtch: 10,
        txRingRef: 768,
        rxRingRef: 769,
        backendPath: '/local/domain/0/backend/vif/5/0',
      },
    ]);
    expect(out.split('\n')).toEqual([
      'Idx BE Mac Addr.         handle state evt-ch   tx-/rx-ring-ref BE-path                       ',
      '0   0  00:16:3e:01:02:03     0     4     10   768/769         /local/domain/0/backend/vif/5/0',
      '',
    ]);
  });
});

describe('xl info, vcpu-list, uptime', () => {
  it('info prints only what it has, as %-23s: %s', () => {
    const out = formatXlInfo({
      host: 'dom0',
      physinfo: { nr_cpus: 2, total_memkb: 24 * 1024 * 1024, free_memkb: 1024 * 1023 + 1023, nr_domains: 1 },
    });
    expect(out).toBe(
      'host                   : dom0\n' +
        'nr_cpus                : 2\n' +
        'total_memory           : 24576\n' +
        'free_memory            : 1023\n' +
        'xend_config_format     : 4\n',
    );
  });

  it('vcpu-list', () => {
    const out = formatXlVcpuList([
      { name: 'Domain-0', domid: 0, vcpu: 0, cpu: 1, online: true, running: true, blocked: false, time: 12.34 },
      { name: 'g', domid: 3, vcpu: 1, cpu: 0, online: false, running: false, blocked: false, time: 0 },
    ]);
    expect(out.split('\n')).toEqual([
      'Name                                ID  VCPU   CPU State   Time(s) Affinity (Hard / Soft)',
      'Domain-0                             0     0     1   r--       12.3  all / all',
      'g                                    3     1     -   --p        0.0  all / all',
      '',
    ]);
  });

  it('uptime', () => {
    const out = formatXlUptime([
      { name: 'Domain-0', domid: 0, uptimeSeconds: 2 * 86400 + 3 * 3600 + 4 * 60 + 5 },
      { name: 'g', domid: 3, uptimeSeconds: 65 },
    ]);
    expect(out.split('\n')).toEqual([
      'Name                                ID Uptime',
      'Domain-0                             0 2 days,  3:04:05',
      'g                                    3  0:01:05',
      '',
    ]);
  });
});

describe('naming domains', () => {
  const doms = [
    { domid: 0, name: 'Domain-0' },
    { domid: 3, name: 'web' },
  ];
  it('takes a name or a number', () => {
    expect(resolveDomain('web', doms)).toBe(3);
    expect(resolveDomain('0', doms)).toBe(0);
    // a number is a domid whether or not it exists; xl list then says so
    expect(resolveDomain('99', doms)).toBe(99);
    expect(domainDoesNotExist(99)).toBe("Error: Domain '99' does not exist.");
  });

  it('refuses an unknown name in xl words', () => {
    expect(() => resolveDomain('foo', doms)).toThrow(
      new ToolstackError('ESRCH', 'foo is an invalid domain identifier (rc=-6)'),
    );
  });

  it('knows xl destroy 0 refusal', () => {
    expect(NOT_DESTROYING_DOMAIN_0).toBe('Not destroying domain 0; use -f to force.');
  });
});

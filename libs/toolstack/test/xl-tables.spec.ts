import {
  formatXlBlockList,
  formatXlInfo,
  formatXlNetworkList,
  formatXlUptime,
  formatXlUptimeShort,
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
        'max_cpu_id             : 1\n' +
        'nr_nodes               : 1\n' +
        'total_memory           : 24576\n' +
        'free_memory            : 1023\n' +
        'sharing_freed_memory   : 0\n' +
        'sharing_used_memory    : 0\n' +
        'outstanding_claims     : 0\n' +
        'free_cpus              : 0\n' +
        'xend_config_format     : 4\n',
    );
  });

  it('info <name> prints the value of each line starting with the name, as maybe_printf does', () => {
    const physinfo = { nr_cpus: 2, total_memkb: 24 * 1024 * 1024, free_memkb: 1024, nr_domains: 1 };
    expect(formatXlInfo({ host: 'dom0', physinfo }, 'total_memory')).toBe('24576\n');
    expect(formatXlInfo({ host: 'dom0', physinfo }, 'nr_')).toBe('2\n1\n'); // nr_cpus, nr_nodes
    expect(formatXlInfo({ host: 'dom0', physinfo }, 'nosuch')).toBe('');
  });

  it('vcpu-list', () => {
    const out = formatXlVcpuList([
      { name: 'Domain-0', domid: 0, vcpu: 0, cpu: 1, online: true, running: true, blocked: false, time: 12.34 },
      { name: 'g', domid: 3, vcpu: 1, cpu: 0, online: false, running: false, blocked: false, time: 0 },
    ]);
    // from xl_vcpu.c's printf formats, field by field:
    // "%-32s %5u %5u" then "%5u %3c%c- " (online) or "%5c %3c%cp " (offline), "%9.1f  ", "all / all"
    expect(out.split('\n')).toEqual([
      'Name                             ' +
        '   ID ' +
        ' VCPU ' +
        '  CPU ' +
        'State ' +
        '  Time(s) ' +
        'Affinity (Hard / Soft)',
      'Domain-0                        ' +
        ' ' +
        '    0' +
        ' ' +
        '    0' +
        '    1' +
        ' ' +
        '  r' +
        '-' +
        '- ' +
        '     12.3' +
        '  ' +
        'all / all',
      'g                               ' +
        ' ' +
        '    3' +
        ' ' +
        '    1' +
        '    -' +
        ' ' +
        '  -' +
        '-' +
        'p ' +
        '      0.0' +
        '  ' +
        'all / all',
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

  it('uptime -s: " HH:MM:SS up <uptime to the minute>, name (id)", no header', () => {
    const now = new Date(2026, 10, 25, 9, 5, 7); // local time, as strftime(localtime())
    expect(
      formatXlUptimeShort(
        [
          { name: 'Domain-0', domid: 0, uptimeSeconds: 86400 + 3 * 3600 + 4 * 60 + 5 },
          { name: 'g', domid: 3, uptimeSeconds: 65 },
        ],
        now,
      ),
    ).toBe(' 09:05:07 up 1 day,  3:04, Domain-0 (0)\n 09:05:07 up  0:01, g (3)\n');
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

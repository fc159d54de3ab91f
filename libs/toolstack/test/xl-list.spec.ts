import type { DomainInfo } from '@dominion/hypervisor';
import { formatXlList, formatXlListLong, XL_LIST_HEADER, xlListRow, cFixed1 } from '@dominion/toolstack';

function dom(over: Partial<DomainInfo>): DomainInfo {
  return {
    domid: 0,
    name: 'Domain-0',
    uuid: '00000000-0000-0000-0000-000000000000',
    type: 'pv',
    privilege: 'control',
    running: true,
    blocked: false,
    paused: false,
    shutdown: false,
    dying: false,
    current_memkb: 768000,
    max_memkb: 768000,
    target_memkb: 768000,
    vcpu_online: 4,
    weight: 256,
    cap: 0,
    cpu_time: 11794.3,
    max_event_channels: 1023,
    created_at: 0,
    ...over,
  };
}

describe('xl list', () => {
  // Hand-written from xl_info.c: "Name" then 40 spaces (ID ends at column 46), then ID, 3 spaces, Mem,
  // a space, VCPUs, TAB, State, TAB, Time(s).
  it('prints the header as xl does', () => {
    expect(XL_LIST_HEADER).toBe('Name                                        ID   Mem VCPUs\tState\tTime(s)');
  });

  it('prints Domain-0 as %-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f', () => {
    //  name: 8 chars + 32 blanks | " " + "    0" | " " + "  750" | " " + "    4" | 5 blanks | r----- | 2 blanks | " 11794.3"
    expect(xlListRow(dom({}))).toBe('Domain-0                                     0   750     4     r-----   11794.3');
  });

  it('shows a crashed, preserved domain as ---sc- and rounds an exact tie to even like glibc', () => {
    const row = xlListRow(
      dom({
        domid: 7,
        name: 'guest-20261125T1040Z',
        running: false,
        shutdown: true,
        shutdown_code: 3,
        current_memkb: 131072,
        vcpu_online: 1,
        cpu_time: 0.25,
      }),
    );
    expect(row).toBe('guest-20261125T1040Z                         7   128     1     ---sc-       0.2');
  });

  it('does not truncate a long name and rounds memory down to MiB', () => {
    const name = 'a-very-long-domain-name-that-is-over-forty-chars';
    const row = xlListRow(
      dom({ domid: 12, name, current_memkb: 2047, vcpu_online: 2, paused: true, running: false, cpu_time: 3.04 }),
    );
    expect(row).toBe(`${name}    12     1     2     --p---       3.0`);
  });

  it('lists Domain-0 first, each line ending with a newline', () => {
    const out = formatXlList([dom({ domid: 3, name: 'g', cpu_time: 1 }), dom({})]);
    const lines = out.split('\n');
    expect(lines[0]).toBe(XL_LIST_HEADER);
    expect(lines[1].startsWith('Domain-0 ')).toBe(true);
    expect(lines[2].startsWith('g ')).toBe(true);
    expect(lines[3]).toBe('');
  });

  it('%.1f matches glibc on ties and non-ties', () => {
    expect([0.25, 0.75, 0.15, 2.35, 11794.3, 0].map(cFixed1)).toEqual(['0.2', '0.8', '0.1', '2.4', '11794.3', '0.0']);
  });

  it('-l prints [{ domid, config }] as 4-space-indented JSON', () => {
    const out = formatXlListLong([{ info: dom({}) }]);
    expect(out.startsWith('[\n    {\n        "domid": 0,\n        "config": {\n            "c_info": {\n')).toBe(true);
    const parsed = JSON.parse(out) as { domid: number; config: { b_info: { max_memkb: number } } }[];
    expect(parsed[0].config.b_info.max_memkb).toBe(768000);
  });
});

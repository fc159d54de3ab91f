// `xl info`: `%-23s: %s` lines in xl_info.c's order. Only keys Dominion can fill honestly are printed;
// the rest (cpu_mhz, hw_caps, numa and cc_* details…) are left out rather than invented.
import type { PhysInfo } from '@dominion/hypervisor';
import { pad } from './c-format.js';

export interface XlInfoInput {
  /** uname's nodename, release, version, machine of the host dom0 runs on. */
  host: string;
  release?: string;
  version?: string;
  machine?: string;
  physinfo: PhysInfo;
  xen?: { major: number; minor: number; extra: string; caps?: string; scheduler?: string; commandline?: string };
}

export function formatXlInfo(i: XlInfoInput): string {
  const MiB = (kib: number) => Math.floor(kib / 1024);
  const rows: [string, string | number | undefined][] = [
    ['host', i.host],
    ['release', i.release],
    ['version', i.version],
    ['machine', i.machine],
    ['nr_cpus', i.physinfo.nr_cpus],
    ['total_memory', MiB(i.physinfo.total_memkb)],
    ['free_memory', MiB(i.physinfo.free_memkb)],
    ['xen_major', i.xen?.major],
    ['xen_minor', i.xen?.minor],
    ['xen_extra', i.xen?.extra],
    ['xen_version', i.xen && `${i.xen.major}.${i.xen.minor}${i.xen.extra}`],
    ['xen_caps', i.xen?.caps],
    ['xen_scheduler', i.xen?.scheduler],
    ['xen_pagesize', i.xen && 4096],
    ['xen_commandline', i.xen?.commandline],
    ['xend_config_format', 4],
  ];
  return rows
    .filter((r): r is [string, string | number] => r[1] !== undefined)
    .map(([k, v]) => `${pad(k, 23, true)}: ${v}\n`)
    .join('');
}

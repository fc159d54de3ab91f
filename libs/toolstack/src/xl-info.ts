// `xl info [name]`: `%-23s: %s` lines in xl_info.c's order (node, physinfo, xen, xend_config_format). Only
// keys Dominion can fill honestly are printed: max_cpu_id is nr_cpus - 1, there is one NUMA node, no page
// sharing, no claims, and every CPU is in Pool-0 (free_cpus 0); the rest (cpu_mhz, hw_caps, topology, cc_*
// details…) are left out rather than invented. With a name, only that line's value is printed (maybe_printf).
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

export function formatXlInfo(i: XlInfoInput, only?: string): string {
  const MiB = (kib: number) => Math.floor(kib / 1024);
  const rows: [string, string | number | undefined][] = [
    ['host', i.host],
    ['release', i.release],
    ['version', i.version],
    ['machine', i.machine],
    ['nr_cpus', i.physinfo.nr_cpus],
    ['max_cpu_id', i.physinfo.nr_cpus - 1],
    ['nr_nodes', 1],
    ['total_memory', MiB(i.physinfo.total_memkb)],
    ['free_memory', MiB(i.physinfo.free_memkb)],
    ['sharing_freed_memory', 0],
    ['sharing_used_memory', 0],
    ['outstanding_claims', 0],
    ['free_cpus', 0],
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
  const lines = rows
    .filter((r): r is [string, string | number] => r[1] !== undefined)
    .map(([k, v]) => `${pad(k, 23, true)}: ${v}\n`);
  // maybe_printf: a line whose text starts with the name (a prefix is enough), printed after ": "
  if (only !== undefined)
    return lines
      .filter((l) => l.startsWith(only))
      .map((l) => l.slice(25))
      .join('');
  return lines.join('');
}

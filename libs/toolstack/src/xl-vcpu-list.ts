// `xl vcpu-list` (xl_vcpu.c): header `%-32s %5s %5s %5s %5s %9s %s`, rows `%-32s %5u %5u %5u   %c%c%c  %9.1f  <hard> / <soft>`;
// an offline vCPU prints `-` for its CPU and `p` in the third state column. Affinity is `all` for a
// full mask (Dominion pins nothing).
import { cFixed1, pad } from './c-format.js';

export const XL_VCPU_LIST_HEADER = `${pad('Name', 32, true)} ${pad('ID', 5)} ${pad('VCPU', 5)} ${pad('CPU', 5)} ${pad('State', 5)} ${pad('Time(s)', 9)} Affinity (Hard / Soft)`;

export interface VcpuRow {
  name: string;
  domid: number;
  vcpu: number;
  cpu: number;
  online: boolean;
  running: boolean;
  blocked: boolean;
  /** seconds */
  time: number;
}

export function xlVcpuListRow(v: VcpuRow): string {
  const state = (v.online && v.running ? 'r' : '-') + (v.blocked ? 'b' : '-') + (v.online ? '-' : 'p');
  return `${pad(v.name, 32, true)} ${pad(v.domid, 5)} ${pad(v.vcpu, 5)} ${pad(v.online ? v.cpu : '-', 5)}   ${state}  ${pad(cFixed1(v.time), 9)}  all / all`;
}

export function formatXlVcpuList(rows: readonly VcpuRow[]): string {
  return [XL_VCPU_LIST_HEADER, ...rows.map(xlVcpuListRow)].map((l) => `${l}\n`).join('');
}

// `xl vcpu-list` (xl_vcpu.c print_vcpuinfo): header `%-32s %5s %5s %5s %5s %9s %s`; a row is
// `%-32s %5u %5u` (name, domid, vcpu) then `%5u %3c%c- ` (cpu, running, blocked: no space before the cpu,
// so the row does not line up with the header, as in xl), or `%5c %3c%cp ` with '-' for an offline vCPU,
// then `%9.1f  ` and the hard / soft affinity. Affinity is `all` for a full mask (Dominion pins nothing).
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
  const head = `${pad(v.name, 32, true)} ${pad(v.domid, 5)} ${pad(v.vcpu, 5)}`;
  const cpuState = v.online
    ? `${pad(v.cpu, 5)} ${pad(v.running ? 'r' : '-', 3)}${v.blocked ? 'b' : '-'}- `
    : `${pad('-', 5)} ${pad('-', 3)}-p `;
  return `${head}${cpuState}${pad(cFixed1(v.time), 9)}  all / all`;
}

export function formatXlVcpuList(rows: readonly VcpuRow[]): string {
  return [XL_VCPU_LIST_HEADER, ...rows.map(xlVcpuListRow)].map((l) => `${l}\n`).join('');
}

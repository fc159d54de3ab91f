// `xl uptime` (xl_info.c print_uptime): header `%-33s %4s %s`, rows `%-33s %4d ` then
// `[<d> day[s], ]%2d:%02d:%02d`.
import { pad } from './c-format.js';

export const XL_UPTIME_HEADER = `${pad('Name', 33, true)} ${pad('ID', 4)} Uptime`;

export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${days ? `${days} day${days > 1 ? 's' : ''}, ` : ''}${pad(h, 2)}:${two(m)}:${two(s % 60)}`;
}

export function formatXlUptime(rows: readonly { name: string; domid: number; uptimeSeconds: number }[]): string {
  return [
    XL_UPTIME_HEADER,
    ...rows.map((r) => `${pad(r.name, 33, true)} ${pad(r.domid, 4)} ${formatUptime(r.uptimeSeconds)}`),
  ]
    .map((l) => `${l}\n`)
    .join('');
}

// `xl uptime [-s]` (xl_info.c print_uptime): header `%-33s %4s %s`, rows `%-33s %4d %s` with the uptime
// `[<d> day[s], ]%2d:%02d:%02d`; -s prints no header and rows ` <HH:MM:SS now> up <uptime>, <name> (<id>)`
// with the uptime to the minute (`[<d> day[s], ]%2d:%02d`).
import { pad } from './c-format.js';

export const XL_UPTIME_HEADER = `${pad('Name', 33, true)} ${pad('ID', 4)} Uptime`;

const two = (n: number) => String(n).padStart(2, '0');

export function formatUptime(seconds: number, short = false): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${days ? `${days} day${days > 1 ? 's' : ''}, ` : ''}${pad(h, 2)}:${two(m)}${short ? '' : `:${two(s % 60)}`}`;
}

/** `xl uptime -s`: `now` is the local wall-clock time of the host. */
export function formatXlUptimeShort(
  rows: readonly { name: string; domid: number; uptimeSeconds: number }[],
  now: Date,
): string {
  const clock = `${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}`;
  return rows.map((r) => ` ${clock} up ${formatUptime(r.uptimeSeconds, true)}, ${r.name} (${r.domid})\n`).join('');
}

export function formatXlUptime(rows: readonly { name: string; domid: number; uptimeSeconds: number }[]): string {
  return [
    XL_UPTIME_HEADER,
    ...rows.map((r) => `${pad(r.name, 33, true)} ${pad(r.domid, 4)} ${formatUptime(r.uptimeSeconds)}`),
  ]
    .map((l) => `${l}\n`)
    .join('');
}

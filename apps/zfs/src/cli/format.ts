// How zfs and zpool print: OpenZFS's human-readable sizes (zfs_nicebytes) and its column tables.

const UNITS = ['B', 'K', 'M', 'G', 'T', 'P', 'E'];

/** zfs_nicebytes: "0B", "512B", "96K", "1.50G", "20.4M" (at most 5 characters where it can). */
export function nicebytes(num: number): string {
  let n = num;
  let index = 0;
  while (n >= 1024 && index < UNITS.length - 1) {
    n = Math.floor(n / 1024);
    index++;
  }
  const u = UNITS[index];
  const base = 1024 ** index;
  if (index === 0 || num % base === 0) return `${n}${u}`;
  let out = '';
  for (let digits = 2; digits >= 0; digits--) {
    out = `${(num / base).toFixed(digits)}${u}`;
    if (out.length <= 5) break;
  }
  return out;
}

export interface Column {
  header: string;
  right?: boolean;
  /** zprop_width's minimum: 5 for numbers, 8 for health. */
  min?: number;
}

/**
 * Rows as zfs list / zpool list print them: columns two spaces apart, each as wide as its header, minimum
 * and widest value, numbers right-aligned, the last column unpadded. With `scripted` (-H): tabs, no header.
 */
export function table(columns: readonly Column[], rows: readonly string[][], scripted = false): string {
  if (scripted) return rows.map((r) => `${r.join('\t')}\n`).join('');
  const widths = columns.map((c, i) => Math.max(c.header.length, c.min ?? 0, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => {
        const last = i === cells.length - 1;
        if (columns[i].right) return cell.padStart(widths[i]);
        return last ? cell : cell.padEnd(widths[i]);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)].map((l) => `${l}\n`).join('');
}

/** ctime(3) without the newline, as zpool status prints dates: "Wed Nov 25 12:00:00 2026". */
export function ctime(ms: number): string {
  const d = new Date(ms);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()];
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${day} ${mon} ${String(d.getDate()).padStart(2)} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
}

/** zpool status's elapsed time: "00:00:01", or "1 days 02:03:04". */
export function elapsed(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const p2 = (n: number) => String(n).padStart(2, '0');
  const hms = `${p2(Math.floor((s % 86400) / 3600))}:${p2(Math.floor((s % 3600) / 60))}:${p2(s % 60)}`;
  return s >= 86400 ? `${Math.floor(s / 86400)} days ${hms}` : hms;
}

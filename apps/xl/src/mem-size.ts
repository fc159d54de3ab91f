// xl's memory sizes (tools/xl/xl_parse.c parse_mem_size_kb): a decimal number and at most one suffix
// character b/k/m/g/t, case-insensitive; no suffix means MiB (the man page's KiB is not what the code does).

/** KiB, or undefined where xl's parser returns -1 ("invalid memory size"). */
export function parseMemSizeKb(mem: string): number | undefined {
  const m = /^\s*([+-]?[0-9]+)(.?)$/s.exec(mem);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (!Number.isSafeInteger(n)) return undefined;
  const shifts: Record<string, number> = { t: 30, g: 20, '': 10, m: 10, k: 0 };
  const suffix = m[2].toLowerCase();
  if (suffix === 'b') return Math.floor(n / 1024);
  const s = shifts[suffix];
  if (s === undefined) return undefined;
  const kb = n * 2 ** s;
  return kb === -1 || !Number.isSafeInteger(kb) ? undefined : kb;
}

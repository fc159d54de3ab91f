// Number formats of the tools the shell imitates: util-linux's size_to_human_string (lsblk's SIZE),
// gnulib's human_readable (dd's byte counts and rate) and printf's %g (dd's seconds).

const LSBLK_SUFFIX = ['B', 'K', 'M', 'G', 'T', 'P', 'E'];

/** lsblk's SIZE: 1G, 1.5G, 100M, 512B (powers of 1024, one decimal rounded half up, no trailing .0). */
export function lsblkSize(bytes: number): string {
  let exp = 0;
  while (exp < 6 && bytes >= 2 ** (10 * (exp + 1))) exp++;
  const shift = 2 ** (10 * exp);
  let dec = Math.floor(bytes / shift);
  let frac = bytes - dec * shift;
  if (frac) {
    frac = Math.floor((frac * 1000) / shift); // three digits
    frac = Math.floor((frac + 50) / 100) * 10; // rounded to one digit, kept as two
    if (frac === 100) {
      dec++;
      frac = 0;
    }
  }
  const suffix = LSBLK_SUFFIX[exp];
  if (!frac) return `${dec}${suffix}`;
  return `${dec}.${String(frac).padStart(2, '0').replace(/0$/, '')}${suffix}`;
}

const SI_PREFIX = ['', 'k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
const IEC_PREFIX = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi'];

/**
 * human_readable() with human_autoscale | human_round_to_nearest | human_space_before_unit | human_SI |
 * human_B, as dd prints sizes: "512 B", "4.1 kB", "2.0 MiB", "170 MB". Below 10 one decimal, else none.
 */
export function humanSize(amount: number, base: 1000 | 1024): string {
  const prefixes = base === 1000 ? SI_PREFIX : IEC_PREFIX;
  let exp = 0;
  let v = amount;
  while (v >= base && exp < prefixes.length - 1) {
    v /= base;
    exp++;
  }
  let text: string;
  if (exp === 0) text = String(Math.round(v));
  else if (Math.round(v * 10) / 10 < 10) text = (Math.round(v * 10) / 10).toFixed(1);
  else {
    const r = Math.round(v);
    if (r >= base && exp < prefixes.length - 1) {
      exp++;
      text = '1.0';
    } else text = String(r);
  }
  return `${text} ${prefixes[exp]}B`;
}

/** printf("%g"): six significant digits, no trailing zeros, an exponent below 1e-4 or from 1e6. */
export function formatG(x: number): string {
  if (x === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(x)));
  const strip = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= 6) {
    const [m, e] = x.toExponential(5).split('e');
    const n = Number(e);
    return `${strip(m)}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  return strip(x.toFixed(Math.max(0, 5 - exp)));
}

/** dd's last line: bytes copied, with SI and IEC sizes (when they have a prefix), seconds and rate. */
export function ddTransferLine(bytes: number, seconds: number): string {
  const si = humanSize(bytes, 1000);
  const iec = humanSize(bytes, 1024);
  const rate = seconds > 0 ? `${humanSize(bytes / seconds, 1000)}/s` : 'Infinity B/s';
  const s = `${formatG(seconds)} s`;
  const lacksPrefix = (h: string) => / B$/.test(h);
  if (lacksPrefix(si)) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'} copied, ${s}, ${rate}`;
  if (lacksPrefix(iec)) return `${bytes} bytes (${si}) copied, ${s}, ${rate}`;
  return `${bytes} bytes (${si}, ${iec}) copied, ${s}, ${rate}`;
}

const DD_SUFFIXES: Record<string, number> = {
  '': 1,
  c: 1,
  w: 2,
  b: 512,
  kB: 1000,
  K: 1024,
  KiB: 1024,
  MB: 1000 ** 2,
  M: 1024 ** 2,
  MiB: 1024 ** 2,
  GB: 1000 ** 3,
  G: 1024 ** 3,
  GiB: 1024 ** 3,
  TB: 1000 ** 4,
  T: 1024 ** 4,
  TiB: 1024 ** 4,
};

/** A dd operand number: digits with an optional multiplicative suffix (c w b kB K KiB MB M MiB GB G ...). */
export function parseDdNumber(s: string): number | undefined {
  const m = /^([0-9]+)([A-Za-z]*)$/.exec(s);
  if (!m) return undefined;
  const mult = DD_SUFFIXES[m[2]];
  if (mult === undefined) return undefined;
  const n = Number(m[1]) * mult;
  return Number.isSafeInteger(n) ? n : undefined;
}

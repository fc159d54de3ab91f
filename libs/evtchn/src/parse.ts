/** A decimal u32 in s[from, to) without sign, leading zeros or anything else; -1 if it is not one. */
export function parseDecimal(s: string, from: number, to: number): number {
  const len = to - from;
  if (len <= 0 || len > 10 || (len > 1 && s.charCodeAt(from) === 48)) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n <= 0xffffffff ? n : -1;
}

// The printf conversions xl's tables use. `%Nd`/`%-Ns` pad but never truncate, as C does.
/** `%Ns` (right-justified) or, with `left`, `%-Ns`. */
export function pad(v: string | number, width: number, left = false): string {
  const s = String(v);
  return left ? s.padEnd(width) : s.padStart(width);
}

/**
 * `%.1f`. glibc rounds the exact binary value, an exact tie to even (0.25 -> "0.2"), whereas toFixed
 * takes a tie upwards. A tie at one decimal needs the binary value to end in .25 or .75 (x*4 and x*2
 * are exact), so only those are corrected.
 */
export function cFixed1(x: number): string {
  if (!Number.isFinite(x) || !Number.isInteger(x * 4) || Number.isInteger(x * 2)) return x.toFixed(1);
  const down = Math.floor(x * 10);
  return ((down % 2 === 0 ? down : down + 1) / 10).toFixed(1);
}

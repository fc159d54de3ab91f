// A vif's `rate=RATE/s[@INTERVAL]` as xlu_vif_parse_rate (libxlu_vif.c) reads it: RATE is bytes (B) or
// bits (b) per second with an optional decimal K/M/G (x1000) multiplier, INTERVAL is us, ms or s (a
// bare number is seconds) and defaults to 50 ms; netback gets the credit per interval:
// bytes_per_interval = bytes_per_sec * interval_usecs / 1e6 (XenStore `rate` = "<bytes>,<usecs>").
// Each number is read by strtoull base 0 (so `010` is octal) and must fit 32 bits before scaling.
import { XlCfgError, formatLocation, type XlCfgLocation } from './errors.js';

export interface VifRate {
  /** Credit replenished every interval, in bytes. */
  bytesPerInterval: number;
  /** The replenishment interval, in microseconds. */
  intervalUsecs: number;
}

export const VIF_RATE_DEFAULT_INTERVAL_USECS = 50_000;

const UINT32_MAX = 0xffffffffn;
const UINT64_MAX = (1n << 64n) - 1n;
const BYTES_PER_SEC = /^[0-9]+[GMK]?[Bb]\/s$/;
const INTERVAL = /^[0-9]+[mu]?s?$/;

export function parseVifRate(rate: string, where: XlCfgLocation = { source: 'command line' }): VifRate {
  const err = (msg: string, what: string) =>
    new XlCfgError(`${formatLocation(where)}: config parsing error in vif: ${msg} in \`${what}'`, where);
  const at = rate.indexOf('@');
  const bytes = at < 0 ? rate : rate.slice(0, at);
  const interval = at < 0 ? undefined : rate.slice(at + 1);
  if (bytes === '') throw err('no rate specified', rate);

  if (!BYTES_PER_SEC.test(bytes)) throw err('invalid rate', bytes);
  const b = strtoullPrefix(bytes);
  if (b.value === 0n || b.value > UINT32_MAX) throw err('rate overflow', bytes);
  let perSec = b.value;
  const unit = bytes[b.end];
  if (unit === 'G') perSec *= 1_000_000_000n;
  else if (unit === 'M') perSec *= 1_000_000n;
  else if (unit === 'K') perSec *= 1000n;
  if (unit === 'b' || bytes[b.end + 1] === 'b') perSec /= 8n;

  let usecs = BigInt(VIF_RATE_DEFAULT_INTERVAL_USECS);
  if (interval !== undefined) {
    if (!INTERVAL.test(interval)) throw err('invalid replenishment interval', interval);
    const i = strtoullPrefix(interval);
    if (i.value === 0n || i.value > UINT32_MAX) throw err('replenishment interval overflow', interval);
    const u = interval[i.end];
    usecs = i.value * (u === 's' || u === undefined ? 1_000_000n : u === 'm' ? 1000n : 1n);
    if (usecs > UINT32_MAX) throw err('replenishment interval overflow', interval);
  }
  if (perSec > UINT64_MAX / usecs) throw err('rate overflow', rate);
  const perInterval = (perSec * usecs) / 1_000_000n;
  // libxl carries it in a uint64; a JS number holds it exactly only this far.
  if (perInterval > BigInt(Number.MAX_SAFE_INTEGER)) throw err('rate overflow', rate);
  return { bytesPerInterval: Number(perInterval), intervalUsecs: Number(usecs) };
}

/** strtoull(s, &end, 0) over a string the regex already limited to digits first: the value and where it stopped. */
function strtoullPrefix(s: string): { value: bigint; end: number } {
  const digits = /^[0-9]+/.exec(s)![0];
  if (digits.length > 1 && digits.startsWith('0')) {
    const oct = /^0[0-7]*/.exec(digits)![0];
    return { value: oct.length > 1 ? BigInt(`0o${oct.slice(1)}`) : 0n, end: oct.length };
  }
  return { value: BigInt(digits), end: digits.length };
}

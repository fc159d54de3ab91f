// Numbers as xl reads them: libxlu hands every value to strtol(3)/strtoul(3) with base 0, so `0x1f` is
// hex, `017` octal and `17` decimal. Only the literal syntax is accepted (parseCLiteral, shared with the
// vdev parser of @dominion/blkif); the leading whitespace that the C functions would also skip is refused
// (see the README's "Divergences").
import { parseCLiteral } from '@dominion/blkif';

/** LONG_MIN..LONG_MAX of the LP64 ABI xl runs on. */
export const LONG_MIN = -(1n << 63n);
export const LONG_MAX = (1n << 63n) - 1n;

export type CNumber = { kind: 'ok'; value: bigint } | { kind: 'invalid' } | { kind: 'range' };

/** strtol(text, &ep, 0) with xl's checks: the whole string must be the number, within a C long. */
export function strtolFull(text: string): CNumber {
  const v = parseCLiteral(text);
  if (v === undefined) return { kind: 'invalid' };
  if (v < LONG_MIN || v > LONG_MAX) return { kind: 'range' };
  return { kind: 'ok', value: v };
}

/** A non-negative decimal number (xl's parse_ulong: strtoul base 10), or undefined. */
export function parseDecimal(text: string): bigint | undefined {
  return /^[0-9]+$/.test(text) ? BigInt(text) : undefined;
}

// XenStore payloads are NUL-separated strings. Most requests end with a NUL after the last field; WRITE's
// value is raw bytes after the path's NUL and may itself contain anything.

/** Splits a payload at NULs, dropping the one empty string a trailing NUL leaves. */
export function splitNul(payload: Buffer): string[] {
  if (payload.length === 0) return [];
  const end = payload[payload.length - 1] === 0 ? payload.length - 1 : payload.length;
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < end; i++) {
    if (payload[i] === 0) {
      out.push(payload.toString('utf8', start, i));
      start = i + 1;
    }
  }
  out.push(payload.toString('utf8', start, end));
  return out;
}

/** `a\0b\0c\0`: every field NUL-terminated, as requests are sent. */
export function joinNul(fields: readonly string[]): Buffer {
  return Buffer.from(fields.map((f) => f + '\0').join(''), 'utf8');
}

/** WRITE's payload: `path\0` then the value's raw bytes (no terminator). */
export function splitWrite(payload: Buffer): { path: string; value: Buffer } | undefined {
  const nul = payload.indexOf(0);
  if (nul < 0) return undefined;
  return { path: payload.toString('utf8', 0, nul), value: payload.subarray(nul + 1) };
}

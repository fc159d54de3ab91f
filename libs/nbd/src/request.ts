// Transmission-phase requests: what makes one invalid (with the NBD error proto.md names for it), how a
// structured READ is cut into data and hole runs, and how an export's extents become a BLOCK_STATUS reply.
import { NBD_CMD, NBD_CMD_FLAG, NBD_FLAG, NBD_STATE_ZERO } from './constants.js';
import { NbdError, type NbdErrorKind } from './errors.js';
import type { NbdBlockSize, NbdExport, NbdExtent } from './export.js';
import type { NbdRequestHeader } from './wire.js';

/** The export a connection entered transmission with, and what was agreed for it. */
export interface ServedExport {
  readonly name: string;
  readonly exp: NbdExport;
  readonly size: number;
  readonly blockSize: NbdBlockSize;
  readonly maxPayload: number;
  readonly flags: number;
}

export interface RequestContext {
  readonly structured: boolean;
  /** Export name the last NBD_OPT_SET_META_CONTEXT selected base:allocation for. */
  readonly metaExport: string | undefined;
}

/** A BLOCK_STATUS reply carries at most this many extents; the client asks again for the rest. */
const MAX_EXTENTS = 1 << 16;

/** Throws NbdError whose kind maps to the NBD error proto.md names for each way a request can be wrong. */
export function validateRequest(s: ServedExport, h: NbdRequestHeader, ctx: RequestContext): void {
  const fail = (kind: NbdErrorKind, why: string): never => {
    throw new NbdError(kind, why);
  };
  // E2BIG goes out as NBD_EOVERFLOW (errors.ts).
  const [EINVAL, EPERM, ENOSPC, EOVERFLOW] = ['EINVAL', 'EPERM', 'ENOSPC', 'E2BIG'] as const;
  const F = NBD_CMD_FLAG;
  const fuaOk = (s.flags & NBD_FLAG.NBD_FLAG_SEND_FUA) !== 0 ? F.NBD_CMD_FLAG_FUA : 0;
  const allowed: Record<number, number | undefined> = {
    [NBD_CMD.NBD_CMD_READ]: fuaOk | (ctx.structured ? F.NBD_CMD_FLAG_DF : 0),
    [NBD_CMD.NBD_CMD_WRITE]: fuaOk,
    [NBD_CMD.NBD_CMD_FLUSH]: fuaOk,
    [NBD_CMD.NBD_CMD_TRIM]: fuaOk,
    [NBD_CMD.NBD_CMD_WRITE_ZEROES]: fuaOk | F.NBD_CMD_FLAG_NO_HOLE,
    [NBD_CMD.NBD_CMD_BLOCK_STATUS]: fuaOk | F.NBD_CMD_FLAG_REQ_ONE,
  };
  const mask = allowed[h.type];
  if (mask === undefined) return fail(EINVAL, `unknown command ${h.type}`);
  if ((h.flags & ~mask) !== 0) fail(EINVAL, `command flags 0x${h.flags.toString(16)} not valid for this command`);
  const exp = s.exp;
  const writes =
    h.type === NBD_CMD.NBD_CMD_WRITE || h.type === NBD_CMD.NBD_CMD_TRIM || h.type === NBD_CMD.NBD_CMD_WRITE_ZEROES;
  if (writes && exp.readOnly) fail(EPERM, `export '${s.name}' is read-only`);
  if (h.type === NBD_CMD.NBD_CMD_FLUSH) {
    if (!exp.flush) fail(EINVAL, 'flush is not offered by this export');
    if (h.offset !== 0n || h.length !== 0) fail(EINVAL, 'flush with nonzero offset or length');
    return;
  }
  if (h.type === NBD_CMD.NBD_CMD_TRIM && !exp.trim) fail(EINVAL, 'trim is not offered by this export');
  if (h.type === NBD_CMD.NBD_CMD_WRITE_ZEROES && !exp.writeZeroes)
    fail(EINVAL, 'write zeroes is not offered by this export');
  if (h.type === NBD_CMD.NBD_CMD_BLOCK_STATUS) {
    if (ctx.metaExport !== s.name || !exp.blockStatus) fail(EINVAL, 'no metadata context was selected for this export');
    if (h.length === 0) fail(EINVAL, 'block status of zero length');
  }
  if (h.type === NBD_CMD.NBD_CMD_READ && h.length > s.maxPayload) {
    fail(ctx.structured ? EOVERFLOW : EINVAL, `read of ${h.length} bytes exceeds the maximum payload ${s.maxPayload}`);
  }
  if (h.offset + BigInt(h.length) > BigInt(s.size)) {
    const growing = h.type === NBD_CMD.NBD_CMD_WRITE || h.type === NBD_CMD.NBD_CMD_WRITE_ZEROES;
    fail(growing ? ENOSPC : EINVAL, `range ends past the export size ${s.size}`);
  }
  const min = BigInt(s.blockSize.min);
  if (min > 1n && (h.offset % min !== 0n || BigInt(h.length) % min !== 0n)) {
    fail(EINVAL, `offset or length not aligned to the minimum block size ${s.blockSize.min}`);
  }
}

/** Splits a read into data runs and zero runs using the export's allocation status. */
export async function readRuns(
  exp: NbdExport,
  offset: number,
  len: number,
): Promise<Array<{ offset: number; length: number; zero: boolean }>> {
  const end = offset + len;
  const runs: Array<{ offset: number; length: number; zero: boolean }> = [];
  let at = offset;
  while (at < end) {
    const extents = await exp.blockStatus!(at, end - at);
    if (extents.length === 0) break;
    for (const e of extents) {
      if (at >= end) break;
      if (!(e.length > 0)) return [{ offset, length: len, zero: false }];
      const n = Math.min(e.length, end - at);
      const zero = (e.flags & NBD_STATE_ZERO) !== 0;
      const last = runs[runs.length - 1];
      if (last && last.zero === zero) last.length += n;
      else runs.push({ offset: at, length: n, zero });
      at += n;
    }
  }
  if (at < end) runs.push({ offset: at, length: end - at, zero: false });
  return runs;
}

/**
 * An export's extents as BLOCK_STATUS descriptors: u32 lengths, never past the export's end, one only and
 * no longer than the request with REQ_ONE, and ending where the request is covered.
 */
export function clipExtents(raw: readonly NbdExtent[], s: ServedExport, h: NbdRequestHeader): NbdExtent[] {
  const reqOne = (h.flags & NBD_CMD_FLAG.NBD_CMD_FLAG_REQ_ONE) !== 0;
  const extents: NbdExtent[] = [];
  let sum = 0;
  const limit = s.size - Number(h.offset);
  for (const e of raw) {
    if (!Number.isSafeInteger(e.length) || e.length <= 0) break;
    let length = Math.min(e.length, 0xffffffff - (0xffffffff % s.blockSize.min), limit - sum);
    if (reqOne) length = Math.min(length, h.length);
    if (length <= 0) break;
    extents.push({ length, flags: e.flags >>> 0 });
    sum += length;
    // A cut extent ends the reply: the next one would start where the cut left off, not where it says.
    if (length < e.length || reqOne || sum >= h.length || extents.length >= MAX_EXTENTS) break;
  }
  if (extents.length === 0) throw new NbdError('EIO', 'export reported no extent');
  return extents;
}

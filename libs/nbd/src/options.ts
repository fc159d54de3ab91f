// Decoders of option data (proto.md "Option types"). A malformed one is an NbdError('EINVAL') naming the
// field, which the connection answers with NBD_REP_ERR_INVALID and then keeps haggling.
import { NBD_MAX_STRING } from './constants.js';
import { NbdError } from './errors.js';

export interface NbdInfoRequest {
  readonly name: string;
  /** NBD_INFO_* types asked for, in order. */
  readonly infos: readonly number[];
}

export interface NbdMetaContextRequest {
  readonly name: string;
  readonly queries: readonly string[];
}

function readString(data: Buffer, at: number, length: number, what: string): string {
  if (length > NBD_MAX_STRING) throw new NbdError('EINVAL', `${what}: ${length} bytes exceeds ${NBD_MAX_STRING}`);
  const s = data.toString('utf8', at, at + length);
  if (s.includes('\0')) throw new NbdError('EINVAL', `${what}: contains NUL`);
  return s;
}

/** NBD_OPT_INFO / NBD_OPT_GO: u32 name length, name, u16 count, count x u16 info types. */
export function decodeInfoRequest(data: Buffer, opt: string): NbdInfoRequest {
  if (data.length < 6) throw new NbdError('EINVAL', `${opt}: ${data.length} bytes of data, at least 6 needed`);
  const nameLen = data.readUInt32BE(0);
  if (nameLen > data.length - 6) {
    throw new NbdError('EINVAL', `${opt}: name length ${nameLen} exceeds option data length ${data.length} - 6`);
  }
  const name = readString(data, 4, nameLen, `${opt}: export name`);
  const n = data.readUInt16BE(4 + nameLen);
  if (data.length !== 6 + nameLen + 2 * n) {
    throw new NbdError('EINVAL', `${opt}: ${n} information requests do not fill ${data.length - 6 - nameLen} bytes`);
  }
  const infos: number[] = [];
  for (let i = 0; i < n; i++) infos.push(data.readUInt16BE(6 + nameLen + 2 * i));
  return { name, infos };
}

/** NBD_OPT_{LIST,SET}_META_CONTEXT: u32 name length, name, u32 count, count x (u32 length, query). */
export function decodeMetaContextRequest(data: Buffer, opt: string): NbdMetaContextRequest {
  if (data.length < 8) throw new NbdError('EINVAL', `${opt}: ${data.length} bytes of data, at least 8 needed`);
  const nameLen = data.readUInt32BE(0);
  if (nameLen > data.length - 8) {
    throw new NbdError('EINVAL', `${opt}: name length ${nameLen} exceeds option data length ${data.length} - 8`);
  }
  const name = readString(data, 4, nameLen, `${opt}: export name`);
  let at = 4 + nameLen;
  const n = data.readUInt32BE(at);
  at += 4;
  const queries: string[] = [];
  for (let i = 0; i < n; i++) {
    if (at + 4 > data.length) throw new NbdError('EINVAL', `${opt}: query ${i} of ${n} is past the option data`);
    const qLen = data.readUInt32BE(at);
    at += 4;
    if (qLen > data.length - at)
      throw new NbdError('EINVAL', `${opt}: query ${i} length ${qLen} is past the option data`);
    const q = readString(data, at, qLen, `${opt}: query ${i}`);
    if (!q.includes(':')) throw new NbdError('EINVAL', `${opt}: query '${q}' has no namespace colon`);
    queries.push(q);
    at += qLen;
  }
  if (at !== data.length) throw new NbdError('EINVAL', `${opt}: ${data.length - at} bytes after the last query`);
  return { name, queries };
}

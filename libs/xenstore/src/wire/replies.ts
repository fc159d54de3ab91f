// Reading what xenstored sends back. A READ reply is the raw value and needs no parsing.
import { XS, xsTypeName } from '@dominion/abi';
import { XenstoreError } from '../errors.js';
import { splitNul } from './fields.js';
import type { XsMessage } from './message.js';
import { parsePerms, type XsPerm } from './perms.js';

function reply(m: XsMessage, what: string): string {
  return `${xsTypeName(m.type)} req_id ${m.reqId} tx_id ${m.txId}: ${what}`;
}

/** The errno name of an XS_ERROR reply (`ENOENT`, or whatever the server wrote), else undefined. */
export function parseErrorReply(m: XsMessage): string | undefined {
  if (m.type !== XS.XS_ERROR) return undefined;
  const nul = m.payload.indexOf(0);
  return m.payload.toString('latin1', 0, nul < 0 ? m.payload.length : nul);
}

/** True for the `OK\0` reply of requests that return no data. */
export function isOkReply(m: XsMessage): boolean {
  return m.type !== XS.XS_ERROR && m.payload.equals(Buffer.from('OK\0', 'latin1'));
}

/** `epath\0token\0` of an XS_WATCH_EVENT. */
export function parseWatchEvent(m: XsMessage): { path: string; token: string } {
  if (m.type !== XS.XS_WATCH_EVENT) throw new XenstoreError('EPROTO', reply(m, 'not a watch event'));
  const f = splitNul(m.payload);
  // Servers may append fields after the token; path and token are the first two.
  if (f.length < 2)
    throw new XenstoreError('EPROTO', reply(m, `watch event has ${f.length} fields, needs path and token`));
  return { path: f[0], token: f[1] };
}

/** `child\0child\0…` -> leaf names; an empty payload is a node without children. */
export function parseDirectoryReply(payload: Buffer): string[] {
  return splitNul(payload);
}

export interface XsDirectoryPart {
  /** The node's generation count, as sent: equal across parts means the list did not change in between. */
  generation: string;
  children: string[];
  /** True when this part ends the list (it carries the extra empty string). */
  done: boolean;
  /** The offset to ask for next: the request's offset plus the children bytes in this part. */
  nextOffset: number;
}

/**
 * `gencnt\0child\0child\0…`, and the part that ends the list has one more NUL (an empty string) after
 * the last child's. A node without children, or an offset past the end, answers `gencnt\0\0`.
 */
export function parseDirectoryPartReply(payload: Buffer, offset = 0): XsDirectoryPart {
  const nul = payload.indexOf(0);
  if (nul <= 0)
    throw new XenstoreError('EPROTO', `XS_DIRECTORY_PART reply at offset ${offset} has no generation count`);
  const generation = payload.toString('latin1', 0, nul);
  const rest = payload.subarray(nul + 1);
  if (rest.length === 0 || rest[rest.length - 1] !== 0) {
    throw new XenstoreError(
      'EPROTO',
      `XS_DIRECTORY_PART reply at offset ${offset}: children list is not NUL-terminated`,
    );
  }
  const done = rest.length === 1 || rest[rest.length - 2] === 0;
  const body = done ? rest.subarray(0, rest.length - 1) : rest;
  return { generation, children: splitNul(body), done, nextOffset: offset + body.length };
}

/** `<txid>\0` -> the id to put in tx_id. 0 means "no transaction", so a server never hands it out. */
export function parseTransactionStartReply(m: XsMessage): number {
  const f = splitNul(m.payload);
  const id = f.length === 1 && /^[1-9][0-9]{0,9}$/.test(f[0]) ? Number(f[0]) : NaN;
  if (!(id <= 0xffffffff)) {
    throw new XenstoreError(
      'EPROTO',
      reply(m, `transaction id ${JSON.stringify(m.payload.toString('latin1'))} is not a u32`),
    );
  }
  return id;
}

/** `T\0` / `F\0` of IS_DOMAIN_INTRODUCED. */
export function parseIsDomainIntroducedReply(m: XsMessage): boolean {
  const f = splitNul(m.payload);
  if (f.length === 1 && (f[0] === 'T' || f[0] === 'F')) return f[0] === 'T';
  throw new XenstoreError('EPROTO', reply(m, `expected T or F, got ${JSON.stringify(m.payload.toString('latin1'))}`));
}

/** `perm\0perm\0…`; entry 0 is the owner. A malformed entry is EINVAL naming it. */
export function parseGetPermsReply(payload: Buffer): XsPerm[] {
  return parsePerms(splitNul(payload));
}

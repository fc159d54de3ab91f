// What the toolstack asks XenStore to do, as data: the service applies a list in one transaction with
// its XenStore client, so the layout logic stays testable without a store.
import { isDomId } from '@dominion/abi';
import type { XsPerm } from '@dominion/xenstore';
import { ToolstackError } from './errors.js';

/** WRITE path|value, then SET_PERMS path|perms (libxl__xs_mknod writes "" then sets perms on a directory). */
export interface XsWrite {
  path: string;
  value: string;
  /** Entry 0 is the owner and the default for unlisted domains. */
  perms: XsPerm[];
}

/** One step of a toolstack transaction: a write (with its perms), new perms alone, or a recursive removal. */
export type XsOp =
  | ({ op: 'write' } & XsWrite)
  | { op: 'set-perms'; path: string; perms: XsPerm[] }
  /** A node already gone is fine. */
  | { op: 'rm'; path: string };

export const writeOps = (writes: readonly XsWrite[]): XsOp[] => writes.map((w) => ({ op: 'write', ...w }));

/** Owner `owner`, nobody else (`n<owner>`), plus read access for `readers` (`r<reader>`). */
export function ownedBy(owner: number, ...readers: number[]): XsPerm[] {
  return [{ domid: owner, perm: 'n' }, ...readers.map((domid): XsPerm => ({ domid, perm: 'r' }))];
}

export function checkDomid(domid: number, what: string): void {
  if (!isDomId(domid)) throw new ToolstackError('EINVAL', `${what} ${String(domid)} is not a domid (0..32751)`);
}

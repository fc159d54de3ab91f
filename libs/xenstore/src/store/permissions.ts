// Node permissions (docs/misc/xenstore.txt "Permissions", core.c perm_for_conn): entry 0 names the owner,
// who always has full access, and its letter is the default for every domain not listed; the first later
// entry naming the caller decides otherwise. Privileged (dom0 toolstack) callers bypass all checks.
import type { XsPerm } from '../wire/perms.js';

export const XS_PERM_NONE = 0;
export const XS_PERM_READ = 1;
export const XS_PERM_WRITE = 2;
/** Only the owner (or a privileged caller) may change a node's permissions. */
export const XS_PERM_OWNER = 4;

const FULL = XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;

export interface XsCaller {
  readonly domid: number;
  readonly privileged: boolean;
}

function letterBits(p: XsPerm): number {
  switch (p.perm) {
    case 'r':
      return XS_PERM_READ;
    case 'w':
      return XS_PERM_WRITE;
    case 'b':
      return XS_PERM_READ | XS_PERM_WRITE;
    default:
      return XS_PERM_NONE;
  }
}

/** The XS_PERM_* bits `caller` has on a node with `perms`. */
export function permFor(caller: XsCaller, perms: readonly XsPerm[]): number {
  if (caller.privileged || perms[0].domid === caller.domid) return FULL;
  for (let i = 1; i < perms.length; i++) if (perms[i].domid === caller.domid) return letterBits(perms[i]);
  return letterBits(perms[0]);
}

export function canRead(caller: XsCaller, perms: readonly XsPerm[]): boolean {
  return (permFor(caller, perms) & XS_PERM_READ) !== 0;
}

/**
 * Permissions of a node created below `parent`: a copy of the parent's, except that a node created by an
 * unprivileged domain is owned by that domain (core.c construct_node). `creator` null = privileged.
 */
export function inheritPerms(parent: readonly XsPerm[], creator: number | null): readonly XsPerm[] {
  if (creator === null || parent[0].domid === creator) return parent;
  return [{ domid: creator, perm: parent[0].perm }, ...parent.slice(1)];
}

export function samePerms(a: readonly XsPerm[], b: readonly XsPerm[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i].domid !== b[i].domid || a[i].perm !== b[i].perm) return false;
  return true;
}

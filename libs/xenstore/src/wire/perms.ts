// A node's permissions travel as strings `<letter><domid>` (GET_PERMS reply, SET_PERMS request): `r` read,
// `w` write, `b` both, `n` none. Entry 0 names the owner and its letter is the default for unlisted domains.
import { DOMID_MAX, isDomId } from '@dominion/abi';
import { XenstoreError } from '../errors.js';

export type PermLetter = 'r' | 'w' | 'b' | 'n';
export const PERM_LETTERS: readonly PermLetter[] = ['r', 'w', 'b', 'n'];

export interface XsPerm {
  domid: number;
  perm: PermLetter;
}

function isPermLetter(c: string): c is PermLetter {
  return (PERM_LETTERS as readonly string[]).includes(c);
}

// Canonical decimal only (what libxenstore's `%u` writes), so a perm round-trips byte for byte.
const DOMID_DIGITS = /^(0|[1-9][0-9]{0,4})$/;

/** `b5` -> { perm: 'b', domid: 5 }; anything else is EINVAL naming the entry. */
export function parsePerm(s: string): XsPerm {
  const letter = s.charAt(0);
  const digits = s.slice(1);
  if (!isPermLetter(letter)) {
    throw new XenstoreError('EINVAL', `permission ${JSON.stringify(s)}: letter must be one of r, w, b, n`);
  }
  const domid = Number(digits);
  if (!DOMID_DIGITS.test(digits) || !isDomId(domid)) {
    throw new XenstoreError('EINVAL', `permission ${JSON.stringify(s)}: ${JSON.stringify(digits)} is not a domid`);
  }
  return { perm: letter, domid };
}

export function formatPerm(p: XsPerm): string {
  const letter: string = p.perm; // callers outside TypeScript's reach may pass anything
  if (!isPermLetter(letter)) {
    throw new XenstoreError(
      'EINVAL',
      `permission letter ${JSON.stringify(letter)} for domid ${p.domid} is not r, w, b or n`,
    );
  }
  if (!Number.isInteger(p.domid) || p.domid < 0 || p.domid > DOMID_MAX) {
    throw new XenstoreError('EINVAL', `permission ${letter}${p.domid}: ${p.domid} is not a domid`);
  }
  return `${p.perm}${p.domid}`;
}

/** A whole list; a node always has at least its owner entry, so an empty list is EINVAL too. */
export function parsePerms(fields: readonly string[]): XsPerm[] {
  if (fields.length === 0)
    throw new XenstoreError('EINVAL', 'permission list is empty: entry 0 (the owner) is required');
  return fields.map((f, i) => {
    try {
      return parsePerm(f);
    } catch (e) {
      if (e instanceof XenstoreError) throw new XenstoreError('EINVAL', `entry ${i}: ${e.message}`);
      throw e;
    }
  });
}

export function formatPerms(perms: readonly XsPerm[]): string[] {
  if (perms.length === 0)
    throw new XenstoreError('EINVAL', 'permission list is empty: entry 0 (the owner) is required');
  return perms.map(formatPerm);
}

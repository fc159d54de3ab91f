// Journal records: each describes one committed state change, in JSON, so that replaying them in order
// onto the state they followed (applyJournal) rebuilds the same store. Values are base64 (they are bytes).
import { isDomId } from '@dominion/abi';
import { formatPerms, parsePerms } from '../wire/perms.js';
import { XenstoreError } from '../errors.js';
import { canonicalize } from './path.js';
import { isQuotaValue, XS_QUOTA_NAMES } from './quota.js';
import type { XsTxOp } from './transaction.js';

export type XsJournalOp =
  | { op: 'write'; path: string; value: string }
  | { op: 'mkdir'; path: string }
  | { op: 'rm'; path: string }
  | { op: 'set_perms'; path: string; perms: string[] };

/**
 * `creator` is the domid that owns nodes the change creates, or null when a privileged caller made it
 * (created nodes then inherit their parent's owner).
 */
export type JournalRecord =
  | (XsJournalOp & { creator: number | null })
  | { op: 'transaction'; creator: number | null; ops: XsJournalOp[] }
  | { op: 'introduce'; domid: number }
  | { op: 'release'; domid: number }
  | { op: 'set_quota'; domid: number | null; quota: string; value: number };

export function journalOp(op: XsTxOp): XsJournalOp {
  switch (op.op) {
    case 'write':
      return { op: 'write', path: op.path, value: op.value.toString('base64') };
    case 'set_perms':
      return { op: 'set_perms', path: op.path, perms: formatPerms(op.perms) };
    default:
      return { op: op.op, path: op.path };
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function bad(what: string): never {
  throw new XenstoreError('EINVAL', `journal record: ${what}`);
}

function str(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (typeof v !== 'string') bad(`${k} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function domid(v: unknown, what: string): number {
  if (!isDomId(v)) bad(`${what} ${JSON.stringify(v)} is not a domid`);
  return v;
}

function creator(o: Record<string, unknown>): number | null {
  return o.creator === null ? null : domid(o.creator, 'creator');
}

const OPS = new Set(['write', 'mkdir', 'rm', 'set_perms']);

function parseOp(o: Record<string, unknown>): XsTxOp {
  if (typeof o.op !== 'string' || !OPS.has(o.op)) bad(`unknown op ${JSON.stringify(o.op)}`);
  const path = str(o, 'path');
  try {
    if (canonicalize(path, '/', o.op === 'set_perms', 0) !== path) bad(`path ${JSON.stringify(path)} is not absolute`);
  } catch (e) {
    bad((e as Error).message);
  }
  switch (o.op) {
    case 'write': {
      const v = str(o, 'value');
      if (!BASE64.test(v)) bad(`value of ${path} is not base64`);
      return { op: 'write', path, value: Buffer.from(v, 'base64') };
    }
    case 'mkdir':
    case 'rm':
      return { op: o.op, path };
    case 'set_perms': {
      if (!Array.isArray(o.perms) || !o.perms.every((p) => typeof p === 'string'))
        bad(`perms of ${path} must be strings`);
      try {
        return { op: 'set_perms', path, perms: parsePerms(o.perms) };
      } catch (e) {
        return bad(`perms of ${path}: ${(e as Error).message}`);
      }
    }
    default:
      return bad(`unknown op ${JSON.stringify(o.op)}`);
  }
}

function obj(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${JSON.stringify(v)} is not an object`);
  return v as Record<string, unknown>;
}

/** A record checked and decoded for replay. */
export type DecodedRecord =
  | { op: 'ops'; creator: number | null; ops: XsTxOp[] }
  | { op: 'introduce' | 'release'; domid: number }
  | { op: 'set_quota'; domid: number | null; quota: string; value: number };

export function decodeRecord(rec: unknown): DecodedRecord {
  const o = obj(rec);
  switch (o.op) {
    case 'transaction':
      if (!Array.isArray(o.ops)) bad('transaction ops must be an array');
      return { op: 'ops', creator: creator(o), ops: o.ops.map((x) => parseOp(obj(x))) };
    case 'introduce':
    case 'release':
      return { op: o.op, domid: domid(o.domid, 'domid') };
    case 'set_quota': {
      const quota = str(o, 'quota');
      if (!(quota in XS_QUOTA_NAMES)) bad(`unknown quota ${JSON.stringify(quota)}`);
      if (!isQuotaValue(o.value)) bad(`quota value ${JSON.stringify(o.value)}`);
      return { op: 'set_quota', domid: o.domid === null ? null : domid(o.domid, 'domid'), quota, value: o.value };
    }
    default: {
      const op = parseOp(o);
      return { op: 'ops', creator: creator(o), ops: [op] };
    }
  }
}

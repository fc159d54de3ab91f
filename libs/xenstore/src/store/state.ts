// The persisted form of a store (exportState/importState): the tree in pre-order with children in creation
// order (so an import recreates the listing order), the special nodes' permissions, the introduced domains
// and the quotas. Connections, watches and transactions are not state: they end with their sessions.
import { isDomId } from '@dominion/abi';
import { formatPerms, parsePerms, type XsPerm } from '../wire/perms.js';
import { XenstoreError } from '../errors.js';
import { canonicalize, isSpecialPath } from './path.js';
import { makeQuota, type XsQuota } from './quota.js';

export const XS_STATE_FORMAT = 'dominion.xenstore';
export const XS_STATE_VERSION = 1;

export interface XsStateV1 {
  format: typeof XS_STATE_FORMAT;
  version: typeof XS_STATE_VERSION;
  quota: XsQuota;
  /** Introduced domains (dom0 is always introduced and not listed), each with its quota. */
  domains: { domid: number; quota: XsQuota }[];
  /** [special path, perms] */
  special: [string, string[]][];
  /** [path, value as base64, perms], pre-order from `/`. */
  nodes: [string, string, string[]][];
}

export interface DecodedNode {
  path: string;
  value: Buffer;
  perms: readonly XsPerm[];
}

export interface DecodedState {
  quota: XsQuota;
  domains: { domid: number; quota: XsQuota }[];
  special: DecodedNode[];
  nodes: DecodedNode[];
}

export function encodePerms(perms: readonly XsPerm[]): string[] {
  return formatPerms(perms);
}

function bad(what: string): never {
  throw new XenstoreError('EINVAL', `XenStore state: ${what}`);
}

function perms(v: unknown, where: string): readonly XsPerm[] {
  if (!Array.isArray(v) || !v.every((p) => typeof p === 'string')) bad(`perms of ${where} must be strings`);
  try {
    return parsePerms(v);
  } catch (e) {
    return bad(`perms of ${where}: ${(e as Error).message}`);
  }
}

function quota(v: unknown, where: string): XsQuota {
  if (typeof v !== 'object' || v === null) bad(`${where} quota is not an object`);
  try {
    return makeQuota(v);
  } catch (e) {
    return bad(`${where} quota: ${(e as Error).message}`);
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function decodeState(s: unknown): DecodedState {
  if (typeof s !== 'object' || s === null) bad('not an object');
  const o = s as Record<string, unknown>;
  if (o.format !== XS_STATE_FORMAT || o.version !== XS_STATE_VERSION) {
    bad(
      `format ${JSON.stringify(o.format)} version ${JSON.stringify(o.version)} is not ${XS_STATE_FORMAT} ${XS_STATE_VERSION}`,
    );
  }
  if (!Array.isArray(o.domains) || !Array.isArray(o.special) || !Array.isArray(o.nodes)) {
    bad('domains, special and nodes must be arrays');
  }
  const domains = o.domains.map((d: unknown) => {
    const r = d as { domid?: unknown; quota?: unknown } | null;
    if (!r || !isDomId(r.domid) || r.domid === 0) bad(`domain entry ${JSON.stringify(d)}`);
    return { domid: r.domid, quota: quota(r.quota, `domain ${r.domid}`) };
  });
  const special = o.special.map((e: unknown) => {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || !isSpecialPath(e[0]))
      bad(`special entry ${JSON.stringify(e)}`);
    return { path: canonicalize(e[0], '/', true, 0), value: Buffer.alloc(0), perms: perms(e[1], e[0]) };
  });
  const nodes = o.nodes.map((e: unknown, i: number) => {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'string') bad(`node entry ${i}`);
    const path = e[0];
    if (i === 0 ? path !== '/' : canonicalize(path, '/', false, 0) !== path || path === '/') {
      bad(i === 0 ? 'the first node must be /' : `node ${JSON.stringify(path)} is not an absolute path`);
    }
    if (!BASE64.test(e[1])) bad(`value of ${path} is not base64`);
    return { path, value: Buffer.from(e[1], 'base64'), perms: perms(e[2], path) };
  });
  if (nodes.length === 0) bad('no root node');
  return { quota: quota(o.quota, 'global'), domains, special, nodes };
}

// Per-domain quotas with C xenstored's defaults (tools/xenstored domain.c `quotas[]`). 0 = unlimited.
// A quota of N allows N: N nodes owned, N watches, N open transactions, N nodes accessed by one transaction,
// N permission entries on a node, a node of N accounted bytes, a path of N bytes after /local/domain/<id>/.
// Exceeding one answers ENOSPC, as C xenstored does (oxenstored's EQUOTA is not a Xen error name), except
// path-max, which makes the path invalid (EINVAL). Privileged callers and dom0 are exempt.
import { XenstoreError } from '../errors.js';

export interface XsQuota {
  /** Nodes owned by the domain ("nodes"). */
  nodes: number;
  /** Watches of the domain's connections ("watches"). */
  watches: number;
  /** Open transactions of the domain's connections ("transactions"). */
  transactions: number;
  /** Distinct nodes one transaction may access ("transaction-nodes"). */
  transactionNodes: number;
  /** Entries in one node's permission list ("node-permissions"). */
  nodePermissions: number;
  /** Bytes of a path after any /local/domain/<id>/ prefix ("path-max"). */
  pathMax: number;
  /** Accounted bytes of one node, see nodeSize() ("node-size"). */
  nodeSize: number;
}

export const XS_QUOTA_DEFAULTS: Readonly<XsQuota> = Object.freeze({
  nodes: 1000,
  watches: 128,
  transactions: 10,
  transactionNodes: 1024,
  nodePermissions: 5,
  pathMax: 2048,
  nodeSize: 2048,
});

/** GET_QUOTA / SET_QUOTA names (C xenstored's quota_adm[] names for the quotas this store enforces). */
export const XS_QUOTA_NAMES: Readonly<Record<string, keyof XsQuota>> = Object.freeze({
  nodes: 'nodes',
  watches: 'watches',
  transactions: 'transactions',
  'transaction-nodes': 'transactionNodes',
  'node-permissions': 'nodePermissions',
  'path-max': 'pathMax',
  'node-size': 'nodeSize',
});

/** struct node_hdr (16 bytes) + 8 per permission + value + children names with their NULs, as C accounts a node. */
export function nodeSize(valueLen: number, childBytes: number, nperms: number): number {
  return 16 + 8 * nperms + valueLen + childBytes;
}

export function overQuota(limit: number, value: number): boolean {
  return limit !== 0 && value > limit;
}

export function isQuotaValue(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= 0xfffffffe;
}

/** Defaults overlaid with `partial`, every value checked. */
export function makeQuota(partial: Partial<XsQuota> | undefined, base: Readonly<XsQuota> = XS_QUOTA_DEFAULTS): XsQuota {
  const q: XsQuota = { ...base };
  for (const [k, v] of Object.entries(partial ?? {})) {
    if (!(k in XS_QUOTA_DEFAULTS))
      throw new XenstoreError('EINVAL', `quota ${JSON.stringify(k)} is not a XenStore quota`);
    if (v === undefined) continue;
    if (!isQuotaValue(v))
      throw new XenstoreError('EINVAL', `quota ${k} = ${JSON.stringify(v)} is not an integer in 0..4294967294`);
    q[k as keyof XsQuota] = v;
  }
  return q;
}

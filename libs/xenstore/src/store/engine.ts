// The XenStore engine: xenstored's semantics (tools/xenstored core.c, watch.c, transaction.c, domain.c;
// docs/misc/xenstore.txt) without any I/O. A transport feeds it requests and ships the Outcome: the journal
// to disk, the reply, then the events.
import { DOMID, isDomId, XENSTORE_PAYLOAD_MAX, XS, xsTypeName, type XsdError } from '@dominion/abi';
import { splitNul, splitWrite } from '../wire/fields.js';
import { formatPerms, parsePerms, type XsPerm } from '../wire/perms.js';
import { Connection, type ConnectionHost, type Outcome, type XsConnection, type XsReply } from './connection.js';
import { XenstoreError, xsdErrorOfKind, type XenstoreErrorKind } from '../errors.js';
import { EventList, fireChange, fireRemoved, fireSpecial, type WatchFire } from './events.js';
import { decodeRecord, journalOp, type JournalRecord } from './journal.js';
import { EMPTY_VALUE, type NodeView, type StoreView } from './node.js';
import { baseName, canonicalize, isRelativePath, parentOf } from './path.js';
import {
  inheritPerms,
  permFor,
  samePerms,
  XS_PERM_OWNER,
  XS_PERM_READ,
  XS_PERM_WRITE,
  type XsCaller,
} from './permissions.js';
import { makeQuota, nodeSize, overQuota, XS_QUOTA_NAMES, type XsQuota } from './quota.js';
import { decodeState, encodePerms, XS_STATE_FORMAT, XS_STATE_VERSION, type XsStateV1 } from './state.js';
import { Transaction, type XsTxOp } from './transaction.js';
import { Tree } from './tree.js';
import { WatchRegistry, type Watch } from './watches.js';

export interface XsEngineOptions {
  /** Global quotas (the defaults of newly introduced domains); C xenstored's defaults otherwise. */
  quota?: Partial<XsQuota>;
}

export const XS_INTRODUCE_DOMAIN = '@introduceDomain';
export const XS_RELEASE_DOMAIN = '@releaseDomain';

const OK = Buffer.from('OK\0', 'latin1');
const T = Buffer.from('T\0', 'latin1');
const F = Buffer.from('F\0', 'latin1');
const DOM0_NONE: readonly XsPerm[] = Object.freeze([{ domid: 0, perm: 'n' }]);
const DECIMAL = /^[0-9]+$/;

/** Requests only privileged connections may make (core.c wire_funcs XS_FLAG_PRIV). */
const PRIVILEGED_ONLY = new Set<number>([
  XS.XS_CONTROL,
  XS.XS_INTRODUCE,
  XS.XS_RELEASE,
  XS.XS_IS_DOMAIN_INTRODUCED,
  XS.XS_GET_QUOTA,
  XS.XS_SET_QUOTA,
]);
/** Implemented here; RESUME, SET_TARGET, GET_FEATURE, SET_FEATURE and anything else answer ENOSYS. */
const SUPPORTED = new Set<number>([
  ...PRIVILEGED_ONLY,
  XS.XS_DIRECTORY,
  XS.XS_READ,
  XS.XS_GET_PERMS,
  XS.XS_WATCH,
  XS.XS_UNWATCH,
  XS.XS_TRANSACTION_START,
  XS.XS_TRANSACTION_END,
  XS.XS_GET_DOMAIN_PATH,
  XS.XS_WRITE,
  XS.XS_MKDIR,
  XS.XS_RM,
  XS.XS_SET_PERMS,
  XS.XS_RESET_WATCHES,
  XS.XS_DIRECTORY_PART,
]);

function fail(kind: XenstoreErrorKind, message: string): never {
  throw new XenstoreError(kind, message);
}

function ok(type: number, payload: Buffer = OK, events: WatchFire[] = [], journal: JournalRecord[] = []): Outcome {
  return { reply: { type, payload }, events, journal };
}

function errorReply(kind: XsdError): XsReply {
  return { type: XS.XS_ERROR, payload: Buffer.from(`${kind}\0`, 'latin1') };
}

/** A decimal domid as xenstored parses one (0..65535). */
function parseDomid(s: string, what: string): number {
  const n = DECIMAL.test(s) ? Number(s) : NaN;
  if (!(n <= 0xffff)) fail('EINVAL', `${what}: ${JSON.stringify(s)} is not a domid`);
  return n;
}

function parseUint(s: string, what: string): number {
  const n = DECIMAL.test(s) ? Number(s) : NaN;
  if (!(n <= 0xffffffff)) fail('EINVAL', `${what}: ${JSON.stringify(s)} is not an unsigned decimal`);
  return n;
}

/** Fields of a request that takes exactly `n` NUL-terminated strings. */
function args(payload: Buffer, n: number, what: string): string[] {
  const f = splitNul(payload);
  if (f.length !== n) fail('EINVAL', `${what} takes ${n} argument${n === 1 ? '' : 's'}, got ${f.length}`);
  return f;
}

interface CreatePlan {
  anchor: string;
  missing: string[];
  perms: readonly XsPerm[];
}

export class XenstoreEngine implements ConnectionHost {
  private tree = new Tree();
  private readonly watches = new WatchRegistry();
  private readonly connections = new Map<number, Connection>();
  /** Introduced domains other than dom0, with their quotas (copied from the global ones at introduction). */
  private readonly domains = new Map<number, XsQuota>();
  private quota: XsQuota;
  private nextConnId = 1;
  /** Watches and open transactions per unprivileged domain, for their quotas. */
  private readonly watchCount = new Map<number, number>();
  private readonly txCount = new Map<number, number>();

  constructor(opts?: XsEngineOptions) {
    this.quota = makeQuota(opts?.quota);
    this.layout();
  }

  /** The tree xenstored starts with: /, /local, /local/domain, /tool, /tool/xenstored and the special nodes. */
  private layout(): void {
    this.tree.insert('/', EMPTY_VALUE, DOM0_NONE, true);
    for (const p of ['/local', '/local/domain', '/tool', '/tool/xenstored'])
      this.tree.insert(p, EMPTY_VALUE, DOM0_NONE);
    this.tree.insert(XS_INTRODUCE_DOMAIN, EMPTY_VALUE, DOM0_NONE, true);
    this.tree.insert(XS_RELEASE_DOMAIN, EMPTY_VALUE, DOM0_NONE, true);
  }

  /** A session: privileged (dom0's tools) by default for domid 0 only. */
  connect(domid: number, opts?: { privileged?: boolean }): XsConnection {
    if (!isDomId(domid)) fail('EINVAL', `connect: ${String(domid)} is not a domid`);
    const c = new Connection(this, this.nextConnId++, domid, opts?.privileged ?? domid === 0);
    this.connections.set(c.id, c);
    return c;
  }

  /** Domains introduced other than dom0, in introduction order. */
  introducedDomains(): number[] {
    return [...this.domains.keys()];
  }

  isIntroduced(domid: number): boolean {
    return domid === 0 || this.domains.has(domid);
  }

  /** A domain was created (XS_INTRODUCE): fires @introduceDomain. Introducing it again changes nothing. */
  introduceDomain(domid: number): Omit<Outcome, 'reply'> {
    if (!isDomId(domid)) fail('EINVAL', `introduce: ${String(domid)} is not a domid`);
    if (this.isIntroduced(domid)) return { events: [], journal: [] };
    this.domains.set(domid, { ...this.quota });
    const out = new EventList();
    fireSpecial(this.watches, out, XS_INTRODUCE_DOMAIN, domid, this.specialPerms(XS_INTRODUCE_DOMAIN));
    return { events: out.list, journal: [{ op: 'introduce', domid }] };
  }

  /**
   * A domain died (XS_RELEASE): its sessions lose their watches and transactions, the nodes it owns are
   * removed (firing watches), entries naming it leave other nodes' permissions (so a later domain reusing
   * the domid inherits nothing), and @releaseDomain fires.
   */
  releaseDomain(domid: number): Omit<Outcome, 'reply'> {
    if (!isDomId(domid) || domid === 0) fail('EINVAL', `release: ${domid} is not a releasable domid`);
    if (!this.domains.has(domid)) fail('ENOENT', `release: domain ${domid} is not introduced`);
    for (const c of this.connections.values()) {
      if (c.domid === domid) {
        this.dropWatches(c);
        this.dropTransactions(c);
      }
    }
    const out = new EventList();
    this.removeDomainNodes(domid, out);
    this.domains.delete(domid);
    fireSpecial(this.watches, out, XS_RELEASE_DOMAIN, domid, this.specialPerms(XS_RELEASE_DOMAIN));
    return { events: out.list, journal: [{ op: 'release', domid }] };
  }

  private removeDomainNodes(domid: number, out: EventList | undefined): void {
    const owned: string[] = [];
    const named: string[] = [];
    this.tree.walk('/', (name, n) => {
      if (name !== '/' && n.perms[0].domid === domid) {
        owned.push(name);
        return false;
      }
      if (n.perms.some((p, i) => i > 0 && p.domid === domid)) named.push(name);
    });
    for (const s of [XS_INTRODUCE_DOMAIN, XS_RELEASE_DOMAIN]) {
      if (this.tree.get(s)?.perms.some((p, i) => i > 0 && p.domid === domid)) named.push(s);
    }
    for (const name of named) {
      const n = this.tree.get(name);
      if (n)
        this.tree.setPerms(
          name,
          n.perms.filter((p, i) => i === 0 || p.domid !== domid),
        );
    }
    for (const name of owned) this.removeLive(name, out);
  }

  private specialPerms(name: string): readonly XsPerm[] {
    return this.tree.get(name)?.perms ?? DOM0_NONE;
  }

  private quotaOf(domid: number): XsQuota {
    return this.domains.get(domid) ?? this.quota;
  }

  /** Quotas do not apply to privileged callers nor to dom0. */
  private exempt(c: XsCaller): boolean {
    return c.privileged || c.domid === 0;
  }

  // ---- connections ----

  disconnect(c: Connection): void {
    if (c.closed) return;
    this.dropWatches(c);
    this.dropTransactions(c);
    c.closed = true;
    this.connections.delete(c.id);
  }

  private count(m: Map<number, number>, c: Connection, n: number): void {
    if (this.exempt(c)) return;
    const v = (m.get(c.domid) ?? 0) + n;
    if (v === 0) m.delete(c.domid);
    else m.set(c.domid, v);
  }

  private dropWatches(c: Connection): void {
    for (const w of c.watches.values()) this.watches.remove(w);
    this.count(this.watchCount, c, -c.watches.size);
    c.watches.clear();
  }

  private dropTransactions(c: Connection): void {
    this.count(this.txCount, c, -c.transactions.size);
    c.transactions.clear();
  }

  dispatch(c: Connection, type: number, txId: number, payload: Buffer): Outcome {
    try {
      if (c.closed) fail('EINVAL', `connection ${c.id} (domain ${c.domid}) is closed`);
      if (payload.length > XENSTORE_PAYLOAD_MAX) {
        fail('E2BIG', `${xsTypeName(type)}: payload of ${payload.length} bytes exceeds ${XENSTORE_PAYLOAD_MAX}`);
      }
      if (!SUPPORTED.has(type)) fail('ENOSYS', `${xsTypeName(type)} is not supported`);
      if (PRIVILEGED_ONLY.has(type) && !c.privileged) {
        fail('EACCES', `${xsTypeName(type)} is for privileged connections, not domain ${c.domid}`);
      }
      // Transactions do not nest: TRANSACTION_START carries tx_id 0 (xenstore.txt).
      if (type === XS.XS_TRANSACTION_START && txId !== 0) {
        fail('EBUSY', `TRANSACTION_START with tx_id ${txId}: transactions do not nest`);
      }
      let tx: Transaction | undefined;
      if (txId !== 0 && type !== XS.XS_WATCH && type !== XS.XS_UNWATCH) {
        tx = c.transactions.get(txId);
        if (!tx) fail('ENOENT', `${xsTypeName(type)}: no transaction ${txId} on connection ${c.id}`);
      }
      return this.request(c, type, tx, payload);
    } catch (e) {
      // A refusal (the engine's or the wire codec's) answers its name; anything unexpected is xenstored's own failure.
      const kind = e instanceof XenstoreError ? xsdErrorOfKind(e.kind) : 'EIO';
      const detail = e instanceof XenstoreError ? e.message : `internal error: ${String(e)}`;
      return {
        reply: errorReply(kind),
        events: [],
        journal: [],
        detail: `${xsTypeName(type)} from domain ${c.domid}: ${detail}`,
      };
    }
  }

  private request(c: Connection, type: number, tx: Transaction | undefined, payload: Buffer): Outcome {
    switch (type) {
      case XS.XS_READ:
        return this.read(c, tx, payload);
      case XS.XS_WRITE:
        return this.write(c, tx, payload);
      case XS.XS_MKDIR:
        return this.mkdir(c, tx, payload);
      case XS.XS_RM:
        return this.rm(c, tx, payload);
      case XS.XS_DIRECTORY:
        return this.directory(c, tx, payload);
      case XS.XS_DIRECTORY_PART:
        return this.directoryPart(c, tx, payload);
      case XS.XS_GET_PERMS:
        return this.getPerms(c, tx, payload);
      case XS.XS_SET_PERMS:
        return this.setPerms(c, tx, payload);
      case XS.XS_WATCH:
        return this.watch(c, payload);
      case XS.XS_UNWATCH:
        return this.unwatch(c, payload);
      case XS.XS_TRANSACTION_START:
        return this.transactionStart(c);
      case XS.XS_TRANSACTION_END:
        return this.transactionEnd(c, tx, payload);
      case XS.XS_INTRODUCE: {
        const f = splitNul(payload);
        if (f.length < 3) fail('EINVAL', `INTRODUCE takes domid, gfn and evtchn, got ${f.length} arguments`);
        const domid = parseDomid(f[0], 'INTRODUCE domid');
        if (parseUint(f[2], 'INTRODUCE evtchn') === 0) fail('EINVAL', 'INTRODUCE: event channel 0 is not a port');
        return { reply: { type, payload: OK }, ...this.introduceDomain(domid) };
      }
      case XS.XS_RELEASE:
        return {
          reply: { type, payload: OK },
          ...this.releaseDomain(parseDomid(args(payload, 1, 'RELEASE')[0], 'RELEASE')),
        };
      case XS.XS_GET_DOMAIN_PATH: {
        const domid = parseDomid(args(payload, 1, 'GET_DOMAIN_PATH')[0], 'GET_DOMAIN_PATH');
        return ok(type, Buffer.from(`/local/domain/${domid}\0`, 'latin1'));
      }
      case XS.XS_IS_DOMAIN_INTRODUCED: {
        const domid = parseDomid(args(payload, 1, 'IS_DOMAIN_INTRODUCED')[0], 'IS_DOMAIN_INTRODUCED');
        return ok(type, domid === DOMID.DOMID_SELF || this.isIntroduced(domid) ? T : F);
      }
      case XS.XS_RESET_WATCHES:
        this.dropWatches(c);
        this.dropTransactions(c);
        return ok(type);
      case XS.XS_CONTROL:
        return this.control(payload);
      case XS.XS_GET_QUOTA:
        return this.getQuota(payload);
      case XS.XS_SET_QUOTA:
        return this.setQuota(payload);
      default:
        return fail('ENOSYS', `${xsTypeName(type)} is not supported`);
    }
  }

  // ---- path and permission checks ----

  private canon(c: Connection, path: string, allowSpecial: boolean): string {
    return canonicalize(path, c.home, allowSpecial, this.exempt(c) ? 0 : this.quotaOf(c.domid).pathMax);
  }

  /** The node at `name` if the caller has all of `perm` on it (core.c get_node). */
  private need(view: StoreView, c: Connection, name: string, perm: number, what: string, listing = false): NodeView {
    const n = listing ? view.list(name) : view.get(name);
    if (!n) throw this.absent(view, c, name, perm, what);
    if ((permFor(c, n.perms) & perm) !== perm)
      fail('EACCES', `${what}: domain ${c.domid} may not ${verb(perm)} ${name}`);
    return n;
  }

  /**
   * Why `name` cannot be had: ENOENT if the nearest existing ancestor grants the caller `perm`, EACCES
   * otherwise, so that a missing node tells nothing to whom may not look there (core.c errno_from_parents).
   */
  private absent(view: StoreView, c: Connection, name: string, perm: number, what: string): XenstoreError {
    let p = name;
    let a: NodeView | undefined;
    do {
      p = parentOf(p);
      a = view.get(p);
    } while (!a && p !== '/');
    if (a && (permFor(c, a.perms) & perm) !== 0) return new XenstoreError('ENOENT', `${what}: ${name} does not exist`);
    return new XenstoreError(
      'EACCES',
      `${what}: domain ${c.domid} may not ${verb(perm)} below ${p} (looking for ${name})`,
    );
  }

  private checkSize(c: Connection, name: string, size: number): void {
    if (this.exempt(c)) return;
    const q = this.quotaOf(c.domid).nodeSize;
    if (overQuota(q, size)) {
      fail('ENOSPC', `node ${name} would be ${size} bytes, over domain ${c.domid}'s node-size quota of ${q}`);
    }
  }

  /** Creating `name` and its missing parents: checks write access, node quota and node sizes. */
  private plan(view: StoreView, c: Connection, name: string, valueLen: number, what: string): CreatePlan {
    const missing = [name];
    let anchor = parentOf(name);
    let a = view.get(anchor);
    while (!a) {
      missing.push(anchor);
      anchor = parentOf(anchor);
      a = view.get(anchor);
    }
    if ((permFor(c, a.perms) & XS_PERM_WRITE) === 0) {
      fail('EACCES', `${what}: domain ${c.domid} may not create ${name} below ${anchor}`);
    }
    missing.reverse();
    const perms = inheritPerms(a.perms, c.privileged ? null : c.domid);
    if (!this.exempt(c)) {
      const q = this.quotaOf(c.domid);
      const owned = view.ownedBy(c.domid) + missing.length;
      if (overQuota(q.nodes, owned)) {
        fail('ENOSPC', `${what} ${name}: domain ${c.domid} would own ${owned} nodes, over its quota of ${q.nodes}`);
      }
      this.checkSize(
        c,
        anchor,
        nodeSize(a.value.length, a.childBytes + baseName(missing[0]).length + 1, a.perms.length),
      );
      for (let i = 0; i + 1 < missing.length; i++) {
        this.checkSize(c, missing[i], nodeSize(0, baseName(missing[i + 1]).length + 1, perms.length));
      }
      this.checkSize(c, name, nodeSize(valueLen, 0, perms.length));
    }
    return { anchor, missing, perms };
  }

  // ---- requests on nodes ----

  private read(c: Connection, tx: Transaction | undefined, payload: Buffer): Outcome {
    const name = this.canon(c, args(payload, 1, 'READ')[0], false);
    return ok(XS.XS_READ, this.need(tx ?? this.tree, c, name, XS_PERM_READ, 'READ').value);
  }

  private write(c: Connection, tx: Transaction | undefined, payload: Buffer): Outcome {
    const w = splitWrite(payload);
    if (!w) fail('EINVAL', 'WRITE: payload has no NUL after the path');
    const name = this.canon(c, w.path, false);
    // The payload buffer belongs to the transport: keep a copy.
    const value = Buffer.from(w.value);
    const view = tx ?? this.tree;
    const n = view.get(name);
    if (n) {
      if ((permFor(c, n.perms) & XS_PERM_WRITE) === 0) fail('EACCES', `WRITE: domain ${c.domid} may not write ${name}`);
      this.checkSize(c, name, nodeSize(value.length, n.childBytes, n.perms.length));
      if (tx) tx.setValue(name, value);
    } else {
      const p = this.plan(view, c, name, value.length, 'WRITE');
      if (tx) tx.create(p.anchor, p.missing, value, p.perms);
    }
    return this.commitOp(c, tx, XS.XS_WRITE, { op: 'write', path: name, value });
  }

  private mkdir(c: Connection, tx: Transaction | undefined, payload: Buffer): Outcome {
    const name = this.canon(c, args(payload, 1, 'MKDIR')[0], false);
    const view = tx ?? this.tree;
    const n = view.get(name);
    if (n) {
      if ((permFor(c, n.perms) & XS_PERM_WRITE) === 0) fail('EACCES', `MKDIR: domain ${c.domid} may not write ${name}`);
      return ok(XS.XS_MKDIR);
    }
    const p = this.plan(view, c, name, 0, 'MKDIR');
    if (tx) tx.create(p.anchor, p.missing, EMPTY_VALUE, p.perms);
    return this.commitOp(c, tx, XS.XS_MKDIR, { op: 'mkdir', path: name });
  }

  private rm(c: Connection, tx: Transaction | undefined, payload: Buffer): Outcome {
    const name = this.canon(c, args(payload, 1, 'RM')[0], false);
    const view = tx ?? this.tree;
    const n = view.get(name);
    if (!n) {
      const e = this.absent(view, c, name, XS_PERM_WRITE, 'RM');
      if (e.kind !== 'ENOENT') throw e;
      // Removing what is not there is fine, if its parent is.
      if (view.get(parentOf(name))) return ok(XS.XS_RM);
      fail('ENOENT', `RM: parent of ${name} does not exist`);
    }
    if ((permFor(c, n.perms) & XS_PERM_WRITE) === 0) fail('EACCES', `RM: domain ${c.domid} may not remove ${name}`);
    if (name === '/') fail('EINVAL', 'RM: the root cannot be removed');
    if (tx) tx.remove(name);
    return this.commitOp(c, tx, XS.XS_RM, { op: 'rm', path: name });
  }

  private directory(c: Connection, tx: Transaction | undefined, payload: Buffer): Outcome {
    const name = this.canon(c, args(payload, 1, 'DIRECTORY')[0], false);
    const n = this.need(tx ?? this.tree, c, name, XS_PERM_READ, 'DIRECTORY', true);
    // Too long for one reply: xenstore-ls then pages with DIRECTORY_PART.
    if (n.childBytes > XENSTORE_PAYLOAD_MAX) {
      fail('E2BIG', `DIRECTORY ${name}: ${n.childBytes} bytes of children exceed ${XENSTORE_PAYLOAD_MAX}`);
    }
    return ok(XS.XS_DIRECTORY, childrenBuffer(n));
  }

  /**
   * `path\0offset\0` -> `gencnt\0` and the children list from byte `offset`, cut at a child boundary so the
   * reply fits; the part that reaches the end carries one more NUL (core.c send_directory_part).
   */
  private directoryPart(c: Connection, tx: Transaction | undefined, payload: Buffer): Outcome {
    const f = args(payload, 2, 'DIRECTORY_PART');
    const name = this.canon(c, f[0], false);
    const off = parseUint(f[1], 'DIRECTORY_PART offset');
    const n = this.need(tx ?? this.tree, c, name, XS_PERM_READ, 'DIRECTORY_PART', true);
    const gen = Buffer.from(`${n.cgen}\0`, 'latin1');
    if (off >= n.childBytes) return ok(XS.XS_DIRECTORY_PART, Buffer.concat([gen, Buffer.alloc(1)]));
    const all = childrenBuffer(n);
    const max = XENSTORE_PAYLOAD_MAX - gen.length - 1;
    let len = 0;
    for (;;) {
      const end = all.indexOf(0, off + len);
      const next = end - off + 1;
      if (next > max && len > 0) break;
      len = next;
      if (off + len >= all.length) break;
    }
    const last = off + len >= all.length;
    return ok(
      XS.XS_DIRECTORY_PART,
      Buffer.concat([gen, all.subarray(off, off + len), last ? Buffer.alloc(1) : EMPTY_VALUE]),
    );
  }

  private getPerms(c: Connection, tx: Transaction | undefined, payload: Buffer): Outcome {
    const name = this.canon(c, args(payload, 1, 'GET_PERMS')[0], true);
    const n = this.need(tx ?? this.tree, c, name, XS_PERM_READ, 'GET_PERMS');
    return ok(XS.XS_GET_PERMS, Buffer.from(formatPerms(n.perms).join('\0') + '\0', 'latin1'));
  }

  private setPerms(c: Connection, tx: Transaction | undefined, payload: Buffer): Outcome {
    const f = splitNul(payload);
    if (f.length < 2) fail('EINVAL', 'SET_PERMS takes a path and at least one permission');
    const count = f.length - 1;
    if (!this.exempt(c)) {
      const q = this.quotaOf(c.domid).nodePermissions;
      if (overQuota(q, count))
        fail('ENOSPC', `SET_PERMS: ${count} permissions exceed domain ${c.domid}'s quota of ${q}`);
    }
    const perms = parsePerms(f.slice(1));
    const name = this.canon(c, f[0], true);
    const view = tx ?? this.tree;
    const n = this.need(view, c, name, XS_PERM_WRITE | XS_PERM_OWNER, 'SET_PERMS');
    if (!c.privileged && perms[0].domid !== n.perms[0].domid) {
      fail(
        'EPERM',
        `SET_PERMS ${name}: only a privileged domain may change the owner (${n.perms[0].domid} to ${perms[0].domid})`,
      );
    }
    this.checkSize(c, name, nodeSize(n.value.length, n.childBytes, perms.length));
    if (tx) tx.setPerms(name, perms);
    return this.commitOp(c, tx, XS.XS_SET_PERMS, { op: 'set_perms', path: name, perms });
  }

  /** A checked change: into the transaction's log, or applied now with its events and journal record. */
  private commitOp(c: Connection, tx: Transaction | undefined, type: number, op: XsTxOp): Outcome {
    if (tx) {
      tx.ops.push(op);
      return ok(type);
    }
    const out = new EventList();
    const creator = c.privileged ? null : c.domid;
    this.apply(op, creator, out);
    return ok(type, OK, out.list, [{ ...journalOp(op), creator }]);
  }

  /**
   * Applies a change to the live tree, without checks (they were made against the same state): a request
   * just checked, a committing transaction's log, or a journal record.
   */
  private apply(op: XsTxOp, creator: number | null, out: EventList | undefined): void {
    const t = this.tree;
    switch (op.op) {
      case 'write':
      case 'mkdir': {
        if (t.get(op.path)) {
          if (op.op === 'mkdir') return;
          t.setValue(op.path, op.value);
        } else {
          const missing = [op.path];
          let anchor = parentOf(op.path);
          let a = t.get(anchor);
          while (!a) {
            missing.push(anchor);
            anchor = parentOf(anchor);
            a = t.get(anchor);
          }
          t.create(
            anchor,
            missing.reverse(),
            op.op === 'write' ? op.value : EMPTY_VALUE,
            inheritPerms(a.perms, creator),
          );
        }
        if (out) fireChange(this.watches, out, op.path, t.get(op.path)!.perms);
        return;
      }
      case 'rm':
        if (op.path !== '/' && t.get(op.path)) this.removeLive(op.path, out);
        return;
      case 'set_perms': {
        const n = t.get(op.path);
        if (!n) fail('EIO', `store inconsistency: SET_PERMS of absent ${op.path}`);
        const old = n.perms;
        t.setPerms(op.path, op.perms);
        if (out) fireChange(this.watches, out, op.path, op.perms, samePerms(old, op.perms) ? undefined : old);
        return;
      }
    }
  }

  private removeLive(name: string, out: EventList | undefined): void {
    this.tree.remove(
      name,
      out && ((p, node, parent) => fireRemoved(this.watches, out, p, node.perms, parent.perms, p === name)),
    );
  }

  // ---- watches ----

  private watch(c: Connection, payload: Buffer): Outcome {
    const f = splitNul(payload);
    if (f.length !== 2 && f.length !== 3)
      fail('EINVAL', `WATCH takes path, token and an optional depth, got ${f.length} arguments`);
    const depth = f.length === 3 ? parseUint(f[2], 'WATCH depth') : -1;
    const [path, token] = f;
    const name = this.canon(c, path, true);
    const key = `${name}\0${token}`;
    if (c.watches.has(key))
      fail('EEXIST', `WATCH ${name} token ${JSON.stringify(token)} is already set on connection ${c.id}`);
    if (!this.exempt(c)) {
      const q = this.quotaOf(c.domid).watches;
      const n = (this.watchCount.get(c.domid) ?? 0) + 1;
      if (overQuota(q, n))
        fail('ENOSPC', `WATCH ${name}: domain ${c.domid} would have ${n} watches, over its quota of ${q}`);
    }
    const w: Watch = { owner: c, path: name, token, depth, prefixLen: isRelativePath(path) ? c.home.length + 1 : 0 };
    c.watches.set(key, w);
    this.watches.add(w);
    this.count(this.watchCount, c, 1);
    // Fires once at once, with the path as given (watch.c do_watch): delivered after the reply.
    return ok(XS.XS_WATCH, OK, [{ connId: c.id, path: name.slice(w.prefixLen), token }]);
  }

  private unwatch(c: Connection, payload: Buffer): Outcome {
    const [path, token] = args(payload, 2, 'UNWATCH');
    const name = this.canon(c, path, true);
    const key = `${name}\0${token}`;
    const w = c.watches.get(key);
    if (!w) fail('ENOENT', `UNWATCH: no watch ${name} token ${JSON.stringify(token)} on connection ${c.id}`);
    c.watches.delete(key);
    this.watches.remove(w);
    this.count(this.watchCount, c, -1);
    return ok(XS.XS_UNWATCH);
  }

  // ---- transactions ----

  private transactionStart(c: Connection): Outcome {
    const exempt = this.exempt(c);
    const q = this.quotaOf(c.domid);
    if (!exempt) {
      const n = (this.txCount.get(c.domid) ?? 0) + 1;
      if (overQuota(q.transactions, n)) {
        fail(
          'ENOSPC',
          `TRANSACTION_START: domain ${c.domid} would have ${n} transactions, over its quota of ${q.transactions}`,
        );
      }
    }
    const t = new Transaction(this.tree, c.allocTxId(), exempt ? 0 : q.transactionNodes);
    c.transactions.set(t.id, t);
    this.count(this.txCount, c, 1);
    return ok(XS.XS_TRANSACTION_START, Buffer.from(`${t.id}\0`, 'latin1'));
  }

  private transactionEnd(c: Connection, tx: Transaction | undefined, payload: Buffer): Outcome {
    const f = splitNul(payload);
    if (f.length !== 1 || (f[0] !== 'T' && f[0] !== 'F'))
      fail('EINVAL', 'TRANSACTION_END takes T (commit) or F (abort)');
    if (!tx) fail('ENOENT', 'TRANSACTION_END without a transaction id');
    // Whatever happens next, the transaction is over.
    c.transactions.delete(tx.id);
    this.count(this.txCount, c, -1);
    if (f[0] === 'F') return ok(XS.XS_TRANSACTION_END);
    if (!tx.unchanged()) fail('EAGAIN', `TRANSACTION_END: transaction ${tx.id} read nodes that changed since`);
    if (!this.exempt(c)) {
      for (const [owner, d] of tx.ownerDelta()) {
        if (d <= 0 || owner === 0) continue;
        const q = this.quotaOf(owner).nodes;
        if (overQuota(q, this.tree.ownedBy(owner) + d)) {
          fail('ENOSPC', `TRANSACTION_END: domain ${owner} would own more than its quota of ${q} nodes`);
        }
      }
    }
    if (tx.ops.length === 0) return ok(XS.XS_TRANSACTION_END);
    const creator = c.privileged ? null : c.domid;
    const out = new EventList();
    for (const op of tx.ops) this.apply(op, creator, out);
    return ok(XS.XS_TRANSACTION_END, OK, out.list, [{ op: 'transaction', creator, ops: tx.ops.map(journalOp) }]);
  }

  // ---- control and quotas ----

  private control(payload: Buffer): Outcome {
    const f = splitNul(payload);
    const cmd = f[0] ?? '';
    if (cmd === 'check' && f.length === 1) {
      if (!this.tree.verify()) fail('EIO', 'CONTROL check: node accounting is inconsistent');
      return ok(XS.XS_CONTROL);
    }
    if (cmd === 'help' && f.length === 1) {
      return ok(XS.XS_CONTROL, Buffer.from(`${'check'.padEnd(15)} \n${'help'.padEnd(15)} \n\0`, 'latin1'));
    }
    return fail('EINVAL', `CONTROL ${JSON.stringify(cmd)}: supported commands are check and help`);
  }

  private quotaName(name: string): keyof XsQuota {
    const k = XS_QUOTA_NAMES[name];
    if (!k) fail('EINVAL', `quota ${JSON.stringify(name)}: known quotas are ${Object.keys(XS_QUOTA_NAMES).join(', ')}`);
    return k;
  }

  private domainQuota(domid: number): XsQuota {
    if (domid === 0) return this.quota;
    const q = this.domains.get(domid);
    if (!q) fail('ENOENT', `domain ${domid} is not introduced`);
    return q;
  }

  /** `[[domid\0]quota\0]` -> the value, or without arguments the quota names separated by blanks. */
  private getQuota(payload: Buffer): Outcome {
    const f = splitNul(payload);
    if (f.length === 0) return ok(XS.XS_GET_QUOTA, Buffer.from(`${Object.keys(XS_QUOTA_NAMES).join(' ')}\0`, 'latin1'));
    if (f.length > 2) fail('EINVAL', `GET_QUOTA takes at most 2 arguments, got ${f.length}`);
    const q = f.length === 1 ? this.quota : this.domainQuota(parseDomid(f[0], 'GET_QUOTA domid'));
    return ok(XS.XS_GET_QUOTA, Buffer.from(`${q[this.quotaName(f[f.length - 1])]}\0`, 'latin1'));
  }

  /** `[domid\0]quota\0value\0`; without a domid, the global quota (the default of domains introduced later). */
  private setQuota(payload: Buffer): Outcome {
    const f = splitNul(payload);
    if (f.length !== 2 && f.length !== 3)
      fail('EINVAL', `SET_QUOTA takes [domid,] quota and value, got ${f.length} arguments`);
    const domid = f.length === 3 ? parseDomid(f[0], 'SET_QUOTA domid') : null;
    const name = f[f.length - 2];
    const value = parseUint(f[f.length - 1], `SET_QUOTA ${name}`);
    if (value === 0xffffffff) fail('EINVAL', `SET_QUOTA ${name}: ${value} is reserved`);
    this.setQuotaValue(domid, name, value);
    return ok(XS.XS_SET_QUOTA, OK, [], [{ op: 'set_quota', domid, quota: name, value }]);
  }

  private setQuotaValue(domid: number | null, name: string, value: number): void {
    const k = this.quotaName(name);
    (domid === null ? this.quota : this.domainQuota(domid))[k] = value;
  }

  // ---- durability ----

  exportState(): XsStateV1 {
    const nodes: XsStateV1['nodes'] = [];
    this.tree.walk('/', (name, n) => {
      nodes.push([name, n.value.toString('base64'), encodePerms(n.perms)]);
    });
    return {
      format: XS_STATE_FORMAT,
      version: XS_STATE_VERSION,
      quota: { ...this.quota },
      domains: [...this.domains].map(([domid, quota]) => ({ domid, quota: { ...quota } })),
      special: [XS_INTRODUCE_DOMAIN, XS_RELEASE_DOMAIN].map((s) => [s, encodePerms(this.specialPerms(s))]),
      nodes,
    };
  }

  /** An engine holding exported state; `opts.quota`, if given, overrides the saved global quotas. */
  static importState(s: unknown, opts?: XsEngineOptions): XenstoreEngine {
    const d = decodeState(s);
    const e = new XenstoreEngine();
    e.quota = makeQuota(opts?.quota, d.quota);
    for (const dom of d.domains) e.domains.set(dom.domid, dom.quota);
    const tree = new Tree();
    for (const n of d.nodes) tree.insert(n.path, n.value, n.perms, n.path === '/');
    for (const s of [XS_INTRODUCE_DOMAIN, XS_RELEASE_DOMAIN]) {
      const saved = d.special.find((x) => x.path === s);
      tree.insert(s, EMPTY_VALUE, saved?.perms ?? DOM0_NONE, true);
    }
    e.tree = tree;
    return e;
  }

  /** Replays one journal record (written by this engine's outcomes) onto this state. */
  applyJournal(rec: JournalRecord): void {
    const r = decodeRecord(rec);
    switch (r.op) {
      case 'ops':
        for (const op of r.ops) this.apply(op, r.creator, undefined);
        return;
      case 'introduce':
        this.introduceDomain(r.domid);
        return;
      case 'release':
        if (this.domains.has(r.domid)) this.releaseDomain(r.domid);
        return;
      case 'set_quota':
        this.setQuotaValue(r.domid, r.quota, r.value);
        return;
    }
  }
}

function verb(perm: number): string {
  if (perm & XS_PERM_OWNER) return 'change permissions of';
  return perm & XS_PERM_WRITE ? 'write' : 'read';
}

/** `child\0child\0…` in creation order. */
function childrenBuffer(n: NodeView): Buffer {
  const b = Buffer.allocUnsafe(n.childBytes);
  let o = 0;
  for (const c of n.childNames()) {
    o += b.write(c, o, 'latin1');
    b[o++] = 0;
  }
  return b;
}

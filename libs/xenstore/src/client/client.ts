// A domain's XenStore client over NATS: libxenstore's calls, one session per client (its watches and
// transactions live there), errors as XenstoreError with xenstored's own names.
import { headers as natsHeaders, type Msg, type MsgHdrs } from '@nats-io/nats-core';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import { XS, xsTypeName, type DomId } from '@dominion/abi';
import { subjects, transportError } from '@dominion/bus';
import {
  decodeXsMessage,
  encodeXsMessage,
  parseDirectoryReply,
  parseErrorReply,
  parseGetPermsReply,
  parseIsDomainIntroducedReply,
  parseTransactionStartReply,
  parseWatchEvent,
  xsRequest,
  type XsMessage,
  type XsPerm,
  type XsRequest,
} from '../wire/index.js';
import {
  XS_CONTROL_SESSION_CLOSE,
  XS_CONTROL_SESSION_KEEPALIVE,
  XS_ERROR_MESSAGE_HEADER,
  XS_SESSION_HEADER,
  XS_SESSION_ID,
  XS_SESSION_KEEPALIVE_MS,
  XS_SESSION_OPENED_HEADER,
} from '../xenstored/nats-protocol.js';
import { XenstoreError, xsdErrorKind } from '../errors.js';
import { XenstoreTransaction } from './transaction.js';

/** May return a promise; a rejection goes to onError like a throw. */
export type WatchCallback = (path: string, token: string) => unknown;

export interface XenstoreClientOptions {
  /** The calling domain: requests go to `xen.xs.<domid>`, and NATS permissions vouch for it. */
  domid: DomId;
  /** Per request; default 5000 ms. */
  timeoutMs?: number;
  /** How often a session holding watches or transactions is renewed; default 10 s (the lease is 60 s). */
  keepaliveMs?: number;
  /** transaction() gives up after this many EAGAIN conflicts; default 16. */
  maxTransactionAttempts?: number;
  /** The session id; default a random one. */
  session?: string;
  /** Where a failing watch callback or a failed background re-registration is reported. */
  onError?: (e: unknown) => void;
}

interface Watch {
  path: string;
  token: string;
  depth?: number;
  callback: WatchCallback;
}

export class XenstoreClient {
  readonly domid: DomId;
  readonly session: string;
  private readonly subject: string;
  private readonly timeoutMs: number;
  private readonly keepaliveMs: number;
  private readonly maxAttempts: number;
  private readonly onError: (e: unknown) => void;
  private reqId = 0;
  private closed = false;
  /** The server has acknowledged this session once; a later "opened" means it lost it (dom0 restarted). */
  private established = false;
  /** Bumped when the session is lost: transactions started before it are gone. */
  private epoch = 0;
  private readonly watches = new Map<string, Watch>();
  private readonly openTx = new Set<number>();
  private watchSub: Subscription | undefined;
  private keepalive: ReturnType<typeof setInterval> | undefined;
  private readonly events: Array<{ path: string; token: string }> = [];
  private draining = false;

  constructor(
    private readonly nc: NatsConnection,
    opts: XenstoreClientOptions,
  ) {
    this.domid = opts.domid;
    this.session = opts.session ?? randomBytes(12).toString('base64url');
    if (!XS_SESSION_ID.test(this.session)) {
      throw new XenstoreError('EINVAL', `session id ${JSON.stringify(this.session)} is not 1..64 of [A-Za-z0-9_-]`);
    }
    this.subject = subjects.xs(this.domid);
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.keepaliveMs = opts.keepaliveMs ?? XS_SESSION_KEEPALIVE_MS;
    this.maxAttempts = opts.maxTransactionAttempts ?? 16;
    this.onError = opts.onError ?? ((e) => console.error('XenstoreClient:', e));
  }

  // ---- nodes -------------------------------------------------------------------------------------------

  /** The value as UTF-8 text. */
  async read(path: string, tx = 0): Promise<string> {
    return (await this.readBytes(path, tx)).toString('utf8');
  }

  async readBytes(path: string, tx = 0): Promise<Buffer> {
    return (await this.call(() => xsRequest.read(path), tx, path)).payload;
  }

  /** read() that answers undefined for a missing node instead of throwing ENOENT. */
  async tryRead(path: string, tx = 0): Promise<string | undefined> {
    try {
      return await this.read(path, tx);
    } catch (e) {
      if (e instanceof XenstoreError && e.kind === 'ENOENT') return undefined;
      throw e;
    }
  }

  async exists(path: string, tx = 0): Promise<boolean> {
    return (await this.tryRead(path, tx)) !== undefined;
  }

  /** Creates missing parents with empty values, as xenstored does. */
  async write(path: string, value: string | Uint8Array, tx = 0): Promise<void> {
    await this.call(() => xsRequest.write(path, typeof value === 'string' ? value : Buffer.from(value)), tx, path);
  }

  async mkdir(path: string, tx = 0): Promise<void> {
    await this.call(() => xsRequest.mkdir(path), tx, path);
  }

  /** Recursive; a missing node is not an error, a missing parent is. */
  async rm(path: string, tx = 0): Promise<void> {
    await this.call(() => xsRequest.rm(path), tx, path);
  }

  /** Child names (leaves of the path, not full paths). */
  async directory(path: string, tx = 0): Promise<string[]> {
    return parseDirectoryReply((await this.call(() => xsRequest.directory(path), tx, path)).payload);
  }

  /** Entry 0 is the owner, whose letter is the default for every domain not listed. */
  async getPerms(path: string, tx = 0): Promise<XsPerm[]> {
    return parseGetPermsReply((await this.call(() => xsRequest.getPerms(path), tx, path)).payload);
  }

  async setPerms(path: string, perms: readonly (XsPerm | string)[], tx = 0): Promise<void> {
    await this.call(() => xsRequest.setPerms(path, perms), tx, path);
  }

  // ---- watches -----------------------------------------------------------------------------------------

  /**
   * Registers a watch; `callback(path, token)` runs for the immediate first event and for every change at
   * or under `path` (`depth` limits how far under). Resolves once xenstored has accepted it.
   */
  async watch(path: string, token: string, callback: WatchCallback, depth?: number): Promise<void> {
    const key = watchKey(path, token);
    if (this.watches.has(key)) {
      throw new XenstoreError(
        'EEXIST',
        `domain ${this.domid}: watch on ${path} with token ${JSON.stringify(token)} exists`,
      );
    }
    this.subscribeEvents();
    const w: Watch = { path, token, depth, callback };
    // Registered first: the initial event may arrive right behind the reply.
    this.watches.set(key, w);
    try {
      await this.call(() => xsRequest.watch(path, token, depth), 0, path);
    } catch (e) {
      this.watches.delete(key);
      throw e;
    }
    this.startKeepalive();
  }

  async unwatch(path: string, token: string): Promise<void> {
    await this.call(() => xsRequest.unwatch(path, token), 0, path);
    this.watches.delete(watchKey(path, token));
  }

  // ---- transactions ------------------------------------------------------------------------------------

  /** The id to pass as `tx` to the node calls. */
  async transactionStart(): Promise<number> {
    const id = parseTransactionStartReply(
      await this.call(() => xsRequest.transactionStart(), 0, '(transaction start)'),
    );
    this.openTx.add(id);
    this.startKeepalive();
    return id;
  }

  /** Commits (or abandons); a commit that conflicts with another change fails with EAGAIN. */
  async transactionEnd(tx: number, commit = true): Promise<void> {
    try {
      await this.call(() => xsRequest.transactionEnd(commit), tx, `(transaction ${tx} ${commit ? 'commit' : 'abort'})`);
    } finally {
      // Xen ends a transaction whose commit failed, too.
      this.openTx.delete(tx);
    }
  }

  /**
   * Runs `fn` in a transaction and commits it; on a conflict (EAGAIN) runs the whole of `fn` again, as
   * libxl does, up to maxTransactionAttempts times. Any other error abandons the transaction and is thrown.
   */
  async transaction<T>(fn: (tx: XenstoreTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const epoch = this.epoch;
      const id = await this.transactionStart();
      let result: T;
      try {
        result = await fn(new XenstoreTransaction(this, id));
      } catch (e) {
        await this.transactionEnd(id, false).catch(() => undefined);
        if (this.retriable(e, epoch)) continue;
        throw e;
      }
      try {
        await this.transactionEnd(id, true);
        return result;
      } catch (e) {
        if (this.retriable(e, epoch)) continue;
        throw e;
      }
    }
    throw new XenstoreError(
      'EAGAIN',
      `domain ${this.domid}: transaction still conflicted after ${this.maxAttempts} attempts (EAGAIN each time)`,
    );
  }

  private retriable(e: unknown, epoch: number): boolean {
    // A session lost under the transaction (dom0 restarted) takes it along: running it again is the remedy.
    return e instanceof XenstoreError && (e.kind === 'EAGAIN' || this.epoch !== epoch);
  }

  // ---- domains -----------------------------------------------------------------------------------------

  /** `/local/domain/<domid>`. */
  async getDomainPath(domid: DomId): Promise<string> {
    const r = await this.call(() => xsRequest.getDomainPath(domid), 0, `(domain ${domid})`);
    const nul = r.payload.indexOf(0);
    return r.payload.toString('utf8', 0, nul < 0 ? r.payload.length : nul);
  }

  /**
   * dom0 only: tells xenstored the domain exists (fires @introduceDomain), with its store page's gfn and
   * event channel port (non-zero), as libxl passes them.
   */
  async introduce(domid: DomId, gfn: number, evtchn: number): Promise<void> {
    await this.call(() => xsRequest.introduce(domid, gfn, evtchn), 0, `(domain ${domid})`);
  }

  /** dom0 only: forgets the domain (fires @releaseDomain, ends its sessions). */
  async release(domid: DomId): Promise<void> {
    await this.call(() => xsRequest.release(domid), 0, `(domain ${domid})`);
  }

  async isDomainIntroduced(domid: DomId): Promise<boolean> {
    return parseIsDomainIntroducedReply(
      await this.call(() => xsRequest.isDomainIntroduced(domid), 0, `(domain ${domid})`),
    );
  }

  // ---- session -----------------------------------------------------------------------------------------

  /** Ends the session: xenstored drops its watches and open transactions. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.keepalive) clearInterval(this.keepalive);
    this.keepalive = undefined;
    try {
      if (this.established && !this.nc.isClosed()) {
        await this.call(() => xsRequest.control(XS_CONTROL_SESSION_CLOSE), 0, '(session close)').catch(() => undefined);
      }
    } finally {
      this.closed = true;
      this.watches.clear();
      this.openTx.clear();
      this.watchSub?.unsubscribe();
      this.watchSub = undefined;
    }
  }

  private startKeepalive(): void {
    if (this.keepalive || this.closed) return;
    this.keepalive = setInterval(() => {
      if (this.watches.size === 0 && this.openTx.size === 0) return;
      this.call(() => xsRequest.control(XS_CONTROL_SESSION_KEEPALIVE), 0, '(session keepalive)').catch((e: unknown) => {
        if (!this.closed) this.onError(e);
      });
    }, this.keepaliveMs);
    this.keepalive.unref();
  }

  private subscribeEvents(): void {
    if (this.watchSub) return;
    this.watchSub = this.nc.subscribe(subjects.xsWatch(this.domid, this.session), {
      callback: (err, m) => {
        if (err) return;
        try {
          this.events.push(parseWatchEvent(decodeXsMessage(asBuffer(m.data))));
        } catch (e) {
          this.onError(e);
          return;
        }
        this.scheduleEvents();
      },
    });
  }

  // Events are handed out after the current turn, so a watch() awaiting its reply resumes before the
  // callback sees the first event, in the order xenstored sent them.
  private scheduleEvents(): void {
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => {
      this.draining = false;
      for (const ev of this.events.splice(0)) this.dispatch(ev.path, ev.token);
    });
  }

  private dispatch(path: string, token: string): void {
    const byToken = [...this.watches.values()].filter((w) => w.token === token);
    const matching = byToken.filter((w) => covers(w.path, path));
    for (const w of matching.length > 0 ? matching : byToken) {
      try {
        const r = w.callback(path, token);
        if (r instanceof Promise) r.catch(this.onError);
      } catch (e) {
        this.onError(e);
      }
    }
  }

  // ---- one request ---------------------------------------------------------------------------------------

  /** Sends one request and returns its reply, or throws the XenstoreError it carries. */
  async call(build: () => XsRequest, tx: number, path: string): Promise<XsMessage> {
    let req: XsRequest;
    try {
      req = build();
    } catch (e) {
      // The codec refuses what xenstored would (a NUL in a path, a payload over 4096 bytes).
      if (e instanceof XenstoreError)
        throw new XenstoreError(e.kind === 'E2BIG' ? 'E2BIG' : 'EINVAL', `domain ${this.domid}: ${path}: ${e.message}`);
      throw e;
    }
    const what = `domain ${this.domid}: ${xsTypeName(req.type)} ${path}${tx ? ` (transaction ${tx})` : ''}`;
    if (this.closed) throw new XenstoreError('EINVAL', `${what}: the client is closed`);
    this.reqId = (this.reqId + 1) >>> 0;
    const reqId = this.reqId;
    const hdrs = natsHeaders();
    hdrs.set(XS_SESSION_HEADER, this.session);
    let m: Msg;
    try {
      m = await this.nc.request(
        this.subject,
        encodeXsMessage({ type: req.type, reqId, txId: tx, payload: req.payload }),
        {
          timeout: this.timeoutMs,
          headers: hdrs,
        },
      );
    } catch (e) {
      throw new XenstoreError('EIO', `${what}: ${transportError(e, this.subject).message}`);
    }
    this.noteSession(m.headers);
    let reply: XsMessage;
    try {
      reply = decodeXsMessage(asBuffer(m.data));
    } catch (e) {
      throw new XenstoreError('EIO', `${what}: malformed reply: ${(e as Error).message}`);
    }
    if (reply.type === XS.XS_ERROR) {
      const name = parseErrorReply(reply);
      const detail = m.headers?.get(XS_ERROR_MESSAGE_HEADER);
      throw new XenstoreError(xsdErrorKind(name), `${what}: ${name}${detail ? ` (${detail})` : ''}`);
    }
    if (reply.type !== req.type || reply.reqId !== reqId) {
      throw new XenstoreError(
        'EIO',
        `${what}: reply is ${xsTypeName(reply.type)} req_id ${reply.reqId}, expected req_id ${reqId}`,
      );
    }
    return reply;
  }

  private noteSession(h: MsgHdrs | undefined): void {
    if (!h?.has(XS_SESSION_OPENED_HEADER)) return;
    if (!this.established) {
      this.established = true;
      return;
    }
    // xenstored no longer knew this session (it restarted, or the lease ran out): transactions are gone,
    // watches are registered again (each fires once more, which watchers must tolerate anyway).
    this.epoch++;
    this.openTx.clear();
    for (const w of [...this.watches.values()]) {
      this.call(() => xsRequest.watch(w.path, w.token, w.depth), 0, w.path).catch((e: unknown) => {
        if (!this.closed) this.onError(e);
      });
    }
  }
}

/** NATS hands out Uint8Arrays; the codec reads with Buffer's methods. No copy. */
function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function watchKey(path: string, token: string): string {
  return `${path}\0${token}`;
}

/** Whether an event at `epath` belongs to a watch on `wpath` (the node itself or a descendant). */
function covers(wpath: string, epath: string): boolean {
  return epath === wpath || epath.startsWith(wpath.endsWith('/') ? wpath : wpath + '/');
}

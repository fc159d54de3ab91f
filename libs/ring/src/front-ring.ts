// The frontend end of a ring carried by a stream. Xen's rules hold: never more than RING_SIZE requests
// outstanding (more wait in a bounded queue, beyond which a submit is refused with ENOSPC), ids echoed by
// responses that may come in any order, one message per push. A response naming no request in flight
// breaks the ring (EPROTO), like blkfront marking the device broken; a response whose grant copies the
// grant table refuses fails that request alone (EFAULT with the GNTST_* status). Requests in flight when
// a stream dies stay in their slots and are re-issued, in order, on the next stream.
import { GNTST, XEN_PAGE_SIZE, type DomId, type GrantRef } from '@dominion/abi';
import { copiesFault, entryId } from './batch-entry.js';
import { RingError, peerValue } from './errors.js';
import type { GrantTable } from './grant-table.js';
import { checkRingIdx, idxAdd, idxDiff, isRingIdx, prodOverflow } from './idx.js';
import {
  idKey,
  type GrantCopy,
  type RequestBatch,
  type ResponseBatch,
  type RingId,
  type RingIds,
  type RingResponse,
} from './messages.js';

/** Part of a granted page that belongs to a request. */
export interface GrantSpan {
  ref: GrantRef;
  /** Default 0. */
  offset?: number;
  /** Default: to the end of the page. */
  length?: number;
  /**
   * Send these bytes with the request, for the backend to copy from. Default: whether the grant is
   * readonly, since a readonly grant can only be copied from (blkif writes, netif tx) while a writable one
   * is a buffer for the backend to fill (blkif reads, netif rx).
   */
  outbound?: boolean;
}

export interface FrontRingOptions<Req, Rsp> extends RingIds<Req, Rsp> {
  /** RING_SIZE, from ringSize(). */
  size: number;
  /** The backend domain: grants of a request must be to it. */
  backendDomid: DomId;
  /** The frontend domain's grant table. */
  grants: GrantTable;
  /** Submissions that may wait for a slot; default RING_SIZE. Beyond it a submit fails with ENOSPC. */
  maxQueued?: number;
  /** Push whatever was produced once per microtask (default true); false leaves it to flush(). */
  autoFlush?: boolean;
  /** The index a new ring starts at (Xen: 0). */
  firstIndex?: number;
  /** Names the ring in messages, e.g. `vbd 51712 queue-0`. */
  label?: string;
}

export type FrontRingState = 'disconnected' | 'connected' | 'closed';

interface Pending<Req, Rsp> {
  key: bigint;
  id: RingId;
  req: Req;
  refs: ReadonlySet<GrantRef>;
  outbound: GrantCopy[];
  resolve(rsp: Rsp): void;
  reject(e: RingError): void;
  /** Times pushed to a backend. */
  issued: number;
  /** The connection it was last pushed on; a response is only valid on that one. */
  pushedOn: number;
}

export class FrontRing<Req, Rsp> {
  readonly size: number;
  readonly label: string;
  private readonly opts: FrontRingOptions<Req, Rsp>;
  private readonly maxQueued: number;
  private readonly firstIndex: number;
  /** Requests holding a slot, in the order they took it (the order a reconnect re-issues them). */
  private readonly inflight = new Map<bigint, Pending<Req, Rsp>>();
  private readonly waiting: Pending<Req, Rsp>[] = [];
  private readonly waitingKeys = new Set<bigint>();
  /** Produced since the last push (req_prod_pvt ahead of req_prod). */
  private produced: Pending<Req, Rsp>[] = [];
  private readonly refOwner = new Map<GrantRef, RingId>();
  private reqProdPvt: number;
  private rspCons: number;
  private send: ((batch: RequestBatch<Req>) => void) | undefined;
  private _state: FrontRingState = 'disconnected';
  private connection = 0;
  private flushScheduled = false;
  private _backendDomid: DomId;
  /** Requests pushed again on a new stream after the one they were first pushed on died. */
  reissued = 0;
  /** The protocol error that broke the last stream. */
  lastError: RingError | undefined;

  constructor(opts: FrontRingOptions<Req, Rsp>) {
    if (!Number.isInteger(opts.size) || opts.size < 1 || (opts.size & (opts.size - 1)) !== 0) {
      throw new RingError('EINVAL', `ring size ${opts.size} is not a power of two`);
    }
    this.opts = opts;
    this.size = opts.size;
    this.label = opts.label ?? 'ring';
    this.maxQueued = opts.maxQueued ?? opts.size;
    if (!Number.isInteger(this.maxQueued) || this.maxQueued < 0)
      throw new RingError('EINVAL', `${this.label}: maxQueued ${this.maxQueued} is not a count`);
    this.firstIndex = checkRingIdx(opts.firstIndex ?? 0, `${this.label}: firstIndex`);
    this.reqProdPvt = this.firstIndex;
    this.rspCons = this.firstIndex;
    this._backendDomid = opts.backendDomid;
  }

  get state(): FrontRingState {
    return this._state;
  }
  get backendDomid(): DomId {
    return this._backendDomid;
  }
  /** Requests holding a slot (pushed or not). */
  get inFlight(): number {
    return this.inflight.size;
  }
  /** Requests waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }
  get freeSlots(): number {
    return this.size - this.inflight.size;
  }

  /**
   * Queues a request whose payload lives in `grants` (each granted to the backend, used by no other request
   * in flight). Resolves with the backend's response once its grant copies were checked and applied; the
   * request's grants are revoked when it completes either way.
   */
  submit(req: Req, grants: readonly GrantSpan[] = []): Promise<Rsp> {
    let resolve!: (rsp: Rsp) => void;
    let reject!: (e: RingError) => void;
    const promise = new Promise<Rsp>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    let p: Pending<Req, Rsp>;
    try {
      p = this.admit(req, grants, resolve, reject);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    for (const ref of p.refs) this.refOwner.set(ref, p.id);
    if (this.inflight.size < this.size) this.produce(p);
    else {
      this.waiting.push(p);
      this.waitingKeys.add(p.key);
    }
    this.scheduleFlush();
    return promise;
  }

  /** RING_PUSH_REQUESTS: sends everything produced since the last push as one batch. Returns how many. */
  flush(): number {
    if (this._state !== 'connected' || this.produced.length === 0 || !this.send) return 0;
    const batch: RequestBatch<Req> = {
      reqProd: this.reqProdPvt,
      requests: this.produced.map((p) => ({ req: p.req, copies: p.outbound })),
    };
    for (const p of this.produced) {
      p.issued++;
      p.pushedOn = this.connection;
    }
    this.produced = [];
    this.send(batch);
    return batch.requests.length;
  }

  /**
   * Attaches a new stream: a fresh ring (indices back at firstIndex) whose first batch re-issues every
   * request still in flight, in order. A different `backendDomid` (a spare driver domain took over)
   * re-points the grants of those requests at it. Returns how many requests were re-issued.
   */
  connect(send: (batch: RequestBatch<Req>) => void, opts: { backendDomid?: DomId } = {}): number {
    if (this._state === 'closed') throw new RingError('ESHUTDOWN', `${this.label}: connect on a closed ring`);
    if (opts.backendDomid !== undefined && opts.backendDomid !== this._backendDomid) {
      for (const ref of this.refOwner.keys())
        if (this.opts.grants.get(ref)) this.opts.grants.regrant(ref, opts.backendDomid);
      this._backendDomid = opts.backendDomid;
    }
    this.connection++;
    this._state = 'connected';
    this.send = send;
    this.rspCons = this.firstIndex;
    this.produced = [...this.inflight.values()];
    this.reqProdPvt = idxAdd(this.firstIndex, this.produced.length);
    const reissue = this.produced.filter((p) => p.issued > 0).length;
    this.reissued += reissue;
    this.refill();
    this.flush();
    return reissue;
  }

  /** The stream is gone: requests in flight keep their slots until the next connect(). */
  disconnect(): void {
    if (this._state === 'closed') return;
    this._state = 'disconnected';
    this.send = undefined;
    this.produced = [];
  }

  /**
   * Takes one batch of responses (one notification). A batch that breaks the protocol (an rsp_prod that
   * does not match its responses, more responses than slots, an id with no request in flight or answered
   * twice) is refused whole: the ring disconnects and this throws EPROTO naming the fault.
   */
  receive(batch: ResponseBatch<Rsp>): void {
    if (this._state !== 'connected')
      throw new RingError('ENOTCONN', `${this.label}: response batch on a ${this._state} ring`);
    let matched: Array<[Pending<Req, Rsp>, RingResponse<Rsp>]>;
    try {
      matched = this.match(batch);
    } catch (e) {
      const err = e instanceof RingError ? e : new RingError('EPROTO', `${this.label}: ${peerValue(e)}`);
      this.lastError = err;
      this.disconnect();
      throw err;
    }
    this.rspCons = batch.rspProd;
    for (const [p, r] of matched) {
      this.inflight.delete(p.key);
      this.complete(p, r);
    }
    this.refill();
    this.scheduleFlush();
  }

  /** Fails every request in flight or queued with ESHUTDOWN; the ring cannot be used again. */
  close(reason = 'ring closed'): void {
    if (this._state === 'closed') return;
    this._state = 'closed';
    this.send = undefined;
    this.produced = [];
    const all = [...this.inflight.values(), ...this.waiting];
    this.inflight.clear();
    this.waiting.length = 0;
    this.waitingKeys.clear();
    for (const p of all) {
      this.release(p);
      p.reject(new RingError('ESHUTDOWN', `${this.label}: request id ${p.id} abandoned: ${reason}`));
    }
  }

  private admit(
    req: Req,
    spans: readonly GrantSpan[],
    resolve: (rsp: Rsp) => void,
    reject: (e: RingError) => void,
  ): Pending<Req, Rsp> {
    if (this._state === 'closed') throw new RingError('ESHUTDOWN', `${this.label}: submit on a closed ring`);
    const id = this.opts.requestId(req);
    const key = idKey(id);
    if (key === undefined)
      throw new RingError('EINVAL', `${this.label}: request id ${String(id)} is not a non-negative integer`);
    if (this.inflight.has(key) || this.waitingKeys.has(key))
      throw new RingError('EINVAL', `${this.label}: request id ${id} is already in flight`);
    const refs = new Set<GrantRef>();
    const outbound: GrantCopy[] = [];
    for (const s of spans) {
      const g = this.opts.grants.get(s.ref);
      if (!g) throw new RingError('EINVAL', `${this.label}: request id ${id}: grant ref ${s.ref} is not granted`);
      if (g.domid !== this._backendDomid) {
        throw new RingError(
          'EINVAL',
          `${this.label}: request id ${id}: grant ref ${s.ref} is granted to domain ${g.domid}, not to backend domain ${this._backendDomid}`,
        );
      }
      const owner = this.refOwner.get(s.ref);
      if (owner !== undefined)
        throw new RingError(
          'EINVAL',
          `${this.label}: request id ${id}: grant ref ${s.ref} already belongs to request id ${owner}`,
        );
      const offset = s.offset ?? 0;
      const length = s.length ?? XEN_PAGE_SIZE - offset;
      if (
        !Number.isInteger(offset) ||
        !Number.isInteger(length) ||
        offset < 0 ||
        length < 0 ||
        offset + length > XEN_PAGE_SIZE
      ) {
        throw new RingError(
          'EINVAL',
          `${this.label}: request id ${id}: grant ref ${s.ref}: ${length} bytes at offset ${offset} overrun the page`,
        );
      }
      refs.add(s.ref);
      // Copied now: a write's data is what the guest handed over at submit, the same on any re-issue.
      if (s.outbound ?? g.readonly)
        outbound.push({ ref: s.ref, offset, data: new Uint8Array(g.page.subarray(offset, offset + length)) });
    }
    if (this.inflight.size >= this.size && this.waiting.length >= this.maxQueued) {
      throw new RingError(
        'ENOSPC',
        `${this.label}: request id ${id} refused: ${this.inflight.size} requests in flight fill the ring and ${this.waiting.length} wait already`,
      );
    }
    return { key, id, req, refs, outbound, resolve, reject, issued: 0, pushedOn: 0 };
  }

  private produce(p: Pending<Req, Rsp>): void {
    this.inflight.set(p.key, p);
    this.produced.push(p);
    this.reqProdPvt = idxAdd(this.reqProdPvt, 1);
  }

  /** Moves waiting submissions into free slots, oldest first. */
  private refill(): void {
    while (this.inflight.size < this.size && this.waiting.length > 0) {
      const p = this.waiting.shift()!;
      this.waitingKeys.delete(p.key);
      this.produce(p);
    }
  }

  private scheduleFlush(): void {
    if (this.opts.autoFlush === false || this.flushScheduled || this._state !== 'connected') return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private match(batch: ResponseBatch<Rsp>): Array<[Pending<Req, Rsp>, RingResponse<Rsp>]> {
    const proto = (m: string) => new RingError('EPROTO', `${this.label}: ${m}`);
    if (typeof batch !== 'object' || batch === null || !Array.isArray(batch.responses))
      throw proto('response batch is not {rspProd, responses[]}');
    if (!isRingIdx(batch.rspProd)) throw proto(`rsp_prod ${peerValue(batch.rspProd)} is not a u32 index`);
    if (prodOverflow(batch.rspProd, this.rspCons, this.size)) {
      throw proto(
        `backend overflowed the ring: rsp_prod ${batch.rspProd} is more than ${this.size} ahead of rsp_cons ${this.rspCons}`,
      );
    }
    const n = batch.responses.length;
    if (idxDiff(batch.rspProd, this.rspCons) !== n) {
      throw proto(
        `rsp_prod ${batch.rspProd} does not follow rsp_cons ${this.rspCons} by the ${n} responses in the batch`,
      );
    }
    const seen = new Set<bigint>();
    const out: Array<[Pending<Req, Rsp>, RingResponse<Rsp>]> = [];
    for (const r of batch.responses) {
      const read = entryId('response', 'rsp', r, (p: Rsp) => this.opts.responseId(p));
      if ('fault' in read) throw proto(read.fault);
      const id = read.id;
      const key = idKey(id);
      const p = key === undefined ? undefined : this.inflight.get(key);
      if (!p || p.pushedOn !== this.connection || seen.has(key!)) {
        throw proto(`response id ${peerValue(id)} matches no request in flight (unknown, or already answered)`);
      }
      const bad = copiesFault('response', id, r.copies);
      if (bad) throw proto(bad);
      seen.add(key!);
      out.push([p, r]);
    }
    return out;
  }

  /** Checks every copy of the response against the grant table; applies all of them or none. */
  private complete(p: Pending<Req, Rsp>, r: RingResponse<Rsp>): void {
    const grants = this.opts.grants;
    for (const c of r.copies) {
      let check = grants.check(this._backendDomid, c.ref, c.offset, c.data.length, true);
      if (check.status === GNTST.GNTST_okay && !p.refs.has(c.ref)) {
        check = {
          status: GNTST.GNTST_permission_denied,
          reason: `grant ref ${c.ref} was not granted for request id ${p.id} (GNTST_permission_denied)`,
        };
      }
      if (check.status !== GNTST.GNTST_okay) {
        this.release(p);
        p.reject(
          new RingError(
            'EFAULT',
            `${this.label}: response to request id ${p.id} refused: ${check.reason}`,
            check.status,
          ),
        );
        return;
      }
    }
    for (const c of r.copies) grants.get(c.ref)!.page.set(c.data, c.offset);
    this.release(p);
    p.resolve(r.rsp);
  }

  /** Revokes the request's grants: the backend may not touch them once the request completed. */
  private release(p: Pending<Req, Rsp>): void {
    for (const ref of p.refs) {
      this.refOwner.delete(ref);
      if (this.opts.grants.get(ref)) this.opts.grants.revoke(ref);
    }
  }
}

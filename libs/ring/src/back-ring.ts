// The backend end of a ring carried by a stream, one per stream. The frontend is not trusted: a batch
// whose req_prod does not match its requests, that puts more requests outstanding than the ring has
// slots (RING_REQUEST_PROD_OVERFLOW), or that reuses an id still outstanding breaks this ring (EPROTO) and
// nothing else. Responses go out in any order, batched: everything produced before a push is one message.
import { GNTST, XEN_PAGE_SIZE, type GntStatus, type GrantRef } from '@dominion/abi';
import { copiesFault, entryId } from './batch-entry.js';
import { RingError, gntstName, peerValue } from './errors.js';
import { withinPage } from './grant-table.js';
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

export interface BackRingOptions<Req, Rsp> extends RingIds<Req, Rsp> {
  /** RING_SIZE, from ringSize(); both ends compute it from the same pages and entry size. */
  size: number;
  /** Where pushed response batches go (the stream). */
  send: (batch: ResponseBatch<Rsp>) => void;
  /** Push whatever was produced once per microtask (default true); false leaves it to flush(). */
  autoFlush?: boolean;
  /** The index a new ring starts at (Xen: 0). */
  firstIndex?: number;
  /** Names the ring in messages, e.g. `vbd 3/51712 queue-0`. */
  label?: string;
}

/** A request as the backend received it, with the bytes the frontend let it copy. */
export class BackRequest<Req> {
  constructor(
    readonly req: Req,
    readonly id: RingId,
    readonly copies: readonly GrantCopy[],
  ) {}

  /**
   * Grant copy from the frontend: `length` bytes of grant `ref` at `offset`. Fails with EFAULT and the status
   * Xen would give when the frontend did not hand those bytes over with this request.
   */
  read(ref: GrantRef, offset = 0, length = XEN_PAGE_SIZE - offset): Uint8Array {
    if (!withinPage(offset, length)) {
      throw fault(
        GNTST.GNTST_bad_copy_arg,
        `request id ${this.id}: ${length} bytes at offset ${offset} of grant ref ${ref} overrun the page`,
      );
    }
    const mine = this.copies.filter((c) => c.ref === ref);
    if (mine.length === 0)
      throw fault(GNTST.GNTST_bad_gntref, `request id ${this.id}: grant ref ${ref} came with no data`);
    const c = mine.find((x) => x.offset <= offset && offset + length <= x.offset + x.data.length);
    if (!c)
      throw fault(
        GNTST.GNTST_bad_copy_arg,
        `request id ${this.id}: grant ref ${ref} came without bytes ${offset}..${offset + length}`,
      );
    return c.data.subarray(offset - c.offset, offset - c.offset + length);
  }
}

function fault(status: GntStatus, reason: string): RingError {
  return new RingError('EFAULT', `${reason} (${gntstName(status)})`, status);
}

export type BackRingState = 'connected' | 'broken' | 'closed';

export class BackRing<Req, Rsp> {
  readonly size: number;
  readonly label: string;
  private readonly opts: BackRingOptions<Req, Rsp>;
  private reqCons: number;
  private rspProdPvt: number;
  private readonly outstanding = new Map<bigint, RingId>();
  private produced: RingResponse<Rsp>[] = [];
  private flushScheduled = false;
  private _state: BackRingState = 'connected';
  /** The protocol error that broke this ring. */
  lastError: RingError | undefined;

  constructor(opts: BackRingOptions<Req, Rsp>) {
    if (!Number.isInteger(opts.size) || opts.size < 1 || (opts.size & (opts.size - 1)) !== 0) {
      throw new RingError('EINVAL', `ring size ${opts.size} is not a power of two`);
    }
    this.opts = opts;
    this.size = opts.size;
    this.label = opts.label ?? 'ring';
    this.reqCons = checkRingIdx(opts.firstIndex ?? 0, `${this.label}: firstIndex`);
    this.rspProdPvt = this.reqCons;
  }

  get state(): BackRingState {
    return this._state;
  }
  /** Requests consumed and not answered yet. */
  get pending(): number {
    return this.outstanding.size;
  }

  /**
   * Consumes one batch of requests (one notification) and returns them for processing. A batch that breaks
   * the protocol breaks the ring: it throws EPROTO and the stream should be closed.
   */
  receive(batch: RequestBatch<Req>): BackRequest<Req>[] {
    if (this._state !== 'connected')
      throw new RingError('ENOTCONN', `${this.label}: request batch on a ${this._state} ring`);
    try {
      return this.consume(batch);
    } catch (e) {
      const err = e instanceof RingError ? e : new RingError('EPROTO', `${this.label}: ${peerValue(e)}`);
      this.lastError = err;
      this._state = 'broken';
      this.produced = [];
      throw err;
    }
  }

  /**
   * Produces the response to an outstanding request, with the bytes to copy into the frontend's grants.
   * Returns false when the ring is broken or closed (the response has nowhere to go).
   */
  respond(rsp: Rsp, copies: GrantCopy[] = []): boolean {
    if (this._state !== 'connected') return false;
    const id = this.opts.responseId(rsp);
    const key = idKey(id);
    if (key === undefined || !this.outstanding.delete(key)) {
      throw new RingError('EINVAL', `${this.label}: response id ${String(id)} answers no outstanding request`);
    }
    this.produced.push({ rsp, copies });
    this.rspProdPvt = idxAdd(this.rspProdPvt, 1);
    this.scheduleFlush();
    return true;
  }

  /** RING_PUSH_RESPONSES: sends everything produced since the last push as one batch. Returns how many. */
  flush(): number {
    if (this._state !== 'connected' || this.produced.length === 0) return 0;
    const batch: ResponseBatch<Rsp> = { rspProd: this.rspProdPvt, responses: this.produced };
    this.produced = [];
    this.opts.send(batch);
    return batch.responses.length;
  }

  close(): void {
    this._state = 'closed';
    this.produced = [];
    this.outstanding.clear();
  }

  private consume(batch: RequestBatch<Req>): BackRequest<Req>[] {
    const proto = (m: string) => new RingError('EPROTO', `${this.label}: ${m}`);
    if (typeof batch !== 'object' || batch === null || !Array.isArray(batch.requests))
      throw proto('request batch is not {reqProd, requests[]}');
    if (!isRingIdx(batch.reqProd)) throw proto(`req_prod ${peerValue(batch.reqProd)} is not a u32 index`);
    if (prodOverflow(batch.reqProd, this.rspProdPvt, this.size)) {
      throw proto(
        `frontend overflowed the ring: req_prod ${batch.reqProd} puts ${idxDiff(batch.reqProd, this.rspProdPvt)} requests outstanding on a ring of ${this.size} slots`,
      );
    }
    const n = batch.requests.length;
    if (idxDiff(batch.reqProd, this.reqCons) !== n) {
      throw proto(
        `req_prod ${batch.reqProd} does not follow req_cons ${this.reqCons} by the ${n} requests in the batch`,
      );
    }
    const fresh = new Map<bigint, RingId>();
    const out: BackRequest<Req>[] = [];
    for (const r of batch.requests) {
      const read = entryId('request', 'req', r, (p: Req) => this.opts.requestId(p));
      if ('fault' in read) throw proto(read.fault);
      const id = read.id;
      const key = idKey(id);
      if (key === undefined) throw proto(`request id ${peerValue(id)} is not a non-negative integer`);
      if (this.outstanding.has(key) || fresh.has(key)) throw proto(`request id ${String(id)} is already outstanding`);
      const bad = copiesFault('request', id, r.copies);
      if (bad) throw proto(bad);
      fresh.set(key, id as RingId);
      out.push(new BackRequest(r.req, id as RingId, r.copies));
    }
    for (const [k, id] of fresh) this.outstanding.set(k, id);
    this.reqCons = batch.reqProd;
    return out;
  }

  private scheduleFlush(): void {
    if (this.opts.autoFlush === false || this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }
}

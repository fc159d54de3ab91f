// The backend's private view of a shared ring (struct *_back_ring): req_cons and rsp_prod_pvt. A frontend
// is not trusted: a req_prod more than RING_SIZE ahead of the responses is a protocol error, and requests
// are copied out of shared memory once.
import { RingError } from './errors.js';
import { idxAdd, idxDiff, prodOverflow, pushNeedsNotify } from './idx.js';
import type { SharedRing } from './sring.js';

export class SharedBackRing {
  reqCons: number;
  rspProdPvt: number;

  /** BACK_RING_ATTACH at `start` (BACK_RING_INIT is start 0). */
  constructor(
    readonly sring: SharedRing,
    start = 0,
  ) {
    this.reqCons = start >>> 0;
    this.rspProdPvt = start >>> 0;
  }

  get size(): number {
    return this.sring.size;
  }

  /**
   * RING_HAS_UNCONSUMED_REQUESTS: min(req_prod - req_cons, size - (req_cons - rsp_prod_pvt)). The clamp alone
   * would hide a frontend that overfilled the ring; RING_REQUEST_PROD_OVERFLOW reports it instead.
   */
  unconsumedRequests(): number {
    const prod = this.sring.reqProd;
    if (prodOverflow(prod, this.rspProdPvt, this.size)) {
      throw new RingError(
        'EPROTO',
        `frontend overflowed the ring: req_prod ${prod} is ${idxDiff(prod, this.rspProdPvt)} ahead of rsp_prod_pvt ${this.rspProdPvt}, ring has ${this.size} slots`,
      );
    }
    return Math.min(idxDiff(prod, this.reqCons), this.size - idxDiff(this.reqCons, this.rspProdPvt));
  }

  /** Copies the next request out of shared memory once. */
  consumeRequest(): Buffer {
    if (this.unconsumedRequests() === 0)
      throw new RingError('EINVAL', `no unconsumed request at req_cons ${this.reqCons}`);
    const copy = Buffer.from(this.sring.entry(this.reqCons));
    this.reqCons = idxAdd(this.reqCons, 1);
    return copy;
  }

  /** Writes a response into the next private slot; only as many responses as requests consumed. */
  produceResponse(bytes: Uint8Array): void {
    if (idxDiff(this.reqCons, this.rspProdPvt) === 0) {
      throw new RingError(
        'EINVAL',
        `no consumed request left to answer (req_cons ${this.reqCons}, rsp_prod_pvt ${this.rspProdPvt})`,
      );
    }
    const slot = this.sring.entry(this.rspProdPvt);
    if (bytes.length > slot.length)
      throw new RingError('EINVAL', `response of ${bytes.length} bytes exceeds the ${slot.length}-byte ring entry`);
    slot.fill(0);
    slot.set(bytes);
    this.rspProdPvt = idxAdd(this.rspProdPvt, 1);
  }

  /** RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: publishes rsp_prod; true if the frontend asked to be notified. */
  pushResponses(): boolean {
    const oldProd = this.sring.rspProd;
    const newProd = this.rspProdPvt;
    this.sring.rspProd = newProd;
    return pushNeedsNotify(newProd, oldProd, this.sring.rspEvent);
  }

  /** RING_FINAL_CHECK_FOR_REQUESTS: before sleeping, ask for an event at the next request, then re-check. */
  finalCheckForRequests(): boolean {
    if (this.unconsumedRequests() > 0) return true;
    this.sring.reqEvent = idxAdd(this.reqCons, 1);
    return this.unconsumedRequests() > 0;
  }
}

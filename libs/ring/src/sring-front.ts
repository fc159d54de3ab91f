// The frontend's private view of a shared ring (struct *_front_ring): req_prod_pvt and rsp_cons, with the
// ring.h macros that move them. No flow control in Xen's macros, so this side refuses to overfill.
import { RingError } from './errors.js';
import { idxAdd, idxDiff, prodOverflow, pushNeedsNotify } from './idx.js';
import type { SharedRing } from './sring.js';

export class SharedFrontRing {
  reqProdPvt: number;
  rspCons: number;

  /** FRONT_RING_ATTACH at `start` (FRONT_RING_INIT is start 0). */
  constructor(
    readonly sring: SharedRing,
    start = 0,
  ) {
    this.reqProdPvt = start >>> 0;
    this.rspCons = start >>> 0;
  }

  get size(): number {
    return this.sring.size;
  }

  /** RING_FREE_REQUESTS. */
  get freeRequests(): number {
    return this.size - idxDiff(this.reqProdPvt, this.rspCons);
  }

  /** Writes a request into the next private slot (not yet visible to the backend). */
  produceRequest(bytes: Uint8Array): void {
    if (this.freeRequests === 0) {
      throw new RingError(
        'ENOSPC',
        `ring full: ${this.size} requests outstanding (req_prod_pvt ${this.reqProdPvt}, rsp_cons ${this.rspCons})`,
      );
    }
    this.copyInto(this.sring.entry(this.reqProdPvt), bytes);
    this.reqProdPvt = idxAdd(this.reqProdPvt, 1);
  }

  /** RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: publishes req_prod; true if the backend asked to be notified. */
  pushRequests(): boolean {
    const oldProd = this.sring.reqProd;
    const newProd = this.reqProdPvt;
    this.sring.reqProd = newProd;
    return pushNeedsNotify(newProd, oldProd, this.sring.reqEvent);
  }

  /** RING_HAS_UNCONSUMED_RESPONSES, refusing a backend that produced more responses than the ring holds. */
  unconsumedResponses(): number {
    const prod = this.sring.rspProd;
    if (prodOverflow(prod, this.rspCons, this.size)) {
      throw new RingError(
        'EPROTO',
        `backend overflowed the ring: rsp_prod ${prod} is more than ${this.size} ahead of rsp_cons ${this.rspCons}`,
      );
    }
    return idxDiff(prod, this.rspCons);
  }

  /** Copies the next response out of shared memory once, so a peer changing it later cannot matter. */
  consumeResponse(): Buffer {
    if (this.unconsumedResponses() === 0)
      throw new RingError('EINVAL', `no unconsumed response at rsp_cons ${this.rspCons}`);
    const copy = Buffer.from(this.sring.entry(this.rspCons));
    this.rspCons = idxAdd(this.rspCons, 1);
    return copy;
  }

  /** RING_FINAL_CHECK_FOR_RESPONSES: before sleeping, ask for an event at the next response, then re-check. */
  finalCheckForResponses(): boolean {
    if (this.unconsumedResponses() > 0) return true;
    this.sring.rspEvent = idxAdd(this.rspCons, 1);
    return this.unconsumedResponses() > 0;
  }

  private copyInto(slot: Buffer, bytes: Uint8Array): void {
    if (bytes.length > slot.length)
      throw new RingError('EINVAL', `request of ${bytes.length} bytes exceeds the ${slot.length}-byte ring entry`);
    slot.fill(0);
    slot.set(bytes);
  }
}

// The shared ring page ("sring", io/ring.h) byte for byte: req_prod @0, req_event @4, rsp_prod @8,
// rsp_event @12, pvt @16, padding to 64, then ring[] of request/response unions. Dominion carries rings
// over gRPC streams, but this model keeps Xen's page layout and index rules checkable against golden bytes.
import { XEN_PAGE_SIZE } from '@dominion/abi';
import { RingError } from './errors.js';
import { SRING_HEADER_SIZE, ringSize } from './geometry.js';
import { ringSlot } from './idx.js';

export const SRING_REQ_PROD = 0;
export const SRING_REQ_EVENT = 4;
export const SRING_RSP_PROD = 8;
export const SRING_RSP_EVENT = 12;
export const SRING_PVT = 16;

export class SharedRing {
  /** RING_SIZE: slots in ring[]. */
  readonly size: number;

  private constructor(
    readonly page: Buffer,
    readonly entrySize: number,
  ) {
    this.size = ringSize(page.length / XEN_PAGE_SIZE, entrySize);
  }

  /** SHARED_RING_INIT, done by the frontend only: both producers 0, both event indices 1, the rest zero. */
  static init(pages: number, entrySize: number): SharedRing {
    const ring = new SharedRing(Buffer.alloc(pages * XEN_PAGE_SIZE), entrySize);
    ring.reqEvent = 1;
    ring.rspEvent = 1;
    return ring;
  }

  /** A view of pages someone else initialised (the backend mapping the frontend's ring-ref). */
  static attach(page: Buffer, entrySize: number): SharedRing {
    if (page.length === 0 || page.length % XEN_PAGE_SIZE !== 0) {
      throw new RingError(
        'EINVAL',
        `shared ring of ${page.length} bytes is not a whole number of ${XEN_PAGE_SIZE}-byte pages`,
      );
    }
    return new SharedRing(page, entrySize);
  }

  get reqProd(): number {
    return this.page.readUInt32LE(SRING_REQ_PROD);
  }
  set reqProd(v: number) {
    this.page.writeUInt32LE(v >>> 0, SRING_REQ_PROD);
  }
  get reqEvent(): number {
    return this.page.readUInt32LE(SRING_REQ_EVENT);
  }
  set reqEvent(v: number) {
    this.page.writeUInt32LE(v >>> 0, SRING_REQ_EVENT);
  }
  get rspProd(): number {
    return this.page.readUInt32LE(SRING_RSP_PROD);
  }
  set rspProd(v: number) {
    this.page.writeUInt32LE(v >>> 0, SRING_RSP_PROD);
  }
  get rspEvent(): number {
    return this.page.readUInt32LE(SRING_RSP_EVENT);
  }
  set rspEvent(v: number) {
    this.page.writeUInt32LE(v >>> 0, SRING_RSP_EVENT);
  }

  /** The live bytes of the slot that index `idx` lands in (RING_GET_REQUEST / RING_GET_RESPONSE). */
  entry(idx: number): Buffer {
    const at = SRING_HEADER_SIZE + ringSlot(idx, this.size) * this.entrySize;
    return this.page.subarray(at, at + this.entrySize);
  }
}

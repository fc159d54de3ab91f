// Backend side of rx: a frame for the guest is copied into the buffers it posted, one 4 KiB buffer per
// fragment, chained with NETRXF_more_data; each response's status is the bytes in its buffer and goes in
// the slot of the request it consumed. With too few posted buffers the frame is dropped and counted, never
// queued: the guest's posted buffers are its own flow control.
import { XEN_PAGE_SIZE } from '@dominion/abi';
import { NETRXF, type NetifGsoType } from './constants.js';
import type { NetifExtraInfo } from './extra.js';
import type { NetifRxRequest, NetifRxResponse } from './rx.js';

export type NetifRxSlot = { kind: 'response'; response: NetifRxResponse } | { kind: 'extra'; extra: NetifExtraInfo };

export interface RxDelivery {
  /** Each consumed request with what goes in its slot, in ring order. */
  slots: Array<{ request: NetifRxRequest; slot: NetifRxSlot }>;
  /** Grant copies to perform: bytes into the page of `gref` at `offset`. */
  copies: Array<{ gref: number; offset: number; bytes: Uint8Array }>;
}

export interface RxDeliverOptions {
  /** NETRXF_data_validated / NETRXF_csum_blank for the packet. */
  flags?: number;
  gso?: { size: number; gsoType: NetifGsoType; features?: number };
}

export interface RxCounters {
  packets: number;
  bytes: number;
  droppedNoBuffer: number;
  droppedEmpty: number;
}

export class RxBufferQueue {
  private readonly posted: NetifRxRequest[] = [];
  readonly counters: RxCounters = { packets: 0, bytes: 0, droppedNoBuffer: 0, droppedEmpty: 0 };

  /** A request the frontend produced on the rx ring. */
  post(request: NetifRxRequest): void {
    this.posted.push(request);
  }

  get available(): number {
    return this.posted.length;
  }

  /** The delivery, or undefined when the frame was dropped (and counted). */
  deliver(frame: Uint8Array, opts: RxDeliverOptions = {}): RxDelivery | undefined {
    if (frame.length === 0) {
      this.counters.droppedEmpty++;
      return undefined;
    }
    const fragments = Math.ceil(frame.length / XEN_PAGE_SIZE);
    const needed = fragments + (opts.gso ? 1 : 0);
    if (this.posted.length < needed) {
      this.counters.droppedNoBuffer++;
      return undefined;
    }
    const taken = this.posted.splice(0, needed);
    const delivery: RxDelivery = { slots: [], copies: [] };
    const packetFlags = (opts.flags ?? 0) & (NETRXF.NETRXF_data_validated | NETRXF.NETRXF_csum_blank);
    let t = 0;
    for (let n = 0; n < fragments; n++) {
      const request = taken[t++];
      const bytes = frame.subarray(n * XEN_PAGE_SIZE, Math.min(frame.length, (n + 1) * XEN_PAGE_SIZE));
      let flags = n === 0 ? packetFlags : 0;
      if (n < fragments - 1) flags |= NETRXF.NETRXF_more_data;
      if (n === 0 && opts.gso) flags |= NETRXF.NETRXF_extra_info;
      delivery.copies.push({ gref: request.gref, offset: 0, bytes });
      delivery.slots.push({
        request,
        slot: { kind: 'response', response: { id: request.id, offset: 0, flags, status: bytes.length } },
      });
      if (n === 0 && opts.gso) {
        const { size, gsoType, features = 0 } = opts.gso;
        delivery.slots.push({
          request: taken[t++],
          slot: { kind: 'extra', extra: { type: 'gso', more: false, size, gsoType, features } },
        });
      }
    }
    this.counters.packets++;
    this.counters.bytes += frame.length;
    return delivery;
  }
}

/** Frontend side: rebuild a frame from its rx responses and the pages they filled; undefined when a
 * response carries an error status or names a buffer the frontend never posted. */
export function reassembleRx(
  responses: readonly NetifRxResponse[],
  pageOf: (id: number) => Uint8Array | undefined,
): Buffer | undefined {
  const parts: Uint8Array[] = [];
  for (const rsp of responses) {
    const page = pageOf(rsp.id);
    if (rsp.status < 0 || page === undefined || rsp.offset + rsp.status > page.length) return undefined;
    parts.push(page.subarray(rsp.offset, rsp.offset + rsp.status));
  }
  return Buffer.concat(parts);
}

// The transport keys a ring frontend writes, read and checked as Linux blkback's connect_ring() and
// read_per_ring_refs() do (xen-facts §2): `multi-queue-num-queues` (1..the backend's
// multi-queue-max-queues, default 1); with one queue the ring keys sit in the device dir, with more under
// `queue-<q>`; `ring-page-order` (0..max-ring-page-order) with `ring-ref0..2^order-1`, or a single
// `ring-ref`; `event-channel` per queue; `protocol`. Key names are the caller's, so netif's
// `tx-ring-ref`/`rx-ring-ref` read the same way.
import { XenbusError } from './errors.js';
import type { XenbusKeyReader } from './key-reader.js';
import { XENBUS_KEYS, queueKey } from './keys.js';

export interface RingTransportSpec {
  /** Ring key names per queue: blkif ['ring-ref'], netif ['tx-ring-ref', 'rx-ring-ref']. */
  rings?: readonly string[];
  /** Default 'event-channel'. */
  eventChannel?: string;
  /** What the backend published as max-ring-page-order; 0 (default) accepts only a single-page ring. */
  maxRingPageOrder?: number;
  /** What the backend published as multi-queue-max-queues; 1 (default) accepts only one queue. */
  maxQueues?: number;
  /** Accepted `protocol` values; absent means any value passes through unchecked. */
  protocols?: readonly string[];
}

export interface RingQueue {
  /** The directory this queue's keys were read from. */
  dir: string;
  /** Grant refs per ring name, 2^ring-page-order of them each. */
  ringRefs: Record<string, number[]>;
  eventChannel: number;
}

export interface RingTransport {
  /** The frontend's `protocol`, undefined if it wrote none (the backend's native ABI applies). */
  protocol: string | undefined;
  ringPageOrder: number;
  queues: RingQueue[];
}

/** Xen's limit on a ring's pages (XENBUS_MAX_RING_GRANT_ORDER). */
export const XENBUS_MAX_RING_GRANT_ORDER = 4;

export async function readRingTransport(r: XenbusKeyReader, spec: RingTransportSpec = {}): Promise<RingTransport> {
  const rings = spec.rings ?? [XENBUS_KEYS.RING_REF];
  const evtchnKey = spec.eventChannel ?? XENBUS_KEYS.EVENT_CHANNEL;
  const maxOrder = spec.maxRingPageOrder ?? 0;
  const maxQueues = spec.maxQueues ?? 1;
  const nq = (await r.optUint(XENBUS_KEYS.MULTI_QUEUE_NUM_QUEUES, { min: 1, max: maxQueues })) ?? 1;
  const order = await r.optUint(XENBUS_KEYS.RING_PAGE_ORDER, { max: maxOrder });
  const protocol = spec.protocols
    ? await r.optOneOf(XENBUS_KEYS.PROTOCOL, spec.protocols)
    : await r.optString(XENBUS_KEYS.PROTOCOL);
  const queues: RingQueue[] = [];
  for (let q = 0; q < nq; q++) {
    const qr = nq === 1 ? r : r.sub(queueKey(q));
    const ringRefs: Record<string, number[]> = {};
    for (const ring of rings) {
      if (order === undefined) {
        ringRefs[ring] = [await qr.uint(ring)];
      } else {
        // With ring-page-order the pages are named ring-ref0, ring-ref1, ... (ringRefKey for blkif).
        const pages = 1 << order;
        const refs: number[] = [];
        for (let i = 0; i < pages; i++) refs.push(await qr.uint(`${ring}${i}`));
        ringRefs[ring] = refs;
      }
    }
    const eventChannel = await qr.uint(evtchnKey, { min: 1 });
    queues.push({ dir: qr.dir, ringRefs, eventChannel });
  }
  const seen = new Map<number, string>();
  for (const q of queues) {
    for (const [ring, refs] of Object.entries(q.ringRefs)) {
      for (const ref of refs) {
        const other = seen.get(ref);
        if (other !== undefined)
          throw new XenbusError('EINVAL', `${q.dir}/${ring}: grant ref ${ref} is also given by ${other}`);
        seen.set(ref, `${q.dir}/${ring}`);
      }
    }
  }
  return { protocol, ringPageOrder: order ?? 0, queues };
}

// Multi-queue devices (multi-queue-num-queues): one ring, and so one stream, per queue. Requests go to the
// queue the caller names, or else to the least loaded one, so one slow queue does not hold up the device.
import { RingError } from './errors.js';
import type { FrontRing, GrantSpan } from './front-ring.js';

export class MultiQueueFront<Req, Rsp> {
  private next = 0;

  constructor(readonly queues: readonly FrontRing<Req, Rsp>[]) {
    if (queues.length === 0) throw new RingError('EINVAL', 'a multi-queue device needs at least one queue');
  }

  /** The queue a request without a preference goes to: fewest requests in flight or waiting, round-robin on ties. */
  pick(): number {
    let best = -1;
    let bestLoad = Infinity;
    for (let i = 0; i < this.queues.length; i++) {
      const q = (this.next + i) % this.queues.length;
      const ring = this.queues[q];
      if (ring.state === 'closed') continue;
      const load = ring.inFlight + ring.queued;
      if (load < bestLoad) {
        best = q;
        bestLoad = load;
      }
    }
    if (best < 0) throw new RingError('ESHUTDOWN', 'every queue of the device is closed');
    this.next = (best + 1) % this.queues.length;
    return best;
  }

  submit(req: Req, grants: readonly GrantSpan[] = [], queue?: number): Promise<Rsp> {
    let q: number;
    try {
      q = queue ?? this.pick();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const ring = this.queues[q];
    if (!ring)
      return Promise.reject(
        new RingError('EINVAL', `queue-${q} does not exist: the device has ${this.queues.length} queues`),
      );
    return ring.submit(req, grants);
  }

  get inFlight(): number {
    return this.queues.reduce((n, r) => n + r.inFlight, 0);
  }

  close(reason?: string): void {
    for (const r of this.queues) r.close(reason);
  }
}

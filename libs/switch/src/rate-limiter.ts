// Xen netback's credit scheduler for a vif's `rate` (XenStore "<bytes>,<usecs>"): each interval the
// credit is refilled; a frame larger than the remaining credit waits for the next refill. Netback leaves
// such a request on the ring and sets a timer; this pure model answers "defer until t" and the caller
// retries then. As in netback's tx_add_credit, a refill may top the credit up to the waiting frame's size
// (at most 128 KiB) so a frame larger than one interval's credit is not stuck forever.
import { SwitchError } from './errors.js';

export const DEFAULT_RATE_INTERVAL_USECS = 50_000;
const MAX_BURST = 131072;

export interface PortRate {
  bytesPerInterval: number;
  /** Default 50 ms, as xl. */
  intervalUsecs?: number;
}

export class CreditLimiter {
  readonly intervalMs: number;
  private remaining: number;
  private windowStart: number;

  constructor(
    readonly rate: PortRate,
    now: number,
  ) {
    const usecs = rate.intervalUsecs ?? DEFAULT_RATE_INTERVAL_USECS;
    if (!Number.isSafeInteger(rate.bytesPerInterval) || rate.bytesPerInterval < 1) {
      throw new SwitchError('EINVAL', `rate: ${rate.bytesPerInterval} bytes per interval is not a positive count`);
    }
    if (!Number.isSafeInteger(usecs) || usecs < 1) {
      throw new SwitchError('EINVAL', `rate: interval ${usecs} us is not a positive count`);
    }
    this.intervalMs = usecs / 1000;
    this.remaining = rate.bytesPerInterval;
    this.windowStart = now;
  }

  /** Charges `size` bytes and returns undefined, or returns the time to retry at and charges nothing. */
  admit(size: number, now: number): number | undefined {
    const nextCredit = this.windowStart + this.intervalMs;
    if (now >= nextCredit) {
      this.windowStart = now;
      const credit = this.rate.bytesPerInterval;
      const maxBurst = Math.max(credit, Math.min(size, MAX_BURST));
      this.remaining = Math.min(this.remaining + credit, maxBurst);
    }
    if (size > this.remaining) return Math.max(now, this.windowStart + this.intervalMs);
    this.remaining -= size;
    return undefined;
  }
}

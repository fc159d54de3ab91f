// Time for the stack's timers (ARP retries and ageing, reassembly timeouts, ping deadlines). Injected so
// tests can drive time by hand; the default is the process's clock.

export interface IpClock {
  /** Milliseconds, monotonic; fractions allowed (ping reports microseconds). */
  now(): number;
  /** Runs `fn` once after `ms`; the returned function cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: IpClock = {
  now: () => performance.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

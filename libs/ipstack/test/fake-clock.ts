// A clock the test moves by hand: timers fire in time order as it advances, with queued microtasks (frames
// crossing the test wire) run between them.
import type { IpClock } from '../src/index.js';

export class FakeClock implements IpClock {
  private t = 0;
  private seq = 0;
  private timers: Array<{ at: number; seq: number; fn: () => void }> = [];

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const timer = { at: this.t + ms, seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }

  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > end + 1e-9) break; // float slack: `until` advances to a timer's exact time
      this.timers.shift();
      this.t = next.at;
      next.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }

  /** Fires timers one after another until `p` settles (bounded, so a hang fails the test). */
  async until<T>(p: Promise<T>, maxMs = 120_000): Promise<T> {
    let done = false;
    void p.then(
      () => (done = true),
      () => (done = true),
    );
    const end = this.t + maxMs;
    await settle();
    while (!done) {
      const next = Math.min(...this.timers.map((x) => x.at));
      if (!Number.isFinite(next) || next > end) throw new Error(`still pending after ${maxMs} ms of fake time`);
      await this.advance(next - this.t);
    }
    return p;
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

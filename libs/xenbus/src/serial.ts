// Runs a step function again and again while kicks keep coming, never two at once: watch events arrive at
// any time, but each step reads the current state and acts on it, as a xenbus driver's otherend_changed
// does, so events that pile up during a step collapse into one more step.
export class Serial {
  private running = false;
  private again = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly step: () => Promise<void>,
    private readonly onError: (e: unknown) => void,
  ) {}

  kick(): void {
    this.again = true;
    if (this.running) return;
    this.running = true;
    this.idle = this.loop();
  }

  /** Resolves once no step is running. */
  settled(): Promise<void> {
    return this.idle;
  }

  private async loop(): Promise<void> {
    try {
      while (this.again) {
        this.again = false;
        try {
          await this.step();
        } catch (e) {
          this.onError(e);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

/** Waiters on a value that changes over time, each resolved when its predicate holds, or timed out. */
export class Waiters<V> {
  private readonly list = new Set<{ ok: (v: V) => boolean; resolve: (v: V) => void; reject: (e: Error) => void }>();

  constructor(private readonly current: () => V) {}

  wait(ok: (v: V) => boolean, timeoutMs: number, onTimeout: (v: V) => Error): Promise<V> {
    const now = this.current();
    if (ok(now)) return Promise.resolve(now);
    return new Promise<V>((resolve, reject) => {
      const w = {
        ok,
        resolve: (v: V) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.list.delete(w);
        reject(onTimeout(this.current()));
      }, timeoutMs);
      this.list.add(w);
    });
  }

  /** Call after the value changed. */
  check(): void {
    const v = this.current();
    for (const w of [...this.list]) {
      if (w.ok(v)) {
        this.list.delete(w);
        w.resolve(v);
      }
    }
  }

  /** Fails every waiter (the end was stopped). */
  failAll(e: Error): void {
    for (const w of [...this.list]) w.reject(e);
    this.list.clear();
  }
}

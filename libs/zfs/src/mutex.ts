// Serialises the pool's operations: open context (writes, reads, flushes) and syncing context (txg syncs)
// never interleave in this slice. ZFS lets the next txg fill while one syncs; the split between dirty
// state and TxSync keeps that possible later.
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  async run<T>(op: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await op();
    } finally {
      release();
    }
  }
}

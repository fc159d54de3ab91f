// The guest frames blkfront owns: ring pages and the data and indirect pages of requests. A request takes
// its frames before it is built and gives them back once it completed, so the pool bounds the I/O a guest
// has in flight, and a request waits (never fails) while the frames are busy.
import type { GuestMemory } from '../memory.js';
import { BlkfrontError } from './errors.js';

export class FramePool {
  private readonly free: number[] = [];
  private readonly waiters: Array<{ n: number; resolve(pfns: number[]): void }> = [];

  constructor(
    readonly memory: GuestMemory,
    first: number,
    readonly capacity: number,
  ) {
    if (!Number.isSafeInteger(first) || first < 0 || capacity < 1 || first + capacity > memory.nrFrames)
      throw new BlkfrontError(
        'EINVAL',
        `blkfront frames ${first}..${first + capacity - 1} are outside the guest's ${memory.nrFrames} frames`,
      );
    // Lowest pfn handed out first.
    for (let pfn = first + capacity - 1; pfn >= first; pfn--) this.free.push(pfn);
  }

  get available(): number {
    return this.free.length;
  }

  /** `n` frames, once that many are free (first come, first served). */
  take(n: number): Promise<number[]> {
    if (!Number.isSafeInteger(n) || n < 1 || n > this.capacity)
      return Promise.reject(new BlkfrontError('EINVAL', `${n} frames asked of a pool of ${this.capacity}`));
    if (this.waiters.length === 0 && this.free.length >= n) return Promise.resolve(this.free.splice(-n).reverse());
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  give(pfns: readonly number[]): void {
    for (const pfn of pfns) this.free.push(pfn);
    while (this.waiters.length > 0 && this.free.length >= this.waiters[0].n) {
      const w = this.waiters.shift()!;
      w.resolve(this.free.splice(-w.n).reverse());
    }
  }
}

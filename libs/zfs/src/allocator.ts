// The in-memory free-space map of one top-level vdev: a bitmap of SECTOR-sized units over the allocatable
// region, 1 = allocated. It is rebuilt at import by replaying the vdev's space map (spacemap.ts) and changed
// only in syncing context: alloc() while a txg writes its blocks, free() once the txg that freed a block is
// on disk (the caller defers it; see txg.ts). Each txg allocates first-fit from the start of the region
// (so space freed by earlier txgs is reused at once and the pool stays compact) and next-fit within the
// txg (so its blocks stay in address order and their writes coalesce).
import { SECTOR } from './constants.js';
import { ZfsError } from './errors.js';

export interface Extent {
  readonly offset: number;
  readonly size: number;
}

export class SpaceAllocator {
  private readonly bits: Uint32Array;
  private readonly units: number;
  private cursor = 0;
  private used = 0;

  constructor(
    readonly vdev: number,
    readonly start: number,
    readonly end: number,
  ) {
    if (start % SECTOR !== 0 || end % SECTOR !== 0 || end <= start) {
      throw new ZfsError('EINVAL', `vdev ${vdev}: allocatable region [${start}, ${end}) is not whole sectors`);
    }
    this.units = (end - start) / SECTOR;
    this.bits = new Uint32Array(Math.ceil(this.units / 32));
  }

  get totalBytes(): number {
    return this.units * SECTOR;
  }

  get allocatedBytes(): number {
    return this.used * SECTOR;
  }

  get freeBytes(): number {
    return (this.units - this.used) * SECTOR;
  }

  /** A new txg starts allocating from the lowest free space. */
  rewind(): void {
    this.cursor = 0;
  }

  private isSet(u: number): boolean {
    return (this.bits[u >>> 5] & (1 << (u & 31))) !== 0;
  }

  private setRange(first: number, count: number, value: boolean): void {
    for (let u = first; u < first + count; u++) {
      if (value) this.bits[u >>> 5] |= 1 << (u & 31);
      else this.bits[u >>> 5] &= ~(1 << (u & 31));
    }
    this.used += value ? count : -count;
  }

  private unitsOf(offset: number, size: number, what: string): [number, number] {
    if (offset % SECTOR !== 0 || size % SECTOR !== 0 || size <= 0 || offset < this.start || offset + size > this.end) {
      throw new ZfsError(
        'EIO',
        `${what}: extent [${offset}, +${size}) is not whole sectors inside vdev ${this.vdev}'s allocatable region`,
      );
    }
    return [(offset - this.start) / SECTOR, size / SECTOR];
  }

  /** Allocates `size` bytes (whole sectors); undefined when no free run is long enough. */
  alloc(size: number): number | undefined {
    const need = size / SECTOR;
    if (!Number.isInteger(need) || need <= 0)
      throw new ZfsError('EINVAL', `allocation of ${size} bytes is not whole sectors`);
    if (need > this.units - this.used) return undefined;
    const found = this.findRun(this.cursor, this.units, need) ?? this.findRun(0, this.units, need);
    if (found === undefined) return undefined;
    this.setRange(found, need, true);
    this.cursor = found + need;
    return this.start + found * SECTOR;
  }

  private findRun(from: number, to: number, need: number): number | undefined {
    let runStart = from;
    let run = 0;
    for (let u = from; u < to; u++) {
      if ((u & 31) === 0 && run === 0 && this.bits[u >>> 5] === 0xffffffff) {
        u += 31;
        runStart = u + 1;
        continue;
      }
      if (this.isSet(u)) {
        run = 0;
        runStart = u + 1;
      } else if (++run === need) {
        return runStart;
      }
    }
    return undefined;
  }

  /** Replays an allocation record; allocating an allocated unit means the map is corrupt. */
  markAllocated(offset: number, size: number, what = 'space map'): void {
    const [first, count] = this.unitsOf(offset, size, what);
    for (let u = first; u < first + count; u++) {
      if (this.isSet(u))
        throw new ZfsError('EIO', `${what}: [${offset}, +${size}) on vdev ${this.vdev} is already allocated`);
    }
    this.setRange(first, count, true);
  }

  /** Returns an extent to the free pool; freeing a free unit means a double free. */
  free(offset: number, size: number, what = 'free'): void {
    const [first, count] = this.unitsOf(offset, size, what);
    for (let u = first; u < first + count; u++) {
      if (!this.isSet(u))
        throw new ZfsError('EIO', `${what}: [${offset}, +${size}) on vdev ${this.vdev} is not allocated`);
    }
    this.setRange(first, count, false);
  }

  isAllocated(offset: number): boolean {
    const [first] = this.unitsOf(offset, SECTOR, 'lookup');
    return this.isSet(first);
  }

  /** The allocated runs in offset order. */
  extents(): Extent[] {
    return this.extentsExcluding([]);
  }

  /** The allocated runs once `exclude` (allocated extents) is taken out: what a condensed space map records. */
  extentsExcluding(exclude: readonly Extent[]): Extent[] {
    const bits = Uint32Array.from(this.bits);
    const isSet = (u: number): boolean => (bits[u >>> 5] & (1 << (u & 31))) !== 0;
    for (const e of exclude) {
      const [first, count] = this.unitsOf(e.offset, e.size, 'condense');
      for (let u = first; u < first + count; u++) bits[u >>> 5] &= ~(1 << (u & 31));
    }
    const out: Extent[] = [];
    let runStart = -1;
    for (let u = 0; u <= this.units; u++) {
      const set = u < this.units && isSet(u);
      if (set && runStart < 0) runStart = u;
      if (!set && runStart >= 0) {
        out.push({ offset: this.start + runStart * SECTOR, size: (u - runStart) * SECTOR });
        runStart = -1;
      }
    }
    return out;
  }
}

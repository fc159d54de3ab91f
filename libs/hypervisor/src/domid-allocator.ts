// Domain ids as Xen and libxl hand them out: the next id after the last one allocated (two consecutive
// creations never get the same id), skipping ids in use and ids freed less than a quarantine ago (libxl keeps
// recently freed ids out of circulation so that stale references to a dead domain cannot hit a new one), and
// wrapping below DOMID_FIRST_RESERVED back to 1 (0 is dom0's for ever).
import { DOMID, type DomId } from '@dominion/abi';
import { HypervisorError } from './errors.js';

/** libxl's quarantine of a freed domid. */
export const DOMID_QUARANTINE_MS = 60_000;

export interface DomidAllocatorOptions {
  /** The last id handed out (0 at boot: dom0). */
  last?: DomId;
  quarantineMs?: number;
}

export class DomidAllocator {
  private last: DomId;
  private readonly quarantineMs: number;
  private readonly inUse = new Set<DomId>([0]);
  /** domid -> when it was freed (ms). */
  private readonly freedAt = new Map<DomId, number>();

  constructor(opts: DomidAllocatorOptions = {}) {
    this.last = opts.last ?? 0;
    this.quarantineMs = opts.quarantineMs ?? DOMID_QUARANTINE_MS;
  }

  allocate(now: number): DomId {
    this.expire(now);
    let quarantined = 0;
    let id = this.last;
    for (let i = 0; i < DOMID.DOMID_FIRST_RESERVED - 1; i++) {
      id = id + 1 >= DOMID.DOMID_FIRST_RESERVED ? 1 : id + 1;
      if (this.inUse.has(id)) continue;
      if (this.freedAt.has(id)) {
        quarantined++;
        continue;
      }
      this.inUse.add(id);
      this.last = id;
      return id;
    }
    if (quarantined > 0) {
      const soonest = Math.min(...this.freedAt.values()) + this.quarantineMs - now;
      throw new HypervisorError(
        'EAGAIN',
        `no domid free: ${quarantined} recently freed ids are quarantined; the first frees in ${Math.ceil(soonest / 1000)} s`,
      );
    }
    throw new HypervisorError('ENOSPC', `no domid free: all ${DOMID.DOMID_FIRST_RESERVED - 1} ids are in use`);
  }

  /** Returns `id` to the pool after the quarantine. */
  release(id: DomId, now: number): void {
    if (!this.inUse.delete(id)) return;
    this.freedAt.set(id, now);
  }

  isQuarantined(id: DomId, now: number): boolean {
    this.expire(now);
    return this.freedAt.has(id);
  }

  private expire(now: number): void {
    for (const [id, t] of this.freedAt) if (now - t >= this.quarantineMs) this.freedAt.delete(id);
  }
}

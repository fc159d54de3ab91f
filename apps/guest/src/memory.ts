// A guest's pseudo-physical memory: `memory` MiB of 4 KiB frames, each allocated on first touch, and the
// grant table (libs/ring's) that lets other domains copy its frames.
import { XEN_PAGE_SIZE, type DomId, type GrantRef } from '@dominion/abi';
import { GrantTable } from '@dominion/ring';
import { GuestError } from './errors.js';

export interface GrantInfo {
  ref: GrantRef;
  domid: DomId;
  pfn: number;
  readonly: boolean;
}

export class GuestMemory {
  readonly nrFrames: number;
  readonly grants: GrantTable;
  private readonly frames = new Map<number, Uint8Array>();
  private readonly grantedPfn = new Map<GrantRef, number>();

  constructor(memoryKiB: number, opts: { maxGrants?: number } = {}) {
    if (!Number.isSafeInteger(memoryKiB) || memoryKiB < 4 || memoryKiB % 4 !== 0)
      throw new GuestError('EINVAL', `guest memory ${memoryKiB} KiB is not a positive multiple of 4 KiB`);
    this.nrFrames = memoryKiB / 4;
    this.grants = new GrantTable({ maxEntries: opts.maxGrants });
  }

  get totalKiB(): number {
    return this.nrFrames * 4;
  }

  /** KiB of frames touched so far. */
  get allocatedKiB(): number {
    return this.frames.size * 4;
  }

  /** The frame `pfn`, zero-filled on first use. */
  frame(pfn: number): Uint8Array {
    if (!Number.isSafeInteger(pfn) || pfn < 0 || pfn >= this.nrFrames)
      throw new GuestError('EINVAL', `pfn ${pfn} is outside this guest's ${this.nrFrames} frames`);
    let f = this.frames.get(pfn);
    if (!f) {
      f = new Uint8Array(XEN_PAGE_SIZE);
      this.frames.set(pfn, f);
    }
    return f;
  }

  /** gnttab_grant_foreign_access: lets `domid` copy frame `pfn` (and into it unless readonly). */
  grant(domid: DomId, pfn: number, readonly = false): GrantRef {
    const ref = this.grants.grant(domid, this.frame(pfn), readonly);
    this.grantedPfn.set(ref, pfn);
    return ref;
  }

  revoke(ref: GrantRef): void {
    this.grants.revoke(ref);
    this.grantedPfn.delete(ref);
  }

  query(ref: GrantRef): GrantInfo | undefined {
    const e = this.grants.get(ref);
    const pfn = this.grantedPfn.get(ref);
    return e && pfn !== undefined ? { ref, domid: e.domid, pfn, readonly: e.readonly } : undefined;
  }
}

// Syncing context of one transaction group. Everything a txg writes goes to newly allocated extents
// (copy-on-write); the writes are queued here and issued together, sorted and coalesced, before the
// caller's fsync. What the txg frees is only recorded: those extents are still referenced by the previous
// txg's tree, which stays the pool's on-disk truth until this txg's uberblock is durable, so the caller
// hands them back to the allocators only after that (commitFrees).
import { BlockCache } from './arc.js';
import { isHole, type BlockPointer, type BlockType } from './blkptr.js';
import { checksumOf, type ChecksumAlgo } from './checksum/index.js';
import { compressForStorage, type CompressionAlgo } from './compression/index.js';
import { SECTOR } from './constants.js';
import type { SpaceAllocator } from './allocator.js';
import { ZfsError } from './errors.js';
import { roundUp } from './u64.js';
import type { TopVdev } from './vdev.js';

export interface VdevExtent {
  readonly vdev: number;
  readonly offset: number;
  readonly size: number;
}

interface QueuedWrite {
  readonly vdev: number;
  readonly offset: number;
  readonly data: Buffer;
}

/** Writes larger than this are not merged further. */
const MAX_COALESCED_WRITE = 1024 * 1024;
/** Bytes allocated on one top-level vdev before moving to the next (ZFS's metaslab aliquot). */
const ALIQUOT = 512 * 1024;

/** Which top-level vdev allocates next, and how much it has taken; it carries over from txg to txg. */
export interface AllocationRotor {
  vdev: number;
  bytes: number;
}

export class TxSync {
  /** Allocations and frees the space maps record (in this order: a block born and freed in one txg). */
  readonly allocs: VdevExtent[] = [];
  readonly frees: VdevExtent[] = [];
  /**
   * Those they do not: the space maps' own blocks and the MOS block, which import marks allocated by
   * walking them from the uberblock (recording them would make each space map depend on itself).
   */
  readonly unrecordedAllocs: VdevExtent[] = [];
  readonly unrecordedFrees: VdevExtent[] = [];
  private readonly writes: QueuedWrite[] = [];

  constructor(
    readonly txg: number,
    private readonly allocators: readonly SpaceAllocator[],
    private readonly cache: BlockCache,
    private readonly rotor: AllocationRotor = { vdev: 0, bytes: 0 },
  ) {
    for (const a of allocators) a.rewind();
  }

  /** Allocates `size` bytes on some top-level vdev, moving on to the next every ALIQUOT bytes as ZFS does. */
  allocate(size: number, what: string, recorded = true): VdevExtent {
    for (let i = 0; i < this.allocators.length; i++) {
      const a = this.allocators[(this.rotor.vdev + i) % this.allocators.length];
      const offset = a.alloc(size);
      if (offset !== undefined) {
        if (i > 0) this.rotor.bytes = 0;
        this.rotor.vdev = a.vdev;
        this.rotor.bytes += size;
        if (this.rotor.bytes >= ALIQUOT) {
          this.rotor.vdev = (this.rotor.vdev + 1) % this.allocators.length;
          this.rotor.bytes = 0;
        }
        const ext = { vdev: a.vdev, offset, size };
        (recorded ? this.allocs : this.unrecordedAllocs).push(ext);
        return ext;
      }
    }
    throw new ZfsError('ENOSPC', `out of space: no free run of ${size} bytes for ${what} in txg ${this.txg}`);
  }

  /**
   * Writes a new block of `data` (its lsize; a whole number of 32-bit words), compressed with `compression`
   * if that pays, and returns its pointer, born in this txg.
   */
  writeBlock(
    type: BlockType,
    level: number,
    data: Buffer,
    checksumAlgo: ChecksumAlgo,
    fill: number,
    what: string,
    recorded = true,
    compression: CompressionAlgo = 'off',
  ): BlockPointer {
    const stored = compressForStorage(compression, data);
    const payload = stored.payload;
    const asize = roundUp(payload.length, SECTOR);
    const ext = this.allocate(asize, what, recorded);
    const padded = payload.length === asize ? payload : Buffer.concat([payload, Buffer.alloc(asize - payload.length)]);
    const bp: BlockPointer = {
      vdev: ext.vdev,
      offset: ext.offset,
      asize,
      lsize: data.length,
      psize: payload.length,
      checksumAlgo,
      compression: stored.compression,
      type,
      level,
      birth: this.txg,
      fill,
      checksum: checksumOf(checksumAlgo, payload),
    };
    this.writes.push({ vdev: ext.vdev, offset: ext.offset, data: padded });
    this.cache.set(BlockCache.key(bp.vdev, bp.offset, bp.birth), data);
    return bp;
  }

  /** Frees a block once this txg is on disk. */
  free(bp: BlockPointer, recorded = true): void {
    if (isHole(bp)) return;
    (recorded ? this.frees : this.unrecordedFrees).push({ vdev: bp.vdev, offset: bp.offset, size: bp.asize });
  }

  /** Hands every extent this txg freed back to its allocator: call once the txg's uberblock is durable. */
  commitFrees(): void {
    for (const f of [...this.frees, ...this.unrecordedFrees])
      this.allocators[f.vdev].free(f.offset, f.size, `txg ${this.txg} free`);
  }

  get queuedBytes(): number {
    return this.writes.reduce((n, w) => n + w.data.length, 0);
  }

  /** Issues every queued write, adjacent ones merged, and waits for them (not for their durability). */
  async issueWrites(vdevs: readonly TopVdev[]): Promise<void> {
    const sorted = [...this.writes].sort((a, b) => a.vdev - b.vdev || a.offset - b.offset);
    this.writes.length = 0;
    const merged: QueuedWrite[] = [];
    let run: QueuedWrite[] = [];
    let runBytes = 0;
    const close = (): void => {
      if (run.length === 0) return;
      merged.push(
        run.length === 1
          ? run[0]
          : { vdev: run[0].vdev, offset: run[0].offset, data: Buffer.concat(run.map((w) => w.data)) },
      );
      run = [];
      runBytes = 0;
    };
    for (const w of sorted) {
      const last = run[run.length - 1];
      if (
        last === undefined ||
        last.vdev !== w.vdev ||
        last.offset + last.data.length !== w.offset ||
        runBytes + w.data.length > MAX_COALESCED_WRITE
      ) {
        close();
      }
      run.push(w);
      runBytes += w.data.length;
    }
    close();
    await Promise.all(merged.map((w) => vdevs[w.vdev].write(w.offset, w.data)));
  }
}

// The read side of block pointers: fetch the DVA, verify the checksum the pointer carries, and either return
// the block or fail with EIO. Bad data is never returned. On a mirror each ONLINE child is tried in turn:
// a copy that fails its checksum is counted against its child (CKSUM), and once a good copy is found the
// bad ones are rewritten with it (self-healing). Rewriting in place is safe: a referenced block's bytes
// never change, and its extent cannot be reused while a tree still reaches it.
import { BlockCache } from './arc.js';
import { describeBlkptr, isHole, type BlockPointer } from './blkptr.js';
import { checksumOf } from './checksum/index.js';
import { decompressBlock } from './compression/index.js';
import { ZfsError } from './errors.js';
import type { LeafVdev, TopVdev } from './vdev.js';

/** What one verified read of all copies found (scrub's unit of work). */
export interface CopiesReport {
  readonly bad: number;
  readonly repaired: number;
  readonly unrecoverable: boolean;
}

export class BlockReader {
  /** Blocks no copy of which verified (what `zpool status` reports as data errors). */
  dataErrors = 0;

  constructor(
    private readonly vdevs: readonly TopVdev[],
    readonly cache: BlockCache,
  ) {}

  /** The block's lsize bytes. `what` names the block for the error message (dataset, blkid, ...). */
  async read(bp: BlockPointer, what: string): Promise<Buffer> {
    if (isHole(bp)) throw new ZfsError('EINVAL', `${what}: reading a hole`);
    const key = BlockCache.key(bp.vdev, bp.offset, bp.birth);
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const raw = await this.readVerified(bp, what, false);
    const data = decompressBlock(bp, raw, what);
    this.cache.set(key, data);
    return data;
  }

  /** Reads and verifies every copy of the block, healing bad ones from a good one (scrub). */
  async checkCopies(bp: BlockPointer, what: string): Promise<CopiesReport> {
    const before = this.dataErrors;
    const leaves = this.vdevOf(bp, what).leaves;
    const badBefore = leaves.reduce((n, l) => n + l.stats.checksumErrors + l.stats.readErrors, 0);
    const repairedBefore = leaves.reduce((n, l) => n + l.repairedBytes, 0);
    try {
      await this.readVerified(bp, what, true);
    } catch (e) {
      if (!(e instanceof ZfsError) || e.kind !== 'EIO') throw e;
    }
    return {
      bad: leaves.reduce((n, l) => n + l.stats.checksumErrors + l.stats.readErrors, 0) - badBefore,
      repaired: leaves.reduce((n, l) => n + l.repairedBytes, 0) - repairedBefore,
      unrecoverable: this.dataErrors > before,
    };
  }

  private vdevOf(bp: BlockPointer, what: string): TopVdev {
    const vdev = this.vdevs[bp.vdev];
    if (vdev === undefined)
      throw new ZfsError('EIO', `${what}: ${describeBlkptr(bp)} names a vdev the pool does not have`);
    return vdev;
  }

  /** The psize bytes of a copy that verifies; with `allCopies`, every ONLINE copy is read and checked. */
  private async readVerified(bp: BlockPointer, what: string, allCopies: boolean): Promise<Buffer> {
    const vdev = this.vdevOf(bp, what);
    const bad: LeafVdev[] = [];
    let good: Buffer | undefined;
    let lastError = '';
    for (const leaf of vdev.leaves) {
      if (leaf.state !== 'ONLINE') continue;
      if (good !== undefined && !allCopies) break;
      let raw: Buffer;
      try {
        raw = await leaf.read(bp.offset, bp.psize);
      } catch (e) {
        lastError = e instanceof Error ? e.message : String(e);
        bad.push(leaf);
        continue;
      }
      if (checksumOf(bp.checksumAlgo, raw).equals(bp.checksum)) {
        good ??= raw;
      } else {
        leaf.stats.checksumErrors++;
        lastError = `checksum mismatch in ${describeBlkptr(bp)} on ${leaf.path}`;
        bad.push(leaf);
      }
    }
    if (good === undefined) {
      this.dataErrors++;
      throw new ZfsError('EIO', `${what}: ${lastError || `no ONLINE copy of ${describeBlkptr(bp)}`}`);
    }
    for (const leaf of bad) {
      try {
        await leaf.write(bp.offset, good);
        leaf.repairedBytes += good.length;
      } catch {
        // The child stays bad; the next read or scrub tries again.
      }
    }
    return good;
  }
}

// The read side of block pointers: fetch the DVA, verify the checksum the pointer carries, and either return
// the block or fail with EIO and count a checksum error against the vdev. Bad data is never returned.
// (With mirrors, a failed copy will be retried on another child and healed.)
import { BlockCache } from './arc.js';
import { describeBlkptr, isHole, type BlockPointer } from './blkptr.js';
import { checksumOf } from './checksum/index.js';
import { ZfsError } from './errors.js';
import type { TopVdev } from './vdev.js';

export class BlockReader {
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
    const vdev = this.vdevs[bp.vdev];
    if (vdev === undefined)
      throw new ZfsError('EIO', `${what}: ${describeBlkptr(bp)} names a vdev the pool does not have`);
    const raw = await vdev.read(bp.offset, bp.psize);
    if (!checksumOf(bp.checksumAlgo, raw).equals(bp.checksum)) {
      for (const leaf of vdev.leaves) leaf.stats.checksumErrors++;
      throw new ZfsError('EIO', `${what}: checksum mismatch in ${describeBlkptr(bp)} on ${vdev.leaves[0].path}`);
    }
    const data = bp.lsize === bp.psize ? raw : raw.subarray(0, bp.lsize);
    this.cache.set(key, data);
    return data;
  }
}

// A volume's head in open context: its tree as of the last synced txg (the dnode) plus the blocks written
// since, whole, waiting for the next txg. It also keeps what the space check needs to bound, without a
// walk, what syncing them will allocate: the data blocks, and the indirect blocks on their paths.
import { CHAIN_BLOCK_MAX } from './chain.js';
import { BLKPTR_SIZE, INDIRECT_BLOCK_SIZE, SECTOR } from './constants.js';
import { spanOf } from './object-tree.js';
import type { Dnode } from './objset.js';
import { roundUp } from './u64.js';

export class VolumeHead {
  /** Whole volume blocks; null is a discarded block. */
  private readonly blocks = new Map<number, Buffer | null>();
  /** Indirect blocks the dirty blocks will rewrite, by level then index. */
  private readonly ancestors: Set<number>[] = [];
  private dataBlocks = 0;
  private indirectBlocks = 0;

  constructor(public dnode: Dnode) {}

  get dirty(): ReadonlyMap<number, Buffer | null> {
    return this.blocks;
  }

  /** Bytes of volume blocks dirty (what the dirty limit counts). */
  get dirtyBytes(): number {
    return this.blocks.size * this.dnode.blockSize;
  }

  set(blkid: number, data: Buffer | null): void {
    const old = this.blocks.get(blkid);
    if (old instanceof Buffer) this.dataBlocks--;
    if (data !== null) this.dataBlocks++;
    this.blocks.set(blkid, data);
    for (let level = 1; level < this.dnode.nlevels; level++) {
      const set = (this.ancestors[level] ??= new Set());
      const index = Math.floor(blkid / spanOf(level));
      if (!set.has(index)) {
        set.add(index);
        this.indirectBlocks++;
      }
    }
  }

  /** Throws away everything dirty (synced, or rolled back). */
  clear(): void {
    this.blocks.clear();
    this.ancestors.length = 0;
    this.dataBlocks = 0;
    this.indirectBlocks = 0;
  }

  /**
   * An upper bound of what syncing this head allocates if `more` blocks are written on top: each data
   * block, each indirect block on their paths, the objset block, and deadlist room for every block replaced.
   */
  estimate(more: Iterable<number> = []): number {
    let data = this.dataBlocks;
    let indirect = this.indirectBlocks;
    const extra: Set<number>[] = [];
    for (const blkid of more) {
      if (!(this.blocks.get(blkid) instanceof Buffer)) data++;
      for (let level = 1; level < this.dnode.nlevels; level++) {
        const index = Math.floor(blkid / spanOf(level));
        const seen = (extra[level] ??= new Set());
        if (!this.ancestors[level]?.has(index) && !seen.has(index)) {
          seen.add(index);
          indirect++;
        }
      }
    }
    if (data === 0 && indirect === 0 && this.blocks.size === 0) return 0;
    return (
      data * roundUp(this.dnode.blockSize, SECTOR) +
      indirect * INDIRECT_BLOCK_SIZE +
      SECTOR +
      roundUp((data + indirect + 1) * BLKPTR_SIZE, SECTOR) +
      CHAIN_BLOCK_MAX
    );
  }
}

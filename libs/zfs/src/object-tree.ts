// The block tree of one object: level-0 blocks hold data, each indirect block holds INDIRECT_FANOUT block
// pointers to the level below, and the dnode points at the single top block. Unwritten ranges are holes at
// whatever level they start, so a sparse volume costs nothing for what it has never written.
//
// Syncing a dirty set rewrites, copy-on-write, exactly the blocks on the paths from the dirty level-0
// blocks up to the top; every block it replaces is handed to `kill` (which applies the birth-time rule).
import { BLKPTR_SIZE, INDIRECT_BLOCK_SIZE, INDIRECT_FANOUT } from './constants.js';
import { decodeBlkptr, encodeBlkptr, HOLE, isHole, type BlockPointer } from './blkptr.js';
import type { BlockReader } from './block-reader.js';
import type { ChecksumAlgo } from './checksum/index.js';
import type { CompressionAlgo } from './compression/index.js';
import { decodeMetaBlock, decodeObjset, levelsFor, type Dnode } from './objset.js';
import type { TxSync } from './txg.js';

/** Level-0 blocks under one block pointer of level `level`. */
export function spanOf(level: number): number {
  return INDIRECT_FANOUT ** level;
}

export function decodeIndirect(buf: Buffer, where: string): BlockPointer[] {
  const out: BlockPointer[] = [];
  for (let i = 0; i < INDIRECT_FANOUT; i++) out.push(decodeBlkptr(buf, i * BLKPTR_SIZE, `${where} slot ${i}`));
  return out;
}

function encodeIndirect(children: readonly BlockPointer[]): Buffer {
  const out = Buffer.alloc(INDIRECT_BLOCK_SIZE);
  children.forEach((bp, i) => encodeBlkptr(bp, out, i * BLKPTR_SIZE));
  return out;
}

/** The level-0 block pointer of `blkid` (a hole if any level above it is one). */
export async function lookupBlock(
  reader: BlockReader,
  dnode: Dnode,
  blkid: number,
  what: string,
): Promise<BlockPointer> {
  let bp = dnode.root;
  for (let level = dnode.nlevels - 1; level > 0; level--) {
    if (isHole(bp)) return HOLE;
    const slot = Math.floor(blkid / spanOf(level - 1)) % INDIRECT_FANOUT;
    bp = decodeBlkptr(await reader.read(bp, `${what} L${level}`), slot * BLKPTR_SIZE, `${what} L${level} slot ${slot}`);
  }
  return bp;
}

export interface RewriteContext {
  readonly tx: TxSync;
  readonly reader: BlockReader;
  readonly checksum: ChecksumAlgo;
  /** For data blocks (indirect blocks are stored as they are). */
  readonly compression: CompressionAlgo;
  readonly what: string;
  /** A block of the old tree is no longer referenced by this one. */
  kill(bp: BlockPointer): void;
  /** A block was written for the new tree. */
  born(bp: BlockPointer): void;
}

function isZero(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * Writes the dirty level-0 blocks (null or all zeros: a hole, as ZFS's zero-block detection makes them)
 * and the indirect blocks above them; returns the new top block pointer.
 */
export async function rewriteTree(
  ctx: RewriteContext,
  dnode: Dnode,
  dirty: ReadonlyMap<number, Buffer | null>,
): Promise<BlockPointer> {
  const ids = [...dirty.keys()].sort((a, b) => a - b);
  if (ids.length === 0) return dnode.root;
  return rewrite(ctx, dnode.root, dnode.nlevels - 1, 0, ids, dirty);
}

/**
 * rewriteTree for an object that may grow (files, the meta-dnode): when a dirty blkid lies past what the
 * tree's levels cover, the tree first gets more levels, the old top block becoming the first child of the
 * new one. Returns the dnode with its new top block, levels and max blkid.
 */
export async function rewriteObject(
  ctx: RewriteContext,
  dnode: Dnode,
  dirty: ReadonlyMap<number, Buffer | null>,
): Promise<Dnode> {
  if (dirty.size === 0) return dnode;
  let maxBlkid = dnode.maxBlkid;
  for (const blkid of dirty.keys()) if (blkid > maxBlkid) maxBlkid = blkid;
  const nlevels = Math.max(dnode.nlevels, levelsFor(maxBlkid + 1));
  let root = dnode.root;
  for (let level = dnode.nlevels; level < nlevels && !isHole(root); level++) {
    // Written for real and rewritten at once below (born and freed in this txg): growth is rare.
    const children = new Array<BlockPointer>(INDIRECT_FANOUT).fill(HOLE);
    children[0] = root;
    root = ctx.tx.writeBlock('indirect', level, encodeIndirect(children), ctx.checksum, root.fill, ctx.what);
    ctx.born(root);
  }
  const grown: Dnode = { ...dnode, nlevels, maxBlkid, root };
  return { ...grown, root: await rewriteTree(ctx, grown, dirty) };
}

/** Kills every block of a tree (an object being freed): cost is the object's size. */
export async function killTree(ctx: RewriteContext, dnode: Dnode): Promise<void> {
  const all: BlockPointer[] = [];
  await walkTree(ctx.reader, dnode.root, dnode.nlevels - 1, 0, ctx.what, (bp) => {
    all.push(bp);
    return true;
  });
  for (const bp of all) ctx.kill(bp);
}

/**
 * Every block of a dataset's tree below its objset block (not the objset block itself): the volume's data
 * object, or a filesystem's meta-dnode and every object in it. `visit` prunes as in walkTree; a pruned
 * meta-dnode block hides the objects in it (none of them changed after the block's birth).
 */
export async function walkObjset(
  reader: BlockReader,
  objset: BlockPointer,
  what: string,
  visit: (bp: BlockPointer, level: number, blkid: number, object: number) => boolean,
): Promise<void> {
  const os = decodeObjset(await reader.read(objset, `${what} objset`), `${what} objset`);
  if (os.type === 'volume') {
    for (const dn of os.dnodes)
      await walkTree(reader, dn.root, dn.nlevels - 1, 0, what, (bp, l, b) => visit(bp, l, b, 1));
    return;
  }
  const meta = os.dnodes[0];
  const metaBlocks: { bp: BlockPointer; blkid: number }[] = [];
  await walkTree(reader, meta.root, meta.nlevels - 1, 0, `${what} meta-dnode`, (bp, level, blkid) => {
    const descend = visit(bp, level, blkid, 0);
    if (descend && level === 0) metaBlocks.push({ bp, blkid });
    return descend;
  });
  for (const { bp, blkid } of metaBlocks) {
    const where = `${what} meta-dnode blkid ${blkid}`;
    for (const [obj, dn] of decodeMetaBlock(await reader.read(bp, where), blkid, where))
      await walkTree(reader, dn.root, dn.nlevels - 1, 0, `${what} object ${obj}`, (b, l, id) => visit(b, l, id, obj));
  }
}

async function rewrite(
  ctx: RewriteContext,
  old: BlockPointer,
  level: number,
  base: number,
  ids: readonly number[],
  dirty: ReadonlyMap<number, Buffer | null>,
): Promise<BlockPointer> {
  if (level === 0) {
    const data = dirty.get(ids[0]) ?? null;
    if (data === null || isZero(data)) {
      if (isHole(old)) return old;
      ctx.kill(old);
      return HOLE;
    }
    ctx.kill(old);
    const bp = ctx.tx.writeBlock(
      'data',
      0,
      data,
      ctx.checksum,
      1,
      `${ctx.what} blkid ${ids[0]}`,
      true,
      ctx.compression,
    );
    ctx.born(bp);
    return bp;
  }
  const where = `${ctx.what} L${level} @${base}`;
  const children = isHole(old)
    ? new Array<BlockPointer>(INDIRECT_FANOUT).fill(HOLE)
    : decodeIndirect(await ctx.reader.read(old, where), where);
  const span = spanOf(level - 1);
  let changed = false;
  for (let i = 0; i < ids.length;) {
    const slot = Math.floor((ids[i] - base) / span);
    let j = i;
    while (j < ids.length && Math.floor((ids[j] - base) / span) === slot) j++;
    const next = await rewrite(ctx, children[slot], level - 1, base + slot * span, ids.slice(i, j), dirty);
    if (next !== children[slot]) {
      children[slot] = next;
      changed = true;
    }
    i = j;
  }
  if (!changed) return old;
  ctx.kill(old);
  const fill = children.reduce((n, c) => n + c.fill, 0);
  if (fill === 0) return HOLE;
  const bp = ctx.tx.writeBlock('indirect', level, encodeIndirect(children), ctx.checksum, fill, where);
  ctx.born(bp);
  return bp;
}

/**
 * Visits the tree under `bp` top-down. `visit` returns whether to descend into an indirect block: pruning
 * by birth txg (a subtree born no later than T holds nothing born after T) is what makes rollback and
 * incremental walks cost what changed rather than the volume's size.
 */
export async function walkTree(
  reader: BlockReader,
  bp: BlockPointer,
  level: number,
  base: number,
  what: string,
  visit: (bp: BlockPointer, level: number, blkid: number) => boolean,
): Promise<void> {
  if (isHole(bp)) return;
  if (!visit(bp, level, base) || level === 0) return;
  const where = `${what} L${level} @${base}`;
  const children = decodeIndirect(await reader.read(bp, where), where);
  const span = spanOf(level - 1);
  for (let i = 0; i < children.length; i++)
    await walkTree(reader, children[i], level - 1, base + i * span, what, visit);
}

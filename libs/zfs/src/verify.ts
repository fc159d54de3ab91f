// A zdb-like walk of everything the pool references, for debugging and for the crash tests: the map of
// every block pointer (which block belongs to whom), and a check that the space maps agree with the trees
// (nothing referenced is free, nothing allocated is unreferenced, no two blocks overlap), that every
// deadlist holds exactly the blocks the birth-time rule says it should, and that the space accounting adds
// up. It reads every tree in full, so it costs the size of the pool, like zdb -b.
import { BLKPTR_SIZE, SECTOR } from './constants.js';
import { isHole, type BlockPointer, type BlockType } from './blkptr.js';
import type { BlockReader } from './block-reader.js';
import type { SpaceAllocator } from './allocator.js';
import { readChainBlocks } from './chain.js';
import { bucketKey, deadlistEntries, deadlistLists, type Deadlist } from './deadlist.js';
import type { ChecksumAlgo } from './checksum/index.js';
import type { CompressionAlgo } from './compression/index.js';
import type { MosState } from './mos.js';
import { walkObjset } from './object-tree.js';
import { SM_ENTRY_SIZE } from './spacemap.js';

/** What verify and the block map need of a pool: its in-memory state as of the last synced txg. */
export interface PoolView {
  readonly reader: BlockReader;
  readonly mos: MosState;
  readonly mosBp: BlockPointer;
  readonly allocators: readonly SpaceAllocator[];
}

export interface BlockMapEntry {
  /** "tank/vm1", "tank/vm1@monday", "tank/vm1 deadlist", "MOS", "space map of vdev 0". */
  readonly owner: string;
  readonly type: BlockType;
  readonly level: number;
  /** For data blocks: which volume block this is. */
  readonly blkid: number | undefined;
  readonly vdev: number;
  readonly offset: number;
  readonly asize: number;
  readonly lsize: number;
  readonly psize: number;
  readonly birth: number;
  readonly checksumAlgo: ChecksumAlgo;
  readonly compression: CompressionAlgo;
}

/** A referenced block with its whole pointer (what scrub checks). */
export interface FoundBlock {
  readonly owner: string;
  readonly bp: BlockPointer;
  readonly blkid: number | undefined;
}

export interface VerifyReport {
  readonly ok: boolean;
  /** Distinct blocks referenced. */
  readonly blocks: number;
  readonly referencedBytes: number;
  readonly allocatedBytes: number;
  /** Allocated in a space map but referenced by nothing. */
  readonly leakedBytes: number;
  /** Referenced but free in the space maps. */
  readonly freeButReferencedBytes: number;
  /** Covered by two different blocks. */
  readonly doubleAllocatedBytes: number;
  readonly problems: readonly string[];
}

const dvaKey = (bp: { vdev: number; offset: number }): string => `${bp.vdev}:${bp.offset}`;

function entry({ owner, bp, blkid }: FoundBlock): BlockMapEntry {
  return {
    owner,
    type: bp.type,
    level: bp.level,
    blkid,
    vdev: bp.vdev,
    offset: bp.offset,
    asize: bp.asize,
    lsize: bp.lsize,
    psize: bp.psize,
    birth: bp.birth,
    checksumAlgo: bp.checksumAlgo,
    compression: bp.compression,
  };
}

const found = (owner: string, bp: BlockPointer, blkid?: number): FoundBlock => ({ owner, bp, blkid });

/** Every block of one dataset tree: the objset block, then the object's indirect and data blocks. */
async function treeBlocks(reader: BlockReader, objset: BlockPointer | undefined, owner: string): Promise<FoundBlock[]> {
  if (objset === undefined || isHole(objset)) return [];
  const out = [found(owner, objset)];
  await walkObjset(reader, objset, owner, (bp, level, blkid, object) => {
    out.push(found(object > 1 ? `${owner} object ${object}` : owner, bp, level === 0 ? blkid : undefined));
    return true;
  });
  return out;
}

async function deadlistChainBlocks(reader: BlockReader, dl: Deadlist, owner: string): Promise<FoundBlock[]> {
  const out: FoundBlock[] = [];
  for (const list of deadlistLists(dl)) {
    for (const { bp } of await readChainBlocks(reader, list, 'bpobj', BLKPTR_SIZE, owner)) out.push(found(owner, bp));
  }
  return out;
}

/** The debug map of block pointers: every block the pool references, each once (first owner wins). */
export async function blockMap(view: PoolView): Promise<BlockMapEntry[]> {
  return (await collectBlocks(view)).map(entry);
}

/**
 * Every block the pool references, each once (first owner wins). With `deadlistEntries`, also the blocks
 * deadlists list (they are snapshots' blocks, so already found through the snapshots' trees; scrub asks to
 * be sure nothing is missed).
 */
export async function collectBlocks(view: PoolView, withDeadlistEntries = false): Promise<FoundBlock[]> {
  const all: FoundBlock[] = [];
  if (!isHole(view.mosBp)) all.push(found('MOS', view.mosBp));
  for (let vdev = 0; vdev < view.mos.spaceMaps.length; vdev++) {
    const owner = `space map of vdev ${vdev}`;
    const chain = view.mos.spaceMaps[vdev].chain;
    if (chain === undefined) continue;
    for (const { bp } of await readChainBlocks(view.reader, chain, 'spacemap', SM_ENTRY_SIZE, owner))
      all.push(found(owner, bp));
  }
  for (const ds of view.mos.datasets) {
    all.push(...(await treeBlocks(view.reader, ds.objset, ds.name)));
    for (const s of [...ds.snapshots].reverse())
      all.push(...(await treeBlocks(view.reader, s.objset, `${ds.name}@${s.name}`)));
    all.push(...(await deadlistChainBlocks(view.reader, ds.deadlist, `${ds.name} deadlist`)));
    for (const s of ds.snapshots)
      all.push(...(await deadlistChainBlocks(view.reader, s.deadlist, `${ds.name}@${s.name} deadlist`)));
    if (withDeadlistEntries) {
      for (const { name, dl } of [
        { name: ds.name, dl: ds.deadlist },
        ...ds.snapshots.map((s) => ({ name: `${ds.name}@${s.name}`, dl: s.deadlist })),
      ]) {
        for (const bp of await deadlistEntries(view.reader, dl, `${name} deadlist`))
          all.push(found(`${name} deadlist entry`, bp));
      }
    }
  }
  const seen = new Set<string>();
  return all.filter((e) => {
    const k = dvaKey(e.bp);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

async function treeSet(
  reader: BlockReader,
  objset: BlockPointer | undefined,
  owner: string,
): Promise<Map<string, BlockPointer>> {
  return new Map((await treeBlocks(reader, objset, owner)).map((e) => [dvaKey(e.bp), e.bp]));
}

export async function verifyPool(view: PoolView): Promise<VerifyReport> {
  const problems: string[] = [];
  const blocks = (await collectBlocks(view)).map(entry);

  // Deadlists and accounting, dataset by dataset.
  for (const ds of view.mos.datasets) {
    if (ds.objset === undefined) continue;
    const head = await treeSet(view.reader, ds.objset, ds.name);
    const sum = (m: Map<string, BlockPointer>): number => [...m.values()].reduce((n, e) => n + e.asize, 0);
    const logical = (m: Map<string, BlockPointer>): number => [...m.values()].reduce((n, e) => n + e.lsize, 0);
    if (sum(head) !== ds.referenced)
      problems.push(`${ds.name}: referenced is ${ds.referenced}, its tree holds ${sum(head)} bytes`);
    if (logical(head) !== ds.logicalReferenced)
      problems.push(`${ds.name}: logicalreferenced is ${ds.logicalReferenced}, its tree holds ${logical(head)}`);
    const origin = ds.origin && view.mos.datasets.find((d) => d.id === ds.origin!.dataset);
    const originSnap = origin?.snapshots.find((s) => s.id === ds.origin!.snapshot);
    if (ds.origin !== undefined && originSnap === undefined) problems.push(`${ds.name}: its origin snapshot is gone`);
    // A clone's origin snapshot is its previous snapshot: what it kills of it goes on its deadlists.
    const snapTxgs = [...(ds.origin ? [ds.origin.txg] : []), ...ds.snapshots.map((s) => s.txg)];
    const originTree = originSnap
      ? await treeSet(view.reader, originSnap.objset, `${origin!.name}@${originSnap.name}`)
      : undefined;
    const trees = [];
    for (const s of ds.snapshots) {
      const t = await treeSet(view.reader, s.objset, `${ds.name}@${s.name}`);
      if (sum(t) !== s.referenced)
        problems.push(`${ds.name}@${s.name}: referenced is ${s.referenced}, its tree holds ${sum(t)} bytes`);
      trees.push(t);
    }
    trees.push(head);
    const owners = [
      ...ds.snapshots.map((s) => ({ name: `${ds.name}@${s.name}`, dl: s.deadlist })),
      { name: ds.name, dl: ds.deadlist },
    ];
    const onDeadlists = new Set<string>();
    for (let i = 0; i < owners.length; i++) {
      const { name, dl } = owners[i];
      for (const b of dl.buckets) {
        const bps = await deadlistEntries(view.reader, dl, `${name} deadlist`, b.minTxg);
        const bytes = bps.reduce((n, bp) => n + bp.asize, 0);
        if (bps.length !== b.count || bytes !== b.bytes) {
          problems.push(
            `${name} deadlist bucket ${b.minTxg}: says ${b.count} blocks / ${b.bytes} bytes, holds ${bps.length} / ${bytes}`,
          );
        }
        for (const bp of bps) {
          const k = dvaKey(bp);
          if (onDeadlists.has(k)) problems.push(`${name} deadlist: block ${k} is on two deadlists`);
          onDeadlists.add(k);
          const prevTree = i === 0 ? originTree : trees[i - 1];
          if (prevTree === undefined || !prevTree.has(k))
            problems.push(`${name} deadlist: block ${k} is not in the previous snapshot`);
          if (trees[i].has(k)) problems.push(`${name} deadlist: block ${k} is still referenced by ${name}`);
          if (bucketKey(snapTxgs, bp.birth) !== b.minTxg)
            problems.push(`${name} deadlist: block ${k} born ${bp.birth} is in bucket ${b.minTxg}`);
        }
      }
    }
    for (const t of trees.slice(0, -1)) {
      for (const k of t.keys()) {
        if (!head.has(k) && !onDeadlists.has(k))
          problems.push(`${ds.name}: snapshot block ${k} is on no deadlist (it would leak)`);
      }
    }
  }

  // Space maps against the blocks.
  let referencedBytes = 0;
  let freeButReferenced = 0;
  let doubleAllocated = 0;
  const byVdev = new Map<number, BlockMapEntry[]>();
  for (const b of blocks) {
    referencedBytes += b.asize;
    const list = byVdev.get(b.vdev) ?? [];
    list.push(b);
    byVdev.set(b.vdev, list);
  }
  let leaked = 0;
  let allocatedBytes = 0;
  for (const alloc of view.allocators) {
    allocatedBytes += alloc.allocatedBytes;
    const list = (byVdev.get(alloc.vdev) ?? []).sort((a, b) => a.offset - b.offset);
    const covered = new Set<number>();
    let end = -1;
    for (const b of list) {
      if (b.offset < end) {
        doubleAllocated += Math.min(end, b.offset + b.asize) - b.offset;
        problems.push(`block ${dvaKey(b)} (${b.owner}) overlaps another block`);
      }
      end = Math.max(end, b.offset + b.asize);
      for (let at = b.offset; at < b.offset + b.asize; at += SECTOR) {
        covered.add(at);
        if (at < alloc.start || at >= alloc.end || !alloc.isAllocated(at)) {
          freeButReferenced += SECTOR;
          problems.push(`block ${dvaKey(b)} (${b.owner}) is referenced but free at ${at}`);
          break;
        }
      }
    }
    for (const e of alloc.extents()) {
      for (let at = e.offset; at < e.offset + e.size; at += SECTOR) {
        if (!covered.has(at)) leaked += SECTOR;
      }
    }
  }
  if (leaked > 0) problems.push(`${leaked} bytes allocated but referenced by nothing (leaked)`);
  return {
    ok: problems.length === 0,
    blocks: blocks.length,
    referencedBytes,
    allocatedBytes,
    leakedBytes: leaked,
    freeButReferencedBytes: freeButReferenced,
    doubleAllocatedBytes: doubleAllocated,
    problems,
  };
}

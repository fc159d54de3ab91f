// What a send stream carries, found by walking trees: for a full stream every block of the snapshot; for
// an incremental one only what differs from the older snapshot. The walk compares the two trees top-down
// and skips every subtree whose block pointer is the same in both (same DVA and birth: copy-on-write never
// changes a block in place), so its cost is what changed, not the dataset's size.
import { HOLE, isHole, sameBlock, type BlockPointer } from './blkptr.js';
import { INDIRECT_FANOUT } from './constants.js';
import { decodeIndirect, spanOf } from './object-tree.js';
import { META_SLOT, SLOTS_PER_META_BLOCK, type Dnode } from './objset.js';
import { decodeFsDnode, sameZnode, znodeOf } from './fs-objects.js';
import type { StreamRecord } from './send-stream.js';

export type BlockRead = (bp: BlockPointer, what: string) => Promise<Buffer>;

type Change =
  | { readonly kind: 'write'; readonly blkid: number; readonly a: BlockPointer; readonly b: BlockPointer }
  | {
      readonly kind: 'free';
      readonly blkid: number;
      readonly count: number;
      readonly a: BlockPointer;
      readonly level: number;
    };

/** The level-0 differences between two trees of the same shape (a may be a hole: everything is new). */
async function* diffTree(
  read: BlockRead,
  a: BlockPointer,
  b: BlockPointer,
  level: number,
  base: number,
  what: string,
): AsyncGenerator<Change> {
  if (isHole(b)) {
    if (!isHole(a)) yield { kind: 'free', blkid: base, count: spanOf(level), a, level };
    return;
  }
  if (!isHole(a) && sameBlock(a, b)) return;
  if (level === 0) {
    yield { kind: 'write', blkid: base, a, b };
    return;
  }
  const bc = decodeIndirect(await read(b, `${what} L${level}`), what);
  const ac = isHole(a)
    ? new Array<BlockPointer>(INDIRECT_FANOUT).fill(HOLE)
    : decodeIndirect(await read(a, `${what} L${level}`), what);
  const span = spanOf(level - 1);
  for (let i = 0; i < INDIRECT_FANOUT; i++) yield* diffTree(read, ac[i], bc[i], level - 1, base + i * span, what);
}

/** Every level-0 block under `bp` (of `level`) with its blkid. */
async function* leaves(
  read: BlockRead,
  bp: BlockPointer,
  level: number,
  base: number,
  what: string,
): AsyncGenerator<{ blkid: number; bp: BlockPointer }> {
  if (isHole(bp)) return;
  if (level === 0) {
    yield { blkid: base, bp };
    return;
  }
  const children = decodeIndirect(await read(bp, `${what} L${level}`), what);
  const span = spanOf(level - 1);
  for (let i = 0; i < INDIRECT_FANOUT; i++) yield* leaves(read, children[i], level - 1, base + i * span, what);
}

/** WRITE and FREE records turning object `object`'s tree `a` into `b` (same levels; `a` a hole for all of b). */
async function* objectRecords(
  read: BlockRead,
  object: number,
  a: Dnode | undefined,
  b: Dnode,
  what: string,
  limit: number,
): AsyncGenerator<StreamRecord> {
  const bs = b.blockSize;
  for await (const c of diffTree(read, a?.root ?? HOLE, b.root, b.nlevels - 1, 0, what)) {
    if (c.kind === 'write') {
      yield { type: 'write', object, offset: c.blkid * bs, data: await read(c.b, `${what} blkid ${c.blkid}`) };
    } else {
      const offset = c.blkid * bs;
      if (offset < limit) yield { type: 'free', object, offset, length: Math.min(c.count * bs, limit - offset) };
    }
  }
}

/** A volume's records: its data object from the older snapshot's (or nothing) to the newer's. */
export async function* volumeRecords(
  read: BlockRead,
  from: Dnode | undefined,
  to: Dnode,
  volsize: number,
  what: string,
): AsyncGenerator<StreamRecord> {
  yield* objectRecords(read, 1, from, to, what, volsize);
}

function bonusRecord(object: number, dn: Dnode, reset: boolean): StreamRecord {
  return {
    type: 'object',
    object,
    reset,
    bonus: {
      size: dn.size,
      mtime: dn.mtime,
      ctime: dn.ctime,
      mode: dn.mode,
      nlink: dn.nlink,
      dir: dn.type === 'dir',
      blockSize: dn.blockSize,
      ...((dn.type === 'symlink' || dn.type === 'xattr') && { kind: dn.type }),
      znode: znodeOf(dn),
    },
  };
}

async function dnodesOf(
  read: BlockRead,
  bp: BlockPointer,
  blkid: number,
  what: string,
): Promise<(Dnode | undefined)[]> {
  if (isHole(bp)) return new Array<Dnode | undefined>(SLOTS_PER_META_BLOCK).fill(undefined);
  const buf = await read(bp, `${what} meta-dnode blkid ${blkid}`);
  const out: (Dnode | undefined)[] = [];
  for (let slot = 0; slot < SLOTS_PER_META_BLOCK; slot++) out.push(decodeFsDnode(buf, slot * META_SLOT, what));
  return out;
}

/**
 * A filesystem's records: for each object whose dnode changed, its OBJECT record (or FREEOBJECT) and its
 * data changes. An object whose tree grew levels, or changed type, is sent whole (reset).
 */
export async function* filesystemRecords(
  read: BlockRead,
  from: Dnode | undefined,
  to: Dnode,
  what: string,
): AsyncGenerator<StreamRecord> {
  const aMeta = from ?? { ...to, root: HOLE, nlevels: to.nlevels };
  // The meta-dnode's trees may differ in levels too; compare them at the newer one's shape when they match.
  const sameShape = from === undefined || from.nlevels === to.nlevels;
  const changes: AsyncGenerator<Change> = sameShape
    ? diffTree(read, aMeta.root, to.root, to.nlevels - 1, 0, `${what} meta-dnode`)
    : (async function* () {
        for await (const l of leaves(read, from.root, from.nlevels - 1, 0, `${what} meta-dnode`))
          yield { kind: 'free', blkid: l.blkid, count: 1, a: l.bp, level: 0 };
        for await (const l of leaves(read, to.root, to.nlevels - 1, 0, `${what} meta-dnode`))
          yield { kind: 'write', blkid: l.blkid, a: HOLE, b: l.bp };
      })();
  const written = new Set<number>();
  const freedLater: number[] = [];
  for await (const c of changes) {
    if (c.kind === 'free') {
      for await (const l of leaves(read, c.a, c.level, c.blkid, `${what} meta-dnode`)) {
        const old = await dnodesOf(read, l.bp, l.blkid, what);
        old.forEach((dn, slot) => {
          if (dn !== undefined) freedLater.push(l.blkid * SLOTS_PER_META_BLOCK + slot);
        });
      }
      continue;
    }
    const olds = await dnodesOf(read, c.a, c.blkid, what);
    const news = await dnodesOf(read, c.b, c.blkid, what);
    for (let slot = 0; slot < SLOTS_PER_META_BLOCK; slot++) {
      const object = c.blkid * SLOTS_PER_META_BLOCK + slot;
      const a = olds[slot];
      const b = news[slot];
      if (b === undefined) {
        if (a !== undefined) yield { type: 'freeobject', object };
        continue;
      }
      written.add(object);
      const reset = a === undefined || a.type !== b.type || a.nlevels !== b.nlevels;
      if (
        !reset &&
        sameBlock(a.root, b.root) &&
        a.size === b.size &&
        a.mtime === b.mtime &&
        a.mode === b.mode &&
        a.nlink === b.nlink &&
        a.ctime === b.ctime &&
        sameZnode(a, b)
      )
        continue;
      yield bonusRecord(object, b, reset);
      yield* objectRecords(read, object, reset ? undefined : a, b, `${what} object ${object}`, Number.MAX_SAFE_INTEGER);
    }
  }
  for (const object of freedLater) if (!written.has(object)) yield { type: 'freeobject', object };
}

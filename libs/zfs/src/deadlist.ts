// Deadlists, ZFS's answer to "which blocks can a snapshot destroy free?" without walking trees.
//
// The head of a dataset and every snapshot has one: the blocks the previous snapshot references that this
// one no longer does (killed between the two). The birth-time rule decides at kill time: a block born
// after the latest snapshot is referenced by no snapshot and is freed at once; an older one goes on the
// head's deadlist. Taking a snapshot hands the head's deadlist to it and starts an empty one.
//
// Entries are bucketed by the txg of the newest snapshot older than their birth (0 when there is none), as
// ZFS keys its sub-lists, so that destroying a snapshot S (previous P, next N) touches only what it must:
//  - N's bucket P.txg holds the blocks born after P and dead before N: referenced by S alone. Free them.
//  - S's own deadlist (blocks of P killed before S) still matters to P: merge it into N's.
//  - Later deadlists bucketed under S.txg are re-keyed to P.txg, as S no longer divides them.
// A bucket holds a list of bpobj chains (merging concatenates lists, it copies nothing).
import { BLKPTR_SIZE } from './constants.js';
import { decodeBlkptr, encodeBlkptr, type BlockPointer } from './blkptr.js';
import type { BlockReader } from './block-reader.js';
import { appendChain, freeChain, readChain, type ChainRef } from './chain.js';
import type { TxSync } from './txg.js';

export interface DeadlistBucket {
  /** Entries were born after the snapshot of this txg (and no later than the next one). */
  readonly minTxg: number;
  readonly bytes: number;
  readonly count: number;
  readonly lists: readonly ChainRef[];
}

export interface Deadlist {
  /** Sorted by minTxg. */
  readonly buckets: readonly DeadlistBucket[];
}

export const EMPTY_DEADLIST: Deadlist = Object.freeze({ buckets: [] });

export function deadlistBytes(dl: Deadlist): number {
  return dl.buckets.reduce((n, b) => n + b.bytes, 0);
}

/** The bucket a block born in `birth` goes to, given the txgs of the dataset's snapshots (ascending). */
export function bucketKey(snapshotTxgs: readonly number[], birth: number): number {
  let key = 0;
  for (const t of snapshotTxgs) {
    if (t < birth) key = t;
    else break;
  }
  return key;
}

function withBucket(dl: Deadlist, bucket: DeadlistBucket): Deadlist {
  const buckets = dl.buckets.filter((b) => b.minTxg !== bucket.minTxg);
  buckets.push(bucket);
  buckets.sort((a, b) => a.minTxg - b.minTxg);
  return { buckets };
}

/** Appends killed blocks (already keyed) in syncing context. */
export async function deadlistAppend(
  tx: TxSync,
  reader: BlockReader,
  dl: Deadlist,
  entries: readonly { readonly key: number; readonly bp: BlockPointer }[],
  what: string,
): Promise<Deadlist> {
  const byKey = new Map<number, BlockPointer[]>();
  for (const { key, bp } of entries) {
    let list = byKey.get(key);
    if (list === undefined) byKey.set(key, (list = []));
    list.push(bp);
  }
  let out = dl;
  for (const [key, bps] of [...byKey].sort((a, b) => a[0] - b[0])) {
    const old = out.buckets.find((b) => b.minTxg === key);
    const lists = [...(old?.lists ?? [])];
    const last = lists.pop();
    const chain = await appendChain(
      tx,
      reader,
      last,
      'bpobj',
      BLKPTR_SIZE,
      bps.map((bp) => encodeBlkptr(bp)),
      `${what} bucket ${key}`,
    );
    lists.push(chain);
    out = withBucket(out, {
      minTxg: key,
      bytes: (old?.bytes ?? 0) + bps.reduce((n, bp) => n + bp.asize, 0),
      count: (old?.count ?? 0) + bps.length,
      lists,
    });
  }
  return out;
}

/** The block pointers of a bucket (or of every bucket). */
export async function deadlistEntries(
  reader: BlockReader,
  dl: Deadlist,
  what: string,
  key?: number,
): Promise<BlockPointer[]> {
  const out: BlockPointer[] = [];
  for (const b of dl.buckets) {
    if (key !== undefined && b.minTxg !== key) continue;
    for (const list of b.lists) {
      for (const e of await readChain(reader, list, 'bpobj', BLKPTR_SIZE, `${what} bucket ${b.minTxg}`)) {
        out.push(decodeBlkptr(e, 0, what));
      }
    }
  }
  return out;
}

/** The chain blocks behind a deadlist (what verify counts as its own metadata). */
export function deadlistLists(dl: Deadlist): ChainRef[] {
  return dl.buckets.flatMap((b) => b.lists);
}

function mergeBucket(a: DeadlistBucket | undefined, b: DeadlistBucket, minTxg: number): DeadlistBucket {
  return {
    minTxg,
    bytes: (a?.bytes ?? 0) + b.bytes,
    count: (a?.count ?? 0) + b.count,
    lists: [...(a?.lists ?? []), ...b.lists],
  };
}

/** Everything in `from` added to `into`, bucket by bucket. */
export function deadlistMerge(into: Deadlist, from: Deadlist): Deadlist {
  let out = into;
  for (const b of from.buckets)
    out = withBucket(
      out,
      mergeBucket(
        out.buckets.find((x) => x.minTxg === b.minTxg),
        b,
        b.minTxg,
      ),
    );
  return out;
}

/** Bucket `from` folded into bucket `to` (a snapshot between them is gone). */
export function deadlistRekey(dl: Deadlist, from: number, to: number): Deadlist {
  const moving = dl.buckets.find((b) => b.minTxg === from);
  if (moving === undefined) return dl;
  const rest: Deadlist = { buckets: dl.buckets.filter((b) => b.minTxg !== from) };
  return withBucket(
    rest,
    mergeBucket(
      rest.buckets.find((b) => b.minTxg === to),
      moving,
      to,
    ),
  );
}

/** Frees the bpobj chains of one bucket (and with `entriesToo`, the blocks they list), dropping the bucket. */
export async function deadlistFreeBucket(
  tx: TxSync,
  reader: BlockReader,
  dl: Deadlist,
  key: number,
  entriesToo: boolean,
  what: string,
): Promise<Deadlist> {
  const bucket = dl.buckets.find((b) => b.minTxg === key);
  if (bucket === undefined) return dl;
  for (const list of bucket.lists) {
    if (entriesToo) {
      for (const e of await readChain(reader, list, 'bpobj', BLKPTR_SIZE, `${what} bucket ${key}`))
        tx.free(decodeBlkptr(e, 0, what));
    }
    await freeChain(tx, reader, list, 'bpobj', BLKPTR_SIZE, `${what} bucket ${key}`);
  }
  return { buckets: dl.buckets.filter((b) => b.minTxg !== key) };
}

/** Frees every bpobj chain of the deadlist but none of the blocks listed (they are referenced again). */
export async function deadlistDiscard(tx: TxSync, reader: BlockReader, dl: Deadlist, what: string): Promise<void> {
  for (const b of dl.buckets) await deadlistFreeBucket(tx, reader, dl, b.minTxg, false, what);
}

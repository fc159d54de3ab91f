// An append-only list of fixed-size entries kept as a chain of blocks, newest first, each pointing at the
// one before it. ZFS keeps space maps and bpobjs (the lists behind deadlists) as objects of their own; here
// both are such chains. Appending rewrites the head block (copy-on-write) while it has room, so a list that
// grows by a few entries per txg does not leave a trail of near-empty blocks. A chain block:
//     0  u32 magic "CHN1"   4  u8 kind (1 bpobj, 2 space map)   5  u8 0   6  u16 entry size
//     8  u32 entries in this block   12  u32 0   16  u64 entries in this and all earlier blocks
//    24  block pointer of the previous block (a hole for the first)      152  8 zero bytes
//   160  the entries, then zeros to a whole sector
import { decodeBlkptr, encodeBlkptr, HOLE, isHole, type BlockPointer } from './blkptr.js';
import type { BlockReader } from './block-reader.js';
import { SECTOR } from './constants.js';
import { ZfsError } from './errors.js';
import type { TxSync } from './txg.js';
import { readU64, roundUp, writeU64 } from './u64.js';

export type ChainKind = 'bpobj' | 'spacemap';
const KIND_IDS: Readonly<Record<ChainKind, number>> = { bpobj: 1, spacemap: 2 };
const MAGIC = 0x314e4843; // "CHN1"
const HEADER = 160;
export const CHAIN_BLOCK_MAX = 16 * 1024;

export interface ChainRef {
  readonly head: BlockPointer;
  /** Entries in the whole chain. */
  readonly count: number;
}

interface ChainBlock {
  readonly entries: Buffer[];
  readonly prev: BlockPointer;
  readonly total: number;
}

export function chainCapacity(entrySize: number): number {
  return Math.floor((CHAIN_BLOCK_MAX - HEADER) / entrySize);
}

function encodeChainBlock(
  kind: ChainKind,
  entrySize: number,
  entries: Buffer[],
  prev: BlockPointer,
  total: number,
): Buffer {
  const out = Buffer.alloc(roundUp(HEADER + entries.length * entrySize, SECTOR));
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt8(KIND_IDS[kind], 4);
  out.writeUInt16LE(entrySize, 6);
  out.writeUInt32LE(entries.length, 8);
  writeU64(out, 16, total);
  encodeBlkptr(prev, out, 24);
  entries.forEach((e, i) => {
    if (e.length !== entrySize)
      throw new ZfsError('EINVAL', `${kind} entry of ${e.length} bytes, expected ${entrySize}`);
    e.copy(out, HEADER + i * entrySize);
  });
  return out;
}

function decodeChainBlock(buf: Buffer, kind: ChainKind, entrySize: number, where: string): ChainBlock {
  if (buf.length < HEADER || buf.readUInt32LE(0) !== MAGIC || buf.readUInt8(4) !== KIND_IDS[kind]) {
    throw new ZfsError('EIO', `${where}: not a ${kind} block`);
  }
  if (buf.readUInt16LE(6) !== entrySize)
    throw new ZfsError('EIO', `${where}: entry size ${buf.readUInt16LE(6)}, expected ${entrySize}`);
  const count = buf.readUInt32LE(8);
  if (HEADER + count * entrySize > buf.length)
    throw new ZfsError('EIO', `${where}: ${count} entries overrun the block`);
  const entries: Buffer[] = [];
  for (let i = 0; i < count; i++) entries.push(buf.subarray(HEADER + i * entrySize, HEADER + (i + 1) * entrySize));
  return { entries, prev: decodeBlkptr(buf, 24, where), total: readU64(buf, 16, where) };
}

/** Every block of the chain with its decoded contents, head first. */
export async function readChainBlocks(
  reader: BlockReader,
  ref: ChainRef,
  kind: ChainKind,
  entrySize: number,
  what: string,
): Promise<{ bp: BlockPointer; block: ChainBlock }[]> {
  const out: { bp: BlockPointer; block: ChainBlock }[] = [];
  let bp = ref.head;
  while (!isHole(bp)) {
    const where = `${what} block ${out.length}`;
    const block = decodeChainBlock(await reader.read(bp, where), kind, entrySize, where);
    out.push({ bp, block });
    bp = block.prev;
  }
  const total = out.reduce((n, b) => n + b.block.entries.length, 0);
  if (total !== ref.count)
    throw new ZfsError('EIO', `${what}: chain holds ${total} entries, its owner says ${ref.count}`);
  return out;
}

/** The entries, oldest first. */
export async function readChain(
  reader: BlockReader,
  ref: ChainRef,
  kind: ChainKind,
  entrySize: number,
  what: string,
): Promise<Buffer[]> {
  const blocks = await readChainBlocks(reader, ref, kind, entrySize, what);
  return blocks.reverse().flatMap((b) => b.block.entries);
}

/**
 * Appends entries in syncing context and returns the chain's new reference. `recorded` says whether the
 * chain's own allocations and frees go into the space maps (false for the space maps themselves).
 */
export async function appendChain(
  tx: TxSync,
  reader: BlockReader,
  ref: ChainRef | undefined,
  kind: ChainKind,
  entrySize: number,
  entries: Buffer[],
  what: string,
  recorded = true,
): Promise<ChainRef> {
  if (entries.length === 0) {
    if (ref !== undefined) return ref;
    throw new ZfsError('EINVAL', `${what}: a chain cannot start empty`);
  }
  const capacity = chainCapacity(entrySize);
  let prev = ref?.head ?? HOLE;
  let total = ref?.count ?? 0;
  let pending = entries;
  if (ref !== undefined && !isHole(ref.head)) {
    const head = decodeChainBlock(await reader.read(ref.head, `${what} head`), kind, entrySize, `${what} head`);
    if (head.entries.length < capacity) {
      const take = pending.slice(0, capacity - head.entries.length);
      pending = pending.slice(take.length);
      total += take.length;
      const block = encodeChainBlock(kind, entrySize, [...head.entries, ...take], head.prev, total);
      tx.free(ref.head, recorded);
      prev = tx.writeBlock(kind, 0, block, 'fletcher4', head.entries.length + take.length, what, recorded);
    }
  }
  while (pending.length > 0) {
    const take = pending.slice(0, capacity);
    pending = pending.slice(take.length);
    total += take.length;
    prev = tx.writeBlock(
      kind,
      0,
      encodeChainBlock(kind, entrySize, take, prev, total),
      'fletcher4',
      take.length,
      what,
      recorded,
    );
  }
  return { head: prev, count: total };
}

/** Frees every block of the chain (not what its entries point at). */
export async function freeChain(
  tx: TxSync,
  reader: BlockReader,
  ref: ChainRef,
  kind: ChainKind,
  entrySize: number,
  what: string,
  recorded = true,
): Promise<void> {
  for (const { bp } of await readChainBlocks(reader, ref, kind, entrySize, what)) tx.free(bp, recorded);
}

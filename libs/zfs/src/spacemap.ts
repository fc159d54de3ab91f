// Space maps: the on-disk record of what each top-level vdev has allocated, as in ZFS a log of ALLOC and
// FREE records appended once per txg and condensed now and then into the plain list of allocated extents.
// A record (16 bytes): u64 offset, u32 length in sectors, u8 type (1 ALLOC, 2 FREE), 3 zero bytes.
//
// What the records leave out: the space maps' own chain blocks and the MOS block. Import marks those by
// walking them, so that no record has to describe the block it is written in.
import { SpaceAllocator, type Extent } from './allocator.js';
import type { BlockReader } from './block-reader.js';
import { appendChain, freeChain, readChain, readChainBlocks, type ChainRef } from './chain.js';
import { SECTOR } from './constants.js';
import { ZfsError } from './errors.js';
import type { TxSync, VdevExtent } from './txg.js';
import { readU64, writeU64 } from './u64.js';

export const SM_ENTRY_SIZE = 16;
const ALLOC = 1;
const FREE = 2;
/** Condense once the log holds twice the records of the last condensed map plus this many. */
export const DEFAULT_CONDENSE_MARGIN = 2048;

export interface SpaceMapState {
  readonly chain: ChainRef | undefined;
  /** Records in the chain right after its last condense. */
  readonly condensedCount: number;
}

function encodeRecord(type: number, e: Extent): Buffer {
  const out = Buffer.alloc(SM_ENTRY_SIZE);
  writeU64(out, 0, e.offset);
  out.writeUInt32LE(e.size / SECTOR, 8);
  out.writeUInt8(type, 12);
  return out;
}

/** Rebuilds a vdev's allocator from its space map (records replayed oldest first). */
export async function loadSpaceMap(
  reader: BlockReader,
  allocator: SpaceAllocator,
  state: SpaceMapState,
): Promise<void> {
  if (state.chain === undefined) return;
  const what = `space map of vdev ${allocator.vdev}`;
  for (const rec of await readChain(reader, state.chain, 'spacemap', SM_ENTRY_SIZE, what)) {
    const offset = readU64(rec, 0, what);
    const size = rec.readUInt32LE(8) * SECTOR;
    const type = rec.readUInt8(12);
    if (type === ALLOC) allocator.markAllocated(offset, size, what);
    else if (type === FREE) allocator.free(offset, size, what);
    else throw new ZfsError('EIO', `${what}: record type ${type}`);
  }
}

/** The blocks of a space map's chain (import marks them allocated; verify counts them). */
export async function spaceMapBlocks(reader: BlockReader, state: SpaceMapState, vdev: number): Promise<VdevExtent[]> {
  if (state.chain === undefined) return [];
  const blocks = await readChainBlocks(reader, state.chain, 'spacemap', SM_ENTRY_SIZE, `space map of vdev ${vdev}`);
  return blocks.map(({ bp }) => ({ vdev: bp.vdev, offset: bp.offset, size: bp.asize }));
}

/**
 * Appends this txg's records for one vdev, or condenses the map when the log has grown long. Called after
 * every recorded allocation and free of the txg is known; `unrecordedLive` are the extents the map must not
 * describe (the space maps' blocks, the MOS block) as they stood before this txg.
 */
export async function syncSpaceMap(
  tx: TxSync,
  reader: BlockReader,
  allocator: SpaceAllocator,
  state: SpaceMapState,
  unrecordedLive: readonly VdevExtent[],
  condenseMargin = DEFAULT_CONDENSE_MARGIN,
): Promise<SpaceMapState> {
  const vdev = allocator.vdev;
  const what = `space map of vdev ${vdev}`;
  const mine = (e: VdevExtent): boolean => e.vdev === vdev;
  const records = [
    ...tx.allocs.filter(mine).map((e) => encodeRecord(ALLOC, e)),
    ...tx.frees.filter(mine).map((e) => encodeRecord(FREE, e)),
  ];
  const count = state.chain?.count ?? 0;
  if (state.chain !== undefined && count + records.length > 2 * state.condensedCount + condenseMargin) {
    // The allocator still holds this txg's frees (they are deferred): leave them out, with the
    // unrecorded blocks, and what remains is exactly what the vdev holds once the txg is on disk.
    const exclude = [...tx.frees, ...unrecordedLive, ...tx.unrecordedAllocs].filter(mine);
    const extents = allocator.extentsExcluding(exclude);
    await freeChain(tx, reader, state.chain, 'spacemap', SM_ENTRY_SIZE, what, false);
    if (extents.length === 0) return { chain: undefined, condensedCount: 0 };
    const chain = await appendChain(
      tx,
      reader,
      undefined,
      'spacemap',
      SM_ENTRY_SIZE,
      extents.map((e) => encodeRecord(ALLOC, e)),
      what,
      false,
    );
    return { chain, condensedCount: extents.length };
  }
  if (records.length === 0) return state;
  const chain = await appendChain(tx, reader, state.chain, 'spacemap', SM_ENTRY_SIZE, records, what, false);
  return { chain, condensedCount: state.condensedCount };
}

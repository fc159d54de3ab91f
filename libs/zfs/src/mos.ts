// The MOS (meta object set): the pool-wide state the uberblock points at. ZFS keeps it as an object set of
// ZAPs and DSL objects; in this slice it is one block of JSON (self-describing, easy to extend) framed as
//   0  8 bytes magic "DOMMOS01"   8  u32 JSON length   12  JSON   then zeros to a whole sector.
// It holds the dataset hierarchy (datasets, their snapshots, deadlists and space accounting) and the space
// map of each top-level vdev. It is rewritten in every txg; the large lists it refers to (space maps,
// deadlists) are chains of their own blocks, so its size tracks the number of datasets and snapshots only.
import { blkptrFromHex, blkptrToHex, type BlockPointer } from './blkptr.js';
import type { ChainRef } from './chain.js';
import type { ChecksumAlgo } from './checksum/index.js';
import type { CompressionAlgo } from './compression/index.js';
import { FORMAT_VERSION, MAX_MOS_SIZE, SECTOR } from './constants.js';
import type { Deadlist } from './deadlist.js';
import { ZfsError } from './errors.js';
import type { SpaceMapState } from './spacemap.js';
import { roundUp } from './u64.js';

const MAGIC = Buffer.from('DOMMOS01', 'latin1');

export type DatasetType = 'filesystem' | 'volume';

/** A volume's geometry (its checksum and compression are properties: DatasetPhys.local, inherited). */
export interface VolumeProps {
  readonly volsize: number;
  readonly volblocksize: number;
  /** Pools written before properties kept the create-time value here. */
  readonly checksum?: ChecksumAlgo;
  readonly compression?: CompressionAlgo;
}

export interface SnapshotPhys {
  readonly id: number;
  /** The part after '@'. */
  readonly name: string;
  readonly txg: number;
  readonly creation: number;
  /** Identifies the snapshot across pools (send streams name it); absent in pools from before streams. */
  readonly guid?: string;
  readonly objset: BlockPointer;
  readonly referenced: number;
  /** lsize of the same blocks (compressratio is logical / physical). */
  readonly logicalReferenced: number;
  /** Blocks of the previous snapshot killed before this one was taken. */
  deadlist: Deadlist;
}

export interface DatasetPhys {
  readonly id: number;
  /** Full name, pool first: "tank/vm1". */
  name: string;
  readonly type: DatasetType;
  readonly parent: number | undefined;
  readonly createTxg: number;
  readonly creation: number;
  /** Volumes only. */
  props: VolumeProps | undefined;
  /** Properties set on this dataset (zfs set), normalised (props.ts). */
  local: Record<string, string>;
  /** The head's objset (filesystems have none until the next slice). */
  objset: BlockPointer | undefined;
  /** Bytes of every block the head's tree reaches. */
  referenced: number;
  /** Their lsize. */
  logicalReferenced: number;
  /** Blocks of the latest snapshot the head no longer references. */
  deadlist: Deadlist;
  /** Oldest first. */
  snapshots: SnapshotPhys[];
  /** A clone: the snapshot it was created from (ZFS's origin), whose blocks it shares. */
  origin?: { readonly dataset: number; readonly snapshot: number; readonly txg: number };
}

export interface MosState {
  nextId: number;
  datasets: DatasetPhys[];
  spaceMaps: SpaceMapState[];
}

interface ChainJson {
  head: string;
  count: number;
}
interface DeadlistJson {
  buckets: { minTxg: number; bytes: number; count: number; lists: ChainJson[] }[];
}

const chainToJson = (c: ChainRef): ChainJson => ({ head: blkptrToHex(c.head), count: c.count });
const chainFromJson = (c: ChainJson, where: string): ChainRef => ({
  head: blkptrFromHex(c.head, where),
  count: c.count,
});
const deadlistToJson = (d: Deadlist): DeadlistJson => ({
  buckets: d.buckets.map((b) => ({
    minTxg: b.minTxg,
    bytes: b.bytes,
    count: b.count,
    lists: b.lists.map(chainToJson),
  })),
});
const deadlistFromJson = (d: DeadlistJson, where: string): Deadlist => ({
  buckets: d.buckets.map((b) => ({ ...b, lists: b.lists.map((c) => chainFromJson(c, where)) })),
});

export function encodeMos(mos: MosState): Buffer {
  const json = JSON.stringify({
    version: FORMAT_VERSION,
    nextId: mos.nextId,
    datasets: mos.datasets.map((ds) => ({
      ...ds,
      objset: ds.objset && blkptrToHex(ds.objset),
      deadlist: deadlistToJson(ds.deadlist),
      snapshots: ds.snapshots.map((s) => ({
        ...s,
        objset: blkptrToHex(s.objset),
        deadlist: deadlistToJson(s.deadlist),
      })),
    })),
    spaceMaps: mos.spaceMaps.map((sm) => ({
      chain: sm.chain && chainToJson(sm.chain),
      condensedCount: sm.condensedCount,
    })),
  });
  const body = Buffer.from(json, 'utf8');
  const size = roundUp(12 + body.length, SECTOR);
  if (size > MAX_MOS_SIZE) {
    throw new ZfsError(
      'ENOSPC',
      `the MOS would take ${size} bytes, more than the ${MAX_MOS_SIZE} this version supports`,
    );
  }
  const out = Buffer.alloc(size);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(body.length, 8);
  body.copy(out, 12);
  return out;
}

type DatasetJson = Omit<
  DatasetPhys,
  'objset' | 'deadlist' | 'snapshots' | 'parent' | 'props' | 'logicalReferenced' | 'local' | 'origin'
> & {
  logicalReferenced?: number;
  local?: Record<string, string>;
  origin?: DatasetPhys['origin'] | null;
  parent?: number | null;
  props?: VolumeProps | null;
  objset?: string | null;
  deadlist: DeadlistJson;
  snapshots: (Omit<SnapshotPhys, 'objset' | 'deadlist' | 'logicalReferenced'> & {
    objset: string;
    deadlist: DeadlistJson;
    logicalReferenced?: number;
  })[];
};
interface MosJson {
  version: number;
  nextId: number;
  datasets: DatasetJson[];
  spaceMaps: { chain?: ChainJson | null; condensedCount: number }[];
}

export function decodeMos(buf: Buffer, where: string): MosState {
  if (buf.length < 12 || !buf.subarray(0, 8).equals(MAGIC)) throw new ZfsError('EIO', `${where}: not a MOS block`);
  const length = buf.readUInt32LE(8);
  if (12 + length > buf.length) throw new ZfsError('EIO', `${where}: MOS length ${length} overruns the block`);
  let raw: MosJson;
  try {
    raw = JSON.parse(buf.subarray(12, 12 + length).toString('utf8')) as MosJson;
  } catch {
    throw new ZfsError('EIO', `${where}: MOS is not JSON`);
  }
  if (raw?.version !== FORMAT_VERSION || !Array.isArray(raw.datasets) || !Array.isArray(raw.spaceMaps)) {
    throw new ZfsError('EIO', `${where}: not a MOS of format version ${FORMAT_VERSION}`);
  }
  return {
    nextId: raw.nextId,
    datasets: raw.datasets.map((ds): DatasetPhys => ({
      ...ds,
      parent: ds.parent ?? undefined,
      logicalReferenced: ds.logicalReferenced ?? ds.referenced,
      local: ds.local ?? {},
      origin: ds.origin ?? undefined,
      props: ds.props ?? undefined,
      objset: ds.objset ? blkptrFromHex(ds.objset, `${where} ${ds.name}`) : undefined,
      deadlist: deadlistFromJson(ds.deadlist, `${where} ${ds.name} deadlist`),
      snapshots: ds.snapshots.map((s): SnapshotPhys => ({
        ...s,
        logicalReferenced: s.logicalReferenced ?? s.referenced,
        objset: blkptrFromHex(s.objset, `${where} ${ds.name}@${s.name}`),
        deadlist: deadlistFromJson(s.deadlist, `${where} ${ds.name}@${s.name} deadlist`),
      })),
    })),
    spaceMaps: raw.spaceMaps.map((sm): SpaceMapState => ({
      chain: sm.chain ? chainFromJson(sm.chain, `${where} space map`) : undefined,
      condensedCount: sm.condensedCount,
    })),
  };
}

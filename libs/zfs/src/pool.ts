// A storage pool: vdevs, the MOS, the allocators, the intent log, and the open (dirty) state of its
// volumes. Every public operation runs under one mutex.
//
// Open context: writes and discards change in-memory dirty blocks of the volume's head and add intent-log
// records; flush() writes the records to the log area and fsyncs them.
// Syncing context, syncTxg(): for txg T,
//   1. each dirty volume's tree is rewritten copy-on-write (new data and indirect blocks, new objset
//      block); the blocks it replaces are freed or put on a deadlist (the birth-time rule);
//   2. sync tasks run (snapshot, rollback, destroy, create) and change the MOS;
//   3. deadlists and space maps get this txg's entries, and the new MOS block is written;
//   4. all these writes are issued, then every vdev is fsynced;
//   5. the uberblock of T goes into ring slot T % 128 of every label, and every vdev is fsynced again;
//   6. only now are the extents T freed handed back to the allocators, and the intent log restarts.
// A power cut before 5 completes leaves T-1's uberblock the newest valid one, and nothing T-1 references
// has been overwritten, since frees wait for step 6.
//
// An I/O error or an allocation failure in syncing context suspends the pool (as ZFS's failmode=wait does):
// every later call fails with EIO and the pool must be imported again.
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import type { FileIO } from '@dominion/fsio';
import { SpaceAllocator } from './allocator.js';
import { BlockCache } from './arc.js';
import { HOLE, isHole, sameBlock, type BlockPointer } from './blkptr.js';
import { BlockReader } from './block-reader.js';
import { parseChecksumProperty, type ChecksumAlgo } from './checksum/index.js';
import { parseCompressionProperty, type CompressionAlgo } from './compression/index.js';
import { Filesystem, type FilesystemHost } from './filesystem.js';
import {
  encodeZnode,
  FILE_BLOCK_SIZE,
  nowTime,
  FsHead,
  FsView,
  newMetaDnode,
  newObjectDnode,
  ROOT_OBJECT,
} from './fs-objects.js';
import { FsOps } from './fs-ops.js';
import { filesystemRecords, volumeRecords, type BlockRead } from './send.js';
import { STREAM_VERSION, StreamReader, StreamWriter, type StreamRecord } from './send-stream.js';
import {
  isSettable,
  normaliseProperty,
  resolveProperty,
  SETTABLE_PROPERTIES,
  appliesTo,
  sizeValue,
  type PropertyValue,
} from './props.js';
import { CHAIN_BLOCK_MAX } from './chain.js';
import {
  DEFAULT_VOLBLOCKSIZE,
  FORMAT_VERSION,
  LABEL_CONFIG_OFFSET,
  LABEL_SIZE,
  MAX_BLOCK_SIZE,
  MAX_LOG_SIZE,
  MIN_BLOCK_SIZE,
  MIN_LOG_SIZE,
  MIN_VDEV_SIZE,
  SECTOR,
} from './constants.js';
import {
  bucketKey,
  deadlistAppend,
  deadlistEntries,
  deadlistBytes,
  deadlistDiscard,
  deadlistFreeBucket,
  deadlistMerge,
  deadlistRekey,
  EMPTY_DEADLIST,
  type Deadlist,
} from './deadlist.js';
import { asZfsError, ZfsError } from './errors.js';
import { encodeLabelConfig, labelOffsets, uberblockSlotOffset, type PoolConfig, type VdevConfig } from './label.js';
import {
  decodeMos,
  encodeMos,
  type DatasetPhys,
  type DatasetType,
  type MosState,
  type SnapshotPhys,
  type VolumeProps,
} from './mos.js';
import { parseName, validPoolName } from './names.js';
import { killTree, lookupBlock, rewriteObject, rewriteTree, walkObjset, type RewriteContext } from './object-tree.js';
import {
  decodeObjset,
  encodeDnode,
  encodeObjset,
  META_BLOCK_SIZE,
  META_SLOT,
  newVolumeDnode,
  SLOTS_PER_META_BLOCK,
  type Dnode,
  type DnodeType,
  type Objset,
} from './objset.js';
import { Mutex } from './mutex.js';
import { findPool } from './pool-import.js';
import { VolumeHead } from './volume-head.js';
import { loadSpaceMap, spaceMapBlocks, syncSpaceMap } from './spacemap.js';
import { TxSync, type AllocationRotor, type VdevExtent } from './txg.js';
import { roundUp, isPowerOfTwo } from './u64.js';
import { encodeUberblock, guidSum } from './uberblock.js';
import { FileVdev, MirrorVdev, type LeafState, type TopVdev } from './vdev.js';
import { blockMap, collectBlocks, verifyPool, type BlockMapEntry, type PoolView, type VerifyReport } from './verify.js';
import { Volume, type VolumeHost } from './volume.js';
import { IntentLog, type LogRecord } from './zil.js';

export interface PoolTuning {
  /** Bytes of verified blocks kept in memory (the ARC). Default 32 MiB. */
  readonly cacheBytes?: number;
  /** Dirty data past which a write forces a txg sync. Default 64 MiB. */
  readonly dirtyMaxBytes?: number;
  /** A space map is condensed once it holds twice the records of its last condensed form plus this. Default 2048. */
  readonly condenseMargin?: number;
}

export interface CreatePoolOptions extends PoolTuning {
  readonly name: string;
  /**
   * Top-level vdevs: a file, or a mirror of files (`zpool create tank mirror a b`). Files are created sparse
   * with the size given; a path that exists is refused.
   */
  readonly vdevs: readonly VdevSpec[];
  /** Bytes of vdev 0 set aside for the intent log. Default 1/32 of it, within [256 KiB, 64 MiB]. */
  readonly logSize?: number;
}

export interface SendOptions {
  /** An older snapshot of the same dataset ("tank/v@a" or "@a"): an incremental stream. */
  readonly from?: string;
  /** Bytes of stream produced so far. */
  readonly onProgress?: (bytes: number) => void;
}

export interface ReceiveOptions {
  /** Bytes of stream consumed so far. */
  readonly onProgress?: (bytes: number) => void;
}

export type VdevSpec =
  | { readonly path: string; readonly size: number }
  | { readonly type: 'mirror'; readonly paths: readonly string[]; readonly size: number };

export interface ImportPoolOptions extends PoolTuning {
  /** The vdev files to look for labels on. */
  readonly paths: readonly string[];
  /** Import only the pool of this name. */
  readonly name?: string;
}

/** zfs create's options common to filesystems and volumes. */
export interface CreateDatasetOptions {
  /** -o prop=value: settable properties (props.ts). */
  readonly props?: Readonly<Record<string, string>>;
  /** Shorthands for props.checksum and props.compression. */
  readonly checksum?: string;
  readonly compression?: string;
}

export type CreateFilesystemOptions = CreateDatasetOptions;

export interface CreateVolumeOptions extends CreateDatasetOptions {
  /** -s: no refreservation. Without it, as zfs create -V does, refreservation=volsize. */
  readonly sparse?: boolean;
  readonly volsize: number;
  /** A power of two from 512 to 128K. Default 16K. */
  readonly volblocksize?: number;
}

/** One row of `zpool status`'s config tree: a top-level vdev (with its children if a mirror) or a leaf. */
export interface VdevStatus {
  /** The file, or "mirror-N". */
  readonly path: string;
  readonly type: 'file' | 'mirror';
  readonly state: LeafState | 'DEGRADED';
  readonly readErrors: number;
  readonly writeErrors: number;
  readonly checksumErrors: number;
  /** Bytes rewritten from a good copy (self-healing and scrub). */
  readonly repairedBytes: number;
  readonly children?: readonly VdevStatus[];
}

/** The scan line of `zpool status`. */
export interface ScrubStatus {
  readonly state: 'scanning' | 'finished' | 'canceled';
  readonly startedAt: number;
  readonly endedAt: number | undefined;
  /** Bytes of blocks checked (every copy counts once per block), of `totalBytes`. */
  readonly examinedBytes: number;
  readonly totalBytes: number;
  readonly blocks: number;
  /** Copies that failed their checksum or could not be read. */
  readonly errors: number;
  readonly repairedBytes: number;
  /** Blocks with no good copy left. */
  readonly unrecoverable: number;
}

export type ScrubProgress = (examinedBytes: number, totalBytes: number) => void;

export interface PoolStatus {
  readonly name: string;
  readonly guid: string;
  readonly txg: number;
  /** DEGRADED: a mirror child is UNAVAIL or FAULTED, and every top-level vdev still has one ONLINE. */
  readonly health: 'ONLINE' | 'DEGRADED' | 'SUSPENDED';
  /** Allocatable bytes. */
  readonly size: number;
  readonly allocated: number;
  readonly free: number;
  readonly vdevs: readonly VdevStatus[];
  readonly scan: ScrubStatus | undefined;
  /** Reads that found no good copy (`errors:` of zpool status). */
  readonly dataErrors: number;
}

export interface DatasetInfo {
  readonly name: string;
  readonly type: 'filesystem' | 'volume' | 'snapshot';
  /** Space this dataset and its snapshots consume (what destroying all of it would free). */
  readonly used: number;
  /** Space its tree reaches, shared or not. */
  readonly referenced: number;
  readonly usedbysnapshots: number;
  readonly usedbychildren: number;
  /** The unused part of a refreservation. */
  readonly usedbyrefreservation: number;
  readonly available: number;
  readonly createTxg: number;
  /** ms since the epoch. */
  readonly creation: number;
  /** A clone's origin snapshot. */
  readonly origin?: string;
  readonly volsize?: number;
  readonly volblocksize?: number;
  readonly checksum?: string;
  readonly compression?: string;
  /** Logical bytes referenced, before compression. */
  readonly logicalreferenced: number;
  /** logicalreferenced / referenced (ZFS's refcompressratio; compressratio here is the same). */
  readonly compressratio: number;
}

type SyncTask = (tx: TxSync) => Promise<void> | void;

const DEFAULT_CACHE = 32 * 1024 * 1024;
const DEFAULT_DIRTY_MAX = 64 * 1024 * 1024;

export class Pool implements VolumeHost, FilesystemHost {
  private readonly lock = new Mutex();
  private readonly zil: IntentLog;
  private readonly heads = new Map<number, VolumeHead>();
  private readonly fsHeads = new Map<number, FsHead>();
  /** Snapshots being sent (zfs hold): destroying them is refused. */
  private readonly holds = new Map<number, number>();
  private readonly snapshotDnodes = new Map<number, Dnode>();
  private readonly dirtyMax: number;
  private readonly condenseMargin: number | undefined;
  private failure: ZfsError | undefined;
  private exported = false;
  /** While import replays the log: no txg may sync until every record is applied (see replayRecord). */
  private replaying = false;
  /** Bytes of the MOS as last written (for the space estimate). */
  private mosSize = 0;
  private readonly rotor: AllocationRotor = { vdev: 0, bytes: 0 };
  private scan: ScrubStatus | undefined;

  private constructor(
    readonly config: PoolConfig,
    private readonly vdevs: readonly TopVdev[],
    private readonly allocators: readonly SpaceAllocator[],
    private readonly reader: BlockReader,
    private mos: MosState,
    private mosBp: BlockPointer,
    private syncedTxg: number,
    tuning: PoolTuning,
  ) {
    this.zil = new IntentLog(vdevs[config.log.vdev], config.log, config.guid, syncedTxg);
    this.dirtyMax = tuning.dirtyMaxBytes ?? DEFAULT_DIRTY_MAX;
    this.condenseMargin = tuning.condenseMargin;
  }

  get name(): string {
    return this.config.name;
  }

  get guid(): string {
    return this.config.guid;
  }

  /** The last txg whose uberblock is on disk. */
  get txg(): number {
    return this.syncedTxg;
  }

  // ---------------------------------------------------------------- create, import, export

  static async create(io: FileIO, options: CreatePoolOptions): Promise<Pool> {
    if (!validPoolName(options.name)) throw new ZfsError('EINVAL', `invalid pool name '${options.name}'`);
    if (options.vdevs.length === 0) throw new ZfsError('EINVAL', `pool '${options.name}' needs at least one vdev`);
    const sizes = options.vdevs.map((v) => {
      const what = 'paths' in v ? `mirror of ${v.paths.join(', ')}` : v.path;
      if ('paths' in v && v.paths.length < 2)
        throw new ZfsError('EINVAL', `vdev ${what}: a mirror needs at least two devices`);
      if (!Number.isSafeInteger(v.size) || v.size < MIN_VDEV_SIZE) {
        throw new ZfsError('EINVAL', `vdev ${what}: size ${v.size} is below the minimum of ${MIN_VDEV_SIZE} bytes`);
      }
      return Math.floor(v.size / LABEL_SIZE) * LABEL_SIZE;
    });
    const logSize =
      options.logSize ?? Math.min(MAX_LOG_SIZE, Math.max(MIN_LOG_SIZE, Math.floor(sizes[0] / 32 / SECTOR) * SECTOR));
    if (!Number.isSafeInteger(logSize) || logSize % SECTOR !== 0 || logSize < MIN_LOG_SIZE) {
      throw new ZfsError('EINVAL', `log size ${logSize} is not a multiple of ${SECTOR} of at least ${MIN_LOG_SIZE}`);
    }
    const front = 2 * LABEL_SIZE;
    const vdevConfigs: VdevConfig[] = options.vdevs.map((v, id) => {
      const allocStart = front + (id === 0 ? logSize : 0);
      const allocEnd = sizes[id] - 2 * LABEL_SIZE;
      if (allocEnd - allocStart < 1024 * 1024) {
        throw new ZfsError(
          'EINVAL',
          `vdev ${'paths' in v ? `mirror-${id}` : v.path}: ${sizes[id]} bytes leave less than 1 MiB to allocate after labels and log`,
        );
      }
      const guid = randomBytes(8).toString('hex');
      if ('paths' in v) {
        const children = v.paths.map((path) => ({ guid: randomBytes(8).toString('hex'), path }));
        return { type: 'mirror', id, guid, path: `mirror-${id}`, children, size: sizes[id], allocStart, allocEnd };
      }
      return { type: 'file', id, guid, path: v.path, size: sizes[id], allocStart, allocEnd };
    });
    const config: PoolConfig = {
      version: FORMAT_VERSION,
      name: options.name,
      guid: randomBytes(8).toString('hex'),
      txg: 1,
      vdevs: vdevConfigs,
      log: { vdev: 0, offset: front, size: logSize },
    };
    const vdevs: TopVdev[] = [];
    for (const vc of vdevConfigs) {
      const leaves: FileVdev[] = [];
      for (const leaf of vc.children ?? [vc]) {
        const vdev = await FileVdev.create(io, vc.id, leaf.path, vc.size, leaf.guid);
        leaves.push(vdev);
        const label = encodeLabelConfig(config, leaf.guid);
        for (const at of labelOffsets(vc.size)) await vdev.write(at + LABEL_CONFIG_OFFSET, label);
        await vdev.sync();
        await io.fsyncDir(dirname(leaf.path)).catch((e: unknown) => {
          throw asZfsError(e, `cannot make vdev ${leaf.path} durable`);
        });
      }
      vdevs.push(vc.type === 'mirror' ? new MirrorVdev(vc.id, vc.size, leaves) : leaves[0]);
    }
    const allocators = vdevConfigs.map((vc) => new SpaceAllocator(vc.id, vc.allocStart, vc.allocEnd));
    const mos: MosState = {
      nextId: 2,
      datasets: [
        {
          id: 1,
          name: options.name,
          type: 'filesystem',
          parent: undefined,
          createTxg: 1,
          creation: Date.now(),
          props: undefined,
          local: {},
          objset: undefined,
          referenced: 0,
          logicalReferenced: 0,
          deadlist: EMPTY_DEADLIST,
          snapshots: [],
        },
      ],
      spaceMaps: vdevConfigs.map(() => ({ chain: undefined, condensedCount: 0 })),
    };
    const reader = new BlockReader(vdevs, new BlockCache(options.cacheBytes ?? DEFAULT_CACHE));
    const pool = new Pool(config, vdevs, allocators, reader, mos, HOLE, 0, options);
    await pool.lock.run(() => pool.syncLocked([], true));
    return pool;
  }

  static async import(io: FileIO, options: ImportPoolOptions): Promise<Pool> {
    const { config, vdevs, uberblock: ub } = await findPool(io, options.paths, options.name);
    try {
      const reader = new BlockReader(vdevs, new BlockCache(options.cacheBytes ?? DEFAULT_CACHE));
      const mos = decodeMos(await reader.read(ub.rootbp, `pool '${config.name}' MOS of txg ${ub.txg}`), 'MOS');
      const allocators = config.vdevs.map((vc) => new SpaceAllocator(vc.id, vc.allocStart, vc.allocEnd));
      for (const a of allocators) await loadSpaceMap(reader, a, mos.spaceMaps[a.vdev]);
      const unrecorded: VdevExtent[] = [{ vdev: ub.rootbp.vdev, offset: ub.rootbp.offset, size: ub.rootbp.asize }];
      for (let v = 0; v < mos.spaceMaps.length; v++) {
        unrecorded.push(...(await spaceMapBlocks(reader, mos.spaceMaps[v], v)));
      }
      for (const e of unrecorded) allocators[e.vdev].markAllocated(e.offset, e.size, 'MOS and space map blocks');
      const pool = new Pool(config, vdevs, allocators, reader, mos, ub.rootbp, ub.txg, options);
      // Each copy of the log on its own: a mirror child may hold a block the other missed at a crash, and
      // either chain is a prefix of what was logged, so the longest wins.
      let records: LogRecord[] = [];
      for (const leaf of vdevs[config.log.vdev].leaves) {
        if (leaf.state !== 'ONLINE') continue;
        const found = await IntentLog.replay(leaf, config.log, config.guid, ub.txg).catch(() => []);
        if (found.length > records.length) records = found;
      }
      await pool.lock.run(async () => {
        pool.replaying = true;
        for (const r of records) await pool.replayRecord(r);
        pool.replaying = false;
        // Always start a new log generation, so that nothing left in the log area can extend the chain.
        await pool.syncLocked([], true);
      });
      return pool;
    } catch (e) {
      for (const v of vdevs) await v.close();
      throw e;
    }
  }

  /** Syncs everything and closes the vdevs; the handle is unusable afterwards. */
  async export(): Promise<void> {
    await this.lock.run(async () => {
      this.usable();
      await this.syncLocked();
      this.exported = true;
      for (const v of this.vdevs) await v.close();
    });
  }

  /** Closes the vdevs without syncing (what remains on disk is what a crash would leave). */
  async close(): Promise<void> {
    this.exported = true;
    for (const v of this.vdevs) await v.close();
  }

  // ---------------------------------------------------------------- datasets

  async createVolume(name: string, options: CreateVolumeOptions): Promise<Volume> {
    return this.lock.run(async () => {
      const { parsed, parent, local } = this.checkCreate(name, 'volume', options);
      const volblocksize = options.volblocksize ?? DEFAULT_VOLBLOCKSIZE;
      if (!isPowerOfTwo(volblocksize) || volblocksize < MIN_BLOCK_SIZE || volblocksize > MAX_BLOCK_SIZE) {
        throw new ZfsError(
          'EINVAL',
          `cannot create '${name}': volblocksize ${volblocksize} is not a power of two from ${MIN_BLOCK_SIZE} to ${MAX_BLOCK_SIZE}`,
        );
      }
      const { volsize } = options;
      if (!Number.isSafeInteger(volsize) || volsize <= 0 || volsize % volblocksize !== 0) {
        throw new ZfsError(
          'EINVAL',
          `cannot create '${name}': volsize ${volsize} must be a positive multiple of volblocksize ${volblocksize}`,
        );
      }
      // zfs create -V without -s reserves the whole volume (refreservation=volsize; ZFS adds its metadata).
      if (options.sparse !== true && local.refreservation === undefined) local.refreservation = String(volsize);
      const reserve = Number(local.refreservation ?? 0) || 0;
      if (reserve > this.roomFor(undefined, parent)) {
        throw new ZfsError('ENOSPC', `cannot create '${name}': out of space (refreservation ${reserve} bytes)`);
      }
      const props: VolumeProps = { volsize, volblocksize };
      const dnode = newVolumeDnode(volsize, volblocksize);
      const id = await this.createDataset(parsed.dataset, 'volume', parent, local, props, {
        type: 'volume',
        dnodes: [dnode],
      });
      this.heads.set(id, new VolumeHead(dnode));
      return new Volume(this, parsed.dataset, id, undefined, volsize, volblocksize);
    });
  }

  /** zfs create: a filesystem dataset with an empty root directory. */
  async createFilesystem(name: string, options: CreateFilesystemOptions = {}): Promise<Filesystem> {
    return this.lock.run(async () => {
      const { parsed, parent, local } = this.checkCreate(name, 'filesystem', options);
      const reserve = Math.max(Number(local.reservation ?? 0) || 0, Number(local.refreservation ?? 0) || 0);
      if (reserve > this.roomFor(undefined, parent))
        throw new ZfsError('ENOSPC', `cannot create '${name}': out of space (reservation ${reserve} bytes)`);
      const meta = newMetaDnode();
      const now = Date.now();
      const id = await this.createDataset(
        parsed.dataset,
        'filesystem',
        parent,
        local,
        undefined,
        { type: 'filesystem', dnodes: [meta] },
        (head) => {
          head.load(ROOT_OBJECT, newObjectDnode('dir', 0o755, now));
          head.dirty.add(ROOT_OBJECT);
        },
      );
      return new Filesystem(this, parsed.dataset, id, undefined);
    });
  }

  /** The checks zfs create makes before anything is written; returns the validated -o properties. */
  private checkCreate(
    name: string,
    type: DatasetType,
    options: CreateDatasetOptions,
  ): { parsed: ReturnType<typeof parseName>; parent: DatasetPhys; local: Record<string, string> } {
    this.usable();
    const parsed = parseName(name);
    if (parsed.snapshot !== undefined)
      throw new ZfsError('EINVAL', `cannot create '${name}': a ${type} name has no '@'`);
    this.ownPool(parsed.pool, name);
    if (this.findDataset(parsed.dataset) !== undefined)
      throw new ZfsError('EEXIST', `cannot create '${name}': dataset already exists`);
    const parent = parsed.parent === undefined ? undefined : this.findDataset(parsed.parent);
    if (parent === undefined) throw new ZfsError('ENOENT', `cannot create '${name}': parent does not exist`);
    if (parent.type !== 'filesystem') throw new ZfsError('EINVAL', `cannot create '${name}': parent is a volume`);
    const local: Record<string, string> = {};
    const given: Record<string, string | undefined> = {
      ...options.props,
      ...(options.checksum !== undefined && { checksum: options.checksum }),
      ...(options.compression !== undefined && { compression: options.compression }),
    };
    for (const [prop, value] of Object.entries(given)) {
      if (value !== undefined) local[prop] = normaliseProperty(type, prop, value, parsed.dataset);
    }
    return { parsed, parent, local };
  }

  /** Writes a new dataset's first objset in a txg of its own and adds it to the MOS; returns its id. */
  private async createDataset(
    name: string,
    type: DatasetType,
    parent: DatasetPhys,
    local: Record<string, string>,
    props: VolumeProps | undefined,
    objset: Objset,
    prepareFs?: (head: FsHead) => void,
  ): Promise<number> {
    const id = this.mos.nextId++;
    const ds: DatasetPhys = {
      id,
      name,
      type,
      parent: parent.id,
      createTxg: this.syncedTxg + 1,
      creation: Date.now(),
      props,
      local,
      objset: undefined,
      referenced: 0,
      logicalReferenced: 0,
      deadlist: EMPTY_DEADLIST,
      snapshots: [],
    };
    await this.syncLocked([
      async (tx) => {
        const checksum = this.checksumOf(ds, parent);
        if (prepareFs !== undefined) {
          // A filesystem's first txg writes its root directory through the ordinary path.
          const head = new FsHead(objset.dnodes[0]);
          prepareFs(head);
          this.mos.datasets.push(ds);
          this.fsHeads.set(id, head);
          await this.syncFilesystem(tx, ds, head);
          return;
        }
        const bp = tx.writeBlock('objset', 0, encodeObjset(objset), checksum, 0, `${name} objset`);
        ds.objset = bp;
        ds.referenced = bp.asize;
        ds.logicalReferenced = bp.lsize;
        this.mos.datasets.push(ds);
      },
    ]);
    return id;
  }

  /** A handle on a filesystem dataset, or read-only on one of its snapshots ("tank/home@monday"). */
  openFilesystem(name: string): Filesystem {
    this.usable();
    const parsed = parseName(name);
    const ds = this.findDataset(parsed.dataset);
    if (ds === undefined) throw new ZfsError('ENOENT', `cannot open '${name}': dataset does not exist`);
    if (ds.type !== 'filesystem') throw new ZfsError('EINVAL', `cannot open '${name}': not a filesystem`);
    if (ds.objset === undefined)
      throw new ZfsError('EOPNOTSUPP', `cannot open '${name}': the pool's root dataset holds no files in this version`);
    let snapId: number | undefined;
    if (parsed.snapshot !== undefined) {
      const snap = ds.snapshots.find((s) => s.name === parsed.snapshot);
      if (snap === undefined) throw new ZfsError('ENOENT', `cannot open '${name}': dataset does not exist`);
      snapId = snap.id;
    }
    return new Filesystem(this, name, ds.id, snapId);
  }

  fsRead<T>(dataset: number, snapshot: number | undefined, op: (view: FsView) => Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      this.usable();
      const ds = this.filesystemById(dataset);
      if (snapshot === undefined) return op(await this.fsViewOf(ds));
      const snap = ds.snapshots.find((s) => s.id === snapshot);
      if (snap === undefined) throw new ZfsError('ENOENT', `snapshot of ${ds.name} no longer exists`);
      return op(new FsView(this.reader, await this.snapshotDnode(ds, snap), undefined, `${ds.name}@${snap.name}`));
    });
  }

  fsWrite<T>(
    dataset: number,
    growth: number,
    op: (ops: FsOps, view: FsView) => Promise<T>,
    housekeeping = false,
    blockSizeOf?: (view: FsView) => Promise<number>,
  ): Promise<T> {
    return this.lock.run(async () => {
      this.usable();
      const ds = this.filesystemById(dataset);
      if (!housekeeping && this.prop(ds, 'readonly').value === 'on')
        throw new ZfsError('EROFS', `cannot change ${ds.name}: the dataset is readonly`);
      const view = await this.fsViewOf(ds);
      const head = view.head!;
      // Judged before the change: what is dirty, the data it may add (plus its end blocks), a directory block.
      // Housekeeping (atime, freeing a released orphan) may use the slop, as frees do.
      const bs = growth > 0 && blockSizeOf !== undefined ? await blockSizeOf(view) : FILE_BLOCK_SIZE;
      const blocks = Math.ceil(growth / bs) + 2;
      if (!housekeeping) await this.reserve(ds, head, () => head.estimate(blocks, bs));
      const recordsize = Number(this.prop(ds, 'recordsize').value);
      const result = await op(new FsOps(view, head, nowTime, recordsize), view);
      await this.syncIfDirtyFull();
      return result;
    });
  }

  /** A filesystem property's effective value (for the Filesystem handle: atime, snapdir, readonly). */
  fsProperty(dataset: number, prop: string): string {
    return this.prop(this.filesystemById(dataset), prop).value;
  }

  /** Snapshot names of a filesystem, oldest first. */
  fsSnapshots(dataset: number): string[] {
    return this.filesystemById(dataset).snapshots.map((s) => s.name);
  }

  /** Statistics for statfs: bytes used by the dataset and available to it, objects allocated. */
  fsSpace(dataset: number): { used: number; available: number } {
    const ds = this.filesystemById(dataset);
    return { used: ds.referenced, available: this.availableTo(ds) };
  }

  private filesystemById(id: number): DatasetPhys {
    const ds = this.mos.datasets.find((d) => d.id === id);
    if (ds === undefined || ds.type !== 'filesystem' || ds.objset === undefined)
      throw new ZfsError('ENOENT', `filesystem ${id} no longer exists`);
    return ds;
  }

  private async fsViewOf(ds: DatasetPhys): Promise<FsView> {
    let head = this.fsHeads.get(ds.id);
    if (head === undefined) {
      const where = `${ds.name} objset`;
      head = new FsHead(decodeObjset(await this.reader.read(ds.objset!, where), where).dnodes[0]);
      this.fsHeads.set(ds.id, head);
      // Files unlinked while open when the pool went down (or before a rollback) go now, as at mount.
      const view = new FsView(this.reader, head.meta, head, ds.name);
      await new FsOps(view, head).drainUnlinkedSet();
    }
    return new FsView(this.reader, head.meta, head, ds.name);
  }

  /** A handle on a volume, or read-only on one of its snapshots ("tank/vm1@monday"). */
  openVolume(name: string): Volume {
    this.usable();
    const parsed = parseName(name);
    const ds = this.findDataset(parsed.dataset);
    if (ds === undefined) throw new ZfsError('ENOENT', `cannot open '${name}': dataset does not exist`);
    if (ds.type !== 'volume' || ds.props === undefined)
      throw new ZfsError('EINVAL', `cannot open '${name}': not a volume`);
    let snapId: number | undefined;
    if (parsed.snapshot !== undefined) {
      const snap = ds.snapshots.find((s) => s.name === parsed.snapshot);
      if (snap === undefined) throw new ZfsError('ENOENT', `cannot open '${name}': dataset does not exist`);
      snapId = snap.id;
    }
    return new Volume(this, name, ds.id, snapId, ds.props.volsize, ds.props.volblocksize);
  }

  /** Takes a snapshot in the next txg; its cost does not depend on the volume's size. */
  async snapshot(name: string): Promise<void> {
    await this.lock.run(async () => {
      this.usable();
      const { ds, snapName } = this.snapshotTarget(name);
      if (ds.snapshots.some((s) => s.name === snapName))
        throw new ZfsError('EEXIST', `cannot create snapshot '${name}': dataset already exists`);
      // Tasks must not fail (a failure in syncing context suspends the pool): everything is checked above.
      await this.syncLocked([this.snapshotTask(ds, snapName, randomBytes(8).toString('hex'))]);
    });
  }

  private snapshotTask(ds: DatasetPhys, name: string, guid: string): SyncTask {
    const id = this.mos.nextId++;
    return (tx) => {
      ds.snapshots.push({
        id,
        name,
        txg: tx.txg,
        creation: Date.now(),
        guid,
        objset: ds.objset!,
        referenced: ds.referenced,
        logicalReferenced: ds.logicalReferenced,
        deadlist: ds.deadlist,
      });
      ds.deadlist = EMPTY_DEADLIST;
    };
  }

  private snapshotGuid(snap: SnapshotPhys): string {
    return snap.guid ?? `${this.guid}${snap.id.toString(16).padStart(8, '0')}`;
  }

  /**
   * zfs send: the snapshot as a stream of checksummed records (send-stream.ts), in full or (with `from`,
   * an older snapshot of the same dataset) as the changes since. The snapshots are held while the stream
   * is read (destroying them is refused with EBUSY); reads take the pool lock block by block.
   */
  send(name: string, options: SendOptions = {}): AsyncIterable<Buffer> {
    this.usable();
    const { ds, snap } = this.existingSnapshot(name, 'send');
    let from: SnapshotPhys | undefined;
    if (options.from !== undefined) {
      const fromName = options.from.startsWith('@') ? `${ds.name}${options.from}` : options.from;
      const f = this.existingSnapshot(fromName, 'send from');
      if (f.ds !== ds)
        throw new ZfsError(
          'EINVAL',
          `cannot send '${name}' from '${fromName}': not an earlier snapshot of the same dataset`,
        );
      if (f.snap.txg >= snap.txg)
        throw new ZfsError('EINVAL', `cannot send '${name}' from '${fromName}': it is not older`);
      from = f.snap;
    }
    return this.sendStream(ds, snap, from, options.onProgress);
  }

  private async *sendStream(
    ds: DatasetPhys,
    snap: SnapshotPhys,
    from: SnapshotPhys | undefined,
    onProgress: ((bytes: number) => void) | undefined,
  ): AsyncGenerator<Buffer> {
    const held = [snap, ...(from ? [from] : [])];
    for (const s of held) this.holds.set(s.id, (this.holds.get(s.id) ?? 0) + 1);
    try {
      const read: BlockRead = (bp, what) =>
        this.lock.run(() => {
          this.usable();
          return this.reader.read(bp, what);
        });
      const w = new StreamWriter();
      let bytes = 0;
      const emit = (r: StreamRecord): Buffer => {
        const chunk = w.encode(r);
        bytes += chunk.length;
        onProgress?.(bytes);
        return chunk;
      };
      yield emit({
        type: 'begin',
        begin: {
          version: STREAM_VERSION,
          kind: from ? 'incremental' : 'full',
          type: ds.type === 'volume' ? 'volume' : 'filesystem',
          toName: `${ds.name}@${snap.name}`,
          toGuid: this.snapshotGuid(snap),
          toTxg: snap.txg,
          ...(from && { fromName: `${ds.name}@${from.name}`, fromGuid: this.snapshotGuid(from) }),
          ...(ds.props && { volsize: ds.props.volsize, volblocksize: ds.props.volblocksize }),
          props: { ...ds.local },
        },
      });
      const to = await this.lock.run(() => this.snapshotDnode(ds, snap));
      const fromDn = from && (await this.lock.run(() => this.snapshotDnode(ds, from)));
      const records =
        ds.type === 'volume'
          ? volumeRecords(read, fromDn, to, ds.props!.volsize, `${ds.name}@${snap.name}`)
          : filesystemRecords(read, fromDn, to, `${ds.name}@${snap.name}`);
      for await (const r of records) yield emit(r);
      yield emit({ type: 'end', records: w.count });
    } finally {
      for (const s of held) {
        const n = (this.holds.get(s.id) ?? 1) - 1;
        if (n > 0) this.holds.set(s.id, n);
        else this.holds.delete(s.id);
      }
    }
  }

  /**
   * zfs receive: reads the whole stream and checks every record before anything changes (a bad or
   * truncated stream fails with EINVAL and leaves the target as it was), then applies it and takes the
   * stream's snapshot (same name and guid) on the target. A full stream creates `target` (which must not
   * exist); an incremental one needs the target's latest snapshot to be the stream's from-snapshot and the
   * target unmodified since.
   */
  async receive(target: string, stream: AsyncIterable<Uint8Array>, options: ReceiveOptions = {}): Promise<string> {
    const reader = new StreamReader();
    const records: StreamRecord[] = [];
    let bytes = 0;
    for await (const chunk of stream) {
      bytes += chunk.length;
      records.push(...reader.push(chunk));
      options.onProgress?.(bytes);
    }
    reader.finish();
    const begin = (records[0] as Extract<StreamRecord, { type: 'begin' }>).begin;
    const snapName = begin.toName.slice(begin.toName.indexOf('@') + 1);
    return this.lock.run(async () => {
      this.usable();
      const parsed = parseName(target);
      if (parsed.snapshot !== undefined) throw new ZfsError('EINVAL', `cannot receive into '${target}': a snapshot`);
      this.ownPool(parsed.pool, target);
      let ds = this.findDataset(parsed.dataset);
      if (begin.kind === 'full') {
        if (ds !== undefined)
          throw new ZfsError('EEXIST', `cannot receive new filesystem stream: destination '${target}' exists`);
        const parent = parsed.parent === undefined ? undefined : this.findDataset(parsed.parent);
        if (parent === undefined || parent.type !== 'filesystem')
          throw new ZfsError('ENOENT', `cannot receive into '${target}': parent does not exist`);
        const local: Record<string, string> = {};
        for (const [k, v] of Object.entries(begin.props))
          if (isSettable(k)) local[k] = normaliseProperty(begin.type, k, v, target);
        if (begin.type === 'volume') {
          const { volsize, volblocksize } = begin;
          if (volsize === undefined || volblocksize === undefined)
            throw new ZfsError('EINVAL', `invalid stream: a volume stream without volsize`);
          const dnode = newVolumeDnode(volsize, volblocksize);
          const id = await this.createDataset(
            parsed.dataset,
            'volume',
            parent,
            local,
            { volsize, volblocksize },
            { type: 'volume', dnodes: [dnode] },
          );
          this.heads.set(id, new VolumeHead(dnode));
        } else {
          await this.createDataset(
            parsed.dataset,
            'filesystem',
            parent,
            local,
            undefined,
            { type: 'filesystem', dnodes: [newMetaDnode()] },
            () => undefined,
          );
        }
        ds = this.findDataset(parsed.dataset)!;
      } else {
        if (ds === undefined)
          throw new ZfsError('ENOENT', `cannot receive incremental stream: destination '${target}' does not exist`);
        const latest = ds.snapshots[ds.snapshots.length - 1];
        if (latest === undefined || this.snapshotGuid(latest) !== begin.fromGuid)
          throw new ZfsError(
            'EINVAL',
            `cannot receive incremental stream: most recent snapshot of '${target}' does not match incremental source ${begin.fromName}`,
          );
        if (ds.type !== begin.type) throw new ZfsError('EINVAL', `cannot receive: '${target}' is not a ${begin.type}`);
        const volumeDirty = (this.heads.get(ds.id)?.dirty.size ?? 0) > 0;
        if (!sameObjset(ds.objset, latest.objset) || volumeDirty || this.fsHeads.get(ds.id)?.isDirty === true)
          throw new ZfsError(
            'EBUSY',
            `cannot receive incremental stream: destination '${target}' has been modified since most recent snapshot`,
          );
      }
      if (ds.snapshots.some((s) => s.name === snapName || this.snapshotGuid(s) === begin.toGuid))
        throw new ZfsError('EEXIST', `cannot receive: '${target}@${snapName}' already exists`);
      await this.applyRecords(ds, records);
      await this.syncLocked([this.snapshotTask(ds, snapName, begin.toGuid)]);
      return `${ds.name}@${snapName}`;
    });
  }

  private async applyRecords(ds: DatasetPhys, records: readonly StreamRecord[]): Promise<void> {
    if (ds.type === 'volume') {
      for (const r of records) {
        if (r.type === 'write') await this.writeLocked(ds.id, r.offset, r.data, false);
        else if (r.type === 'free') await this.discardLocked(ds.id, r.offset, r.length, false);
      }
      return;
    }
    const view = await this.fsViewOf(ds);
    const head = view.head!;
    for (const r of records) {
      if (r.type === 'object') {
        const on = await view.dnode(r.object);
        const b = r.bonus;
        const type: DnodeType = b.dir ? 'dir' : (b.kind ?? 'file');
        const { size, mtime, ctime, mode, nlink, znode } = b;
        const bonus = { type, size, mtime, ctime, mode, nlink, ...(znode && { znode }) };
        head.receive(r.object, bonus, on, r.reset, b.blockSize ?? FILE_BLOCK_SIZE);
      } else if (r.type === 'freeobject') {
        if ((await view.dnode(r.object)) !== undefined) head.free(r.object);
      } else if (r.type === 'write' || r.type === 'free') {
        const dn = await view.dnode(r.object);
        if (dn === undefined)
          throw new ZfsError('EINVAL', `invalid stream: data for object ${r.object}, which it never created`);
        const bs = dn.blockSize;
        if (r.offset % bs !== 0) throw new ZfsError('EINVAL', `invalid stream: unaligned data for object ${r.object}`);
        if (r.type === 'write') head.setBlock(r.object, r.offset / bs, Buffer.from(r.data));
        else
          for (let b = r.offset / bs; b < Math.ceil((r.offset + r.length) / bs); b++) head.setBlock(r.object, b, null);
      }
      if (this.dirtyBytes() > this.dirtyMax) await this.syncLocked();
    }
  }

  /** Returns the volume to its latest snapshot, exactly, discarding everything written since. */
  async rollback(name: string): Promise<void> {
    await this.lock.run(async () => {
      this.usable();
      const { ds, snap } = this.existingSnapshot(name, 'rollback to');
      const latest = ds.snapshots[ds.snapshots.length - 1];
      if (snap !== latest) {
        const later = ds.snapshots.slice(ds.snapshots.indexOf(snap) + 1).map((s) => `${ds.name}@${s.name}`);
        throw new ZfsError(
          'EEXIST',
          `cannot rollback to '${name}': more recent snapshots exist; use '-r' to force deletion of the following snapshots: ${later.join(' ')}`,
        );
      }
      const volumeHead = ds.type === 'volume' ? await this.headOf(ds) : undefined;
      const dnode = ds.type === 'volume' ? await this.snapshotDnode(ds, snap) : undefined;
      // Everything the head reaches that was born after the snapshot is the head's alone. Found here,
      // before syncing context, so that a read error fails the rollback instead of suspending the pool.
      const born: BlockPointer[] = [];
      if (ds.objset !== undefined && ds.objset.birth > snap.txg) {
        born.push(ds.objset);
        await walkObjset(this.reader, ds.objset, ds.name, (bp) => {
          if (bp.birth <= snap.txg) return false;
          born.push(bp);
          return true;
        });
      }
      volumeHead?.clear();
      this.fsHeads.delete(ds.id);
      this.zil.dropDataset(ds.id);
      await this.syncLocked([
        async (tx) => {
          for (const bp of born) tx.free(bp);
          await deadlistDiscard(tx, this.reader, ds.deadlist, `${ds.name} deadlist`);
          ds.deadlist = EMPTY_DEADLIST;
          ds.objset = snap.objset;
          ds.referenced = snap.referenced;
          ds.logicalReferenced = snap.logicalReferenced;
          if (volumeHead !== undefined && dnode !== undefined) volumeHead.dnode = dnode;
        },
      ]);
    });
  }

  /** Destroys a snapshot, freeing the blocks no other snapshot and not the head reference. */
  async destroySnapshot(name: string): Promise<void> {
    await this.lock.run(async () => {
      this.usable();
      const { ds, snap } = this.existingSnapshot(name, 'destroy');
      if (this.holds.has(snap.id))
        throw new ZfsError('EBUSY', `cannot destroy '${name}': dataset is busy (a send is reading it)`);
      const clones = this.clonesOf(snap);
      if (clones.length > 0) {
        throw new ZfsError(
          'EBUSY',
          `cannot destroy '${name}': snapshot has dependent clones; use 'zfs promote' or '-R' to destroy the following datasets: ${clones.map((c) => c.name).join(' ')}`,
        );
      }
      await this.syncLocked([
        async (tx) => {
          const i = ds.snapshots.indexOf(snap);
          const prevTxg = this.prevTxg(ds, i);
          const next: { deadlist: Deadlist } = ds.snapshots[i + 1] ?? ds;
          const freed = await deadlistFreeBucket(tx, this.reader, next.deadlist, prevTxg, true, `${ds.name} deadlist`);
          next.deadlist = deadlistMerge(freed, snap.deadlist);
          ds.snapshots.splice(i, 1);
          for (const later of [...ds.snapshots.slice(i), ds])
            later.deadlist = deadlistRekey(later.deadlist, snap.txg, prevTxg);
          this.snapshotDnodes.delete(snap.id);
        },
      ]);
    });
  }

  /**
   * zfs clone: a new dataset whose head is the snapshot's tree, shared until written (O(1), like a
   * snapshot). The snapshot cannot be destroyed while the clone depends on it.
   */
  async clone(snapshotName: string, name: string, options: CreateDatasetOptions = {}): Promise<void> {
    await this.lock.run(async () => {
      this.usable();
      const { ds: origin, snap } = this.existingSnapshot(snapshotName, 'clone');
      const { parsed, parent, local } = this.checkCreate(name, origin.type, options);
      await this.syncLocked([
        () => {
          this.mos.datasets.push({
            id: this.mos.nextId++,
            name: parsed.dataset,
            type: origin.type,
            parent: parent.id,
            createTxg: this.syncedTxg + 1,
            creation: Date.now(),
            props: origin.props,
            local,
            objset: snap.objset,
            referenced: snap.referenced,
            logicalReferenced: snap.logicalReferenced,
            deadlist: EMPTY_DEADLIST,
            snapshots: [],
            origin: { dataset: origin.id, snapshot: snap.id, txg: snap.txg },
          });
        },
      ]);
    });
  }

  /**
   * zfs promote: the clone takes over its origin's snapshots up to and including the origin snapshot, and
   * the former origin becomes a clone of that snapshot (now the clone's). Other clones of the moved
   * snapshots follow them. Deadlists are re-keyed to the new lineages (cost: the entries of the clone's
   * deadlists that predate the origin, which must be split by birth).
   */
  async promote(name: string): Promise<void> {
    await this.lock.run(async () => {
      this.usable();
      const parsed = parseName(name);
      this.ownPool(parsed.pool, name);
      const clone = parsed.snapshot === undefined ? this.findDataset(parsed.dataset) : undefined;
      if (clone === undefined) throw new ZfsError('ENOENT', `cannot open '${name}': dataset does not exist`);
      if (clone.origin === undefined) throw new ZfsError('EINVAL', `cannot promote '${name}': not a cloned filesystem`);
      const originId = clone.origin.snapshot;
      const from = this.mos.datasets.find((d) => d.id === clone.origin!.dataset)!;
      const cut = from.snapshots.findIndex((s) => s.id === originId);
      const moving = from.snapshots.slice(0, cut + 1);
      const clash = moving.find((s) => clone.snapshots.some((c) => c.name === s.name));
      if (clash !== undefined)
        throw new ZfsError('EEXIST', `cannot promote '${name}': snapshot name '${clash.name}' is in use in both`);
      const originSnap = moving[moving.length - 1];
      await this.syncLocked([
        async (tx) => {
          from.snapshots = from.snapshots.slice(cut + 1);
          clone.snapshots = [...moving, ...clone.snapshots];
          clone.origin = from.origin;
          from.origin = { dataset: clone.id, snapshot: originSnap.id, txg: originSnap.txg };
          for (const d of this.mos.datasets) {
            if (d !== clone && d !== from && d.origin !== undefined && moving.some((s) => s.id === d.origin!.snapshot))
              d.origin = { ...d.origin, dataset: clone.id };
          }
          // The former origin: everything born up to the origin snapshot now predates its lineage.
          for (const owner of [...from.snapshots, from]) {
            for (const b of owner.deadlist.buckets)
              if (b.minTxg > 0 && b.minTxg < originSnap.txg)
                owner.deadlist = deadlistRekey(owner.deadlist, b.minTxg, 0);
          }
          // The clone: its entries that predate its old origin (bucket 0) are split among the snapshots it
          // now has before that origin.
          const newKeys = this.deadlistTxgs(clone);
          for (const owner of [...clone.snapshots.slice(moving.length), clone])
            owner.deadlist = await this.rekeyBucketZero(tx, owner.deadlist, newKeys, `${clone.name} deadlist`);
        },
      ]);
    });
  }

  private async rekeyBucketZero(tx: TxSync, dl: Deadlist, keys: readonly number[], what: string): Promise<Deadlist> {
    const zero = dl.buckets.find((b) => b.minTxg === 0);
    if (zero === undefined) return dl;
    const entries = await deadlistEntries(this.reader, { buckets: [zero] }, what);
    const rest = await deadlistFreeBucket(tx, this.reader, dl, 0, false, what);
    return deadlistAppend(
      tx,
      this.reader,
      rest,
      entries.map((bp) => ({ key: bucketKey(keys, bp.birth), bp })),
      what,
    );
  }

  /**
   * zfs destroy of a dataset without snapshots or children: frees what only its head references (blocks
   * born after its origin, for a clone) and its deadlist's own chains.
   */
  async destroy(name: string): Promise<void> {
    await this.lock.run(async () => {
      this.usable();
      const parsed = parseName(name);
      if (parsed.snapshot !== undefined) throw new ZfsError('EINVAL', `use destroySnapshot for '${name}'`);
      this.ownPool(parsed.pool, name);
      const ds = this.findDataset(parsed.dataset);
      if (ds === undefined) throw new ZfsError('ENOENT', `cannot open '${name}': dataset does not exist`);
      if (ds.parent === undefined) throw new ZfsError('EINVAL', `cannot destroy '${name}': use zpool destroy`);
      const children = this.mos.datasets.filter((c) => c.parent === ds.id).map((c) => c.name);
      if (children.length > 0 || ds.snapshots.length > 0) {
        const deps = [...children, ...ds.snapshots.map((s) => `${ds.name}@${s.name}`)];
        throw new ZfsError(
          'EBUSY',
          `cannot destroy '${name}': filesystem has children; use '-r' to destroy the following datasets: ${deps.join(' ')}`,
        );
      }
      const originTxg = ds.origin?.txg ?? 0;
      const mine: BlockPointer[] = [];
      if (ds.objset !== undefined && ds.objset.birth > originTxg) {
        mine.push(ds.objset);
        await walkObjset(this.reader, ds.objset, ds.name, (bp) => {
          if (bp.birth <= originTxg) return false;
          mine.push(bp);
          return true;
        });
      }
      this.heads.delete(ds.id);
      this.fsHeads.delete(ds.id);
      this.zil.dropDataset(ds.id);
      await this.syncLocked([
        async (tx) => {
          for (const bp of mine) tx.free(bp);
          await deadlistDiscard(tx, this.reader, ds.deadlist, `${ds.name} deadlist`);
          this.mos.datasets.splice(this.mos.datasets.indexOf(ds), 1);
        },
      ]);
    });
  }

  private clonesOf(snap: SnapshotPhys): DatasetPhys[] {
    return this.mos.datasets.filter((d) => d.origin?.snapshot === snap.id);
  }

  /** The txg of the snapshot before the dataset's i-th one: its origin's for a clone's first. */
  private prevTxg(ds: DatasetPhys, i: number): number {
    return i > 0 ? ds.snapshots[i - 1].txg : (ds.origin?.txg ?? 0);
  }

  /** Datasets and snapshots with their space accounting (as of the last synced txg, like zfs list). */
  list(): DatasetInfo[] {
    this.usable();
    const out: DatasetInfo[] = [];
    for (const ds of this.mos.datasets) {
      const space = this.spaceOf(ds);
      out.push({
        name: ds.name,
        type: ds.type,
        used: space.used,
        referenced: ds.referenced,
        usedbysnapshots: space.usedbysnapshots,
        usedbychildren: space.usedbychildren,
        usedbyrefreservation: space.usedbyrefreservation,
        available: this.availableTo(ds),
        createTxg: ds.createTxg,
        creation: ds.creation,
        ...(ds.origin !== undefined && { origin: this.originName(ds) }),
        logicalreferenced: ds.logicalReferenced,
        compressratio: ratio(ds.logicalReferenced, ds.referenced),
        checksum: this.prop(ds, 'checksum').value,
        compression: this.prop(ds, 'compression').value,
        ...(ds.props && { volsize: ds.props.volsize, volblocksize: ds.props.volblocksize }),
      });
      ds.snapshots.forEach((s, i) => {
        const next = ds.snapshots[i + 1] ?? ds;
        const prevTxg = this.prevTxg(ds, i);
        out.push({
          name: `${ds.name}@${s.name}`,
          type: 'snapshot',
          used: next.deadlist.buckets.find((b) => b.minTxg === prevTxg)?.bytes ?? 0,
          referenced: s.referenced,
          usedbysnapshots: 0,
          usedbychildren: 0,
          usedbyrefreservation: 0,
          available: 0,
          createTxg: s.txg,
          creation: s.creation,
          logicalreferenced: s.logicalReferenced,
          compressratio: ratio(s.logicalReferenced, s.referenced),
        });
      });
    }
    return out;
  }

  get(name: string): DatasetInfo {
    const info = this.list().find((d) => d.name === name);
    if (info === undefined) throw new ZfsError('ENOENT', `cannot open '${name}': dataset does not exist`);
    return info;
  }

  // ---------------------------------------------------------------- pool-wide

  status(): PoolStatus {
    const size = this.allocators.reduce((n, a) => n + a.totalBytes, 0);
    const allocated = this.allocators.reduce((n, a) => n + a.allocatedBytes, 0);
    const leafStatus = (l: TopVdev['leaves'][number]): VdevStatus => ({
      path: l.path,
      type: 'file',
      state: l.state,
      ...l.stats,
      repairedBytes: l.repairedBytes,
    });
    const vdevs = this.vdevs.map((v): VdevStatus => {
      if (v instanceof FileVdev) return leafStatus(v);
      const children = v.leaves.map(leafStatus);
      const online = children.filter((c) => c.state === 'ONLINE').length;
      const sum = (k: 'readErrors' | 'writeErrors' | 'checksumErrors' | 'repairedBytes'): number =>
        children.reduce((n, c) => n + c[k], 0);
      return {
        path: `mirror-${v.id}`,
        type: 'mirror',
        state: online === children.length ? 'ONLINE' : online > 0 ? 'DEGRADED' : 'UNAVAIL',
        readErrors: 0,
        writeErrors: 0,
        checksumErrors: 0,
        repairedBytes: sum('repairedBytes'),
        children,
      };
    });
    return {
      name: this.name,
      guid: this.guid,
      txg: this.syncedTxg,
      health: this.failure ? 'SUSPENDED' : vdevs.every((v) => v.state === 'ONLINE') ? 'ONLINE' : 'DEGRADED',
      size,
      allocated,
      free: size - allocated,
      vdevs,
      scan: this.scan,
      dataErrors: this.reader.dataErrors,
    };
  }

  /**
   * `zpool scrub`: reads every copy of every block the pool references (trees, snapshots, deadlists, space
   * maps, the MOS), checks each against its block pointer and rewrites bad copies from a good one. Runs
   * under the pool lock (I/O waits for it); the cache is dropped first so that nothing is taken on trust.
   */
  async scrub(onProgress?: ScrubProgress): Promise<ScrubStatus> {
    return this.lock.run(async () => {
      this.usable();
      const startedAt = Date.now();
      this.reader.cache.clear();
      const leaves = this.vdevs.flatMap((v) => v.leaves);
      const errorsBefore = leaves.reduce((n, l) => n + l.stats.checksumErrors + l.stats.readErrors, 0);
      const repairedBefore = leaves.reduce((n, l) => n + l.repairedBytes, 0);
      const dataErrorsBefore = this.reader.dataErrors;
      // Finding the blocks reads the metadata through the reader, which heals as it goes; the counters
      // taken before include what it finds.
      const blocks = await collectBlocks(this.view(), true);
      const totalBytes = blocks.reduce((n, b) => n + b.bp.psize, 0);
      let examinedBytes = 0;
      const progress = (state: ScrubStatus['state']): ScrubStatus => ({
        state,
        startedAt,
        endedAt: state === 'scanning' ? undefined : Date.now(),
        examinedBytes,
        totalBytes,
        blocks: blocks.length,
        errors: leaves.reduce((n, l) => n + l.stats.checksumErrors + l.stats.readErrors, 0) - errorsBefore,
        repairedBytes: leaves.reduce((n, l) => n + l.repairedBytes, 0) - repairedBefore,
        unrecoverable: this.reader.dataErrors - dataErrorsBefore,
      });
      this.scan = progress('scanning');
      for (const b of blocks) {
        await this.reader.checkCopies(b.bp, b.owner);
        examinedBytes += b.bp.psize;
        onProgress?.(examinedBytes, totalBytes);
      }
      this.scan = progress('finished');
      return this.scan;
    });
  }

  /** Runs a txg sync now; returns the txg synced. */
  async sync(): Promise<number> {
    return this.lock.run(async () => {
      this.usable();
      await this.syncLocked();
      return this.syncedTxg;
    });
  }

  /** Every block the pool references and who references it (zdb's view). */
  async blockMap(): Promise<BlockMapEntry[]> {
    return this.lock.run(() => {
      this.usable();
      return blockMap(this.view());
    });
  }

  /** Checks the space maps against the trees, the deadlists against the snapshots, and the accounting. */
  async verify(): Promise<VerifyReport> {
    return this.lock.run(() => {
      this.usable();
      return verifyPool(this.view());
    });
  }

  // ---------------------------------------------------------------- VolumeHost (open context)

  volumeRead(dataset: number, snapshot: number | undefined, offset: number, length: number): Promise<Buffer> {
    return this.lock.run(async () => {
      this.usable();
      const ds = this.volumeById(dataset);
      const props = ds.props!;
      checkRange(ds.name, props.volsize, offset, length);
      let blockOf: (blkid: number) => Promise<Buffer>;
      if (snapshot === undefined) {
        const head = await this.headOf(ds);
        blockOf = (blkid) => this.headBlock(ds, head, blkid);
      } else {
        const snap = ds.snapshots.find((s) => s.id === snapshot);
        if (snap === undefined) throw new ZfsError('ENOENT', `snapshot of ${ds.name} no longer exists`);
        const dnode = await this.snapshotDnode(ds, snap);
        blockOf = (blkid) => this.treeBlock(`${ds.name}@${snap.name}`, dnode, blkid);
      }
      const out = Buffer.alloc(length);
      const bs = props.volblocksize;
      for (let pos = offset; pos < offset + length;) {
        const blkid = Math.floor(pos / bs);
        const inBlock = pos - blkid * bs;
        const n = Math.min(bs - inBlock, offset + length - pos);
        (await blockOf(blkid)).copy(out, pos - offset, inBlock, inBlock + n);
        pos += n;
      }
      return out;
    });
  }

  volumeWrite(dataset: number, offset: number, data: Uint8Array): Promise<void> {
    return this.lock.run(() => this.writeLocked(dataset, offset, Buffer.from(data), true));
  }

  volumeDiscard(dataset: number, offset: number, length: number): Promise<void> {
    return this.lock.run(() => this.discardLocked(dataset, offset, length, true));
  }

  flush(): Promise<void> {
    return this.lock.run(async () => {
      this.usable();
      // Filesystem changes are not logged: a flush that has any to make durable syncs a txg.
      if ([...this.fsHeads.values()].some((h) => h.isDirty)) {
        await this.syncLocked();
        return;
      }
      if (this.zil.pendingRecords === 0) return;
      if (!this.zil.fits()) {
        await this.syncLocked();
        return;
      }
      try {
        await this.zil.commit();
      } catch (e) {
        throw this.suspend(e, 'intent log write');
      }
    });
  }

  // ---------------------------------------------------------------- internals

  private usable(): void {
    if (this.exported) throw new ZfsError('ENXIO', `pool '${this.name}' is exported`);
    if (this.failure) throw new ZfsError('EIO', `pool '${this.name}' is suspended: ${this.failure.message}`);
  }

  private suspend(e: unknown, what: string): ZfsError {
    const err = asZfsError(e, `${what} in pool '${this.name}'`);
    this.failure ??= err;
    return err;
  }

  private view(): PoolView {
    return { reader: this.reader, mos: this.mos, mosBp: this.mosBp, allocators: this.allocators };
  }

  private ownPool(pool: string, name: string): void {
    if (pool !== this.name) throw new ZfsError('ENOENT', `cannot open '${name}': no such pool '${pool}'`);
  }

  private findDataset(name: string): DatasetPhys | undefined {
    return this.mos.datasets.find((d) => d.name === name);
  }

  private volumeById(id: number): DatasetPhys {
    const ds = this.mos.datasets.find((d) => d.id === id);
    if (ds === undefined || ds.props === undefined) throw new ZfsError('ENOENT', `volume ${id} no longer exists`);
    return ds;
  }

  private snapshotTarget(name: string): { ds: DatasetPhys; snapName: string } {
    const parsed = parseName(name);
    if (parsed.snapshot === undefined)
      throw new ZfsError('EINVAL', `'${name}' is not a snapshot name (dataset@snapshot)`);
    this.ownPool(parsed.pool, name);
    const ds = this.findDataset(parsed.dataset);
    if (ds === undefined) throw new ZfsError('ENOENT', `cannot open '${parsed.dataset}': dataset does not exist`);
    if (ds.objset === undefined)
      throw new ZfsError('EOPNOTSUPP', `cannot snapshot '${parsed.dataset}': the pool's root dataset holds no data`);
    return { ds, snapName: parsed.snapshot };
  }

  private existingSnapshot(name: string, verb: string): { ds: DatasetPhys; snap: SnapshotPhys } {
    const { ds, snapName } = this.snapshotTarget(name);
    const snap = ds.snapshots.find((s) => s.name === snapName);
    if (snap === undefined) throw new ZfsError('ENOENT', `cannot ${verb} '${name}': dataset does not exist`);
    return { ds, snap };
  }

  /**
   * What destroying every snapshot would free: the deadlists, less (for a clone) bucket 0, which holds
   * blocks of the origin: they are the origin's space, not the clone's.
   */
  private usedBySnapshots(ds: DatasetPhys): number {
    const bytes = (dl: Deadlist): number =>
      ds.origin === undefined ? deadlistBytes(dl) : dl.buckets.reduce((n, b) => n + (b.minTxg === 0 ? 0 : b.bytes), 0);
    return bytes(ds.deadlist) + ds.snapshots.reduce((n, s) => n + bytes(s.deadlist), 0);
  }

  /** zfs(8)'s usedbydataset: referenced, less (for a clone) what it still shares with its origin. */
  private usedByDataset(ds: DatasetPhys): number {
    if (ds.origin === undefined) return ds.referenced;
    const origin = this.mos.datasets.find((d) => d.id === ds.origin!.dataset);
    const snap = origin?.snapshots.find((s) => s.id === ds.origin!.snapshot);
    if (snap === undefined) return ds.referenced;
    const zero = (dl: Deadlist): number => dl.buckets.find((b) => b.minTxg === 0)?.bytes ?? 0;
    const killed = zero(ds.deadlist) + ds.snapshots.reduce((n, s) => n + zero(s.deadlist), 0);
    return ds.referenced - (snap.referenced - killed);
  }

  /** ZFS holds back slop space (1/32 of the pool) so that destroys and frees still work when it is full. */
  private slop(): number {
    return Math.floor(this.allocators.reduce((n, a) => n + a.totalBytes, 0) / 32);
  }

  // ------------------------------------------------ properties and space (reservations, quotas)

  /** The dataset, its parent, ..., the pool's root dataset. */
  private ancestry(ds: DatasetPhys): DatasetPhys[] {
    const out = [ds];
    for (let p = ds.parent; p !== undefined;) {
      const parent = this.mos.datasets.find((d) => d.id === p);
      if (parent === undefined) break;
      out.push(parent);
      p = parent.parent;
    }
    return out;
  }

  private prop(ds: DatasetPhys, prop: string): PropertyValue {
    const chain = this.ancestry(ds);
    const v = resolveProperty(chain, prop);
    // Volumes created before properties kept their checksum and compression in their geometry.
    if (v.source === 'default' && (prop === 'checksum' || prop === 'compression')) {
      const legacy = ds.props?.[prop];
      if (legacy !== undefined) return { property: prop, value: legacy, source: 'local' };
    }
    return v;
  }

  private sizeProp(ds: DatasetPhys, prop: string): number {
    return sizeValue(this.prop(ds, prop));
  }

  /** The checksum new blocks of `ds` get (a dataset being created resolves through `parent`). */
  private checksumOf(ds: DatasetPhys, parent?: DatasetPhys): ChecksumAlgo {
    if (this.mos.datasets.includes(ds)) return parseChecksumProperty(this.prop(ds, 'checksum').value);
    return parseChecksumProperty(resolveProperty([ds, ...(parent ? this.ancestry(parent) : [])], 'checksum').value);
  }

  private compressionOf(ds: DatasetPhys): CompressionAlgo {
    return parseCompressionProperty(this.prop(ds, 'compression').value);
  }

  /** Space the dataset and its descendants hold, without counting reservations. */
  private actualUsed(ds: DatasetPhys): number {
    return (
      this.usedByDataset(ds) +
      this.usedBySnapshots(ds) +
      this.mos.datasets.filter((c) => c.parent === ds.id).reduce((n, c) => n + this.actualUsed(c), 0)
    );
  }

  /** zfs(8)'s used and its parts: a child counts at least its reservation, a refreservation its unused part. */
  private spaceOf(ds: DatasetPhys): {
    used: number;
    usedbysnapshots: number;
    usedbychildren: number;
    usedbyrefreservation: number;
  } {
    const usedbysnapshots = this.usedBySnapshots(ds);
    const usedbyrefreservation = Math.max(0, this.sizeProp(ds, 'refreservation') - ds.referenced);
    const usedbychildren = this.mos.datasets
      .filter((c) => c.parent === ds.id)
      .reduce((n, c) => n + Math.max(this.spaceOf(c).used, this.sizeProp(c, 'reservation')), 0);
    return {
      used: this.usedByDataset(ds) + usedbysnapshots + usedbychildren + usedbyrefreservation,
      usedbysnapshots,
      usedbychildren,
      usedbyrefreservation,
    };
  }

  /** What a dataset's reservations hold back that nothing has used yet. */
  private unreserved(ds: DatasetPhys, withReservation: boolean): number {
    const ref = Math.max(0, this.sizeProp(ds, 'refreservation') - ds.referenced);
    if (!withReservation) return ref;
    return Math.max(ref, this.sizeProp(ds, 'reservation') - this.actualUsed(ds));
  }

  /**
   * Pool space a write into `ds` (or a new dataset under `parent`) may take: free space minus the slop
   * minus what other datasets' reservations still hold back. Its own reservations and those of its
   * ancestors (which it consumes by writing) do not count against it. (Nested reservations are counted
   * each, which errs on the side of refusing.)
   */
  private roomFor(ds: DatasetPhys | undefined, parent?: DatasetPhys): number {
    const mine = ds !== undefined ? this.ancestry(ds) : parent !== undefined ? this.ancestry(parent) : [];
    let held = 0;
    for (const d of this.mos.datasets) {
      if (d === ds) continue;
      held += this.unreserved(d, !mine.includes(d));
    }
    return this.allocators.reduce((n, a) => n + a.freeBytes, 0) - this.slop() - held;
  }

  /** zfs(8)'s available: pool room plus its own unused reservation, capped by quotas up the tree. */
  private availableTo(ds: DatasetPhys): number {
    let avail = this.roomFor(ds) + this.unreserved(ds, true);
    for (const a of this.ancestry(ds)) {
      const quota = this.sizeProp(a, 'quota');
      if (quota > 0) avail = Math.min(avail, quota - this.actualUsed(a));
    }
    const refquota = this.sizeProp(ds, 'refquota');
    if (refquota > 0) avail = Math.min(avail, refquota - ds.referenced);
    return Math.max(0, avail);
  }

  /** The quota a write of `more` bytes into `ds` would exceed, if any. */
  private quotaExceeded(ds: DatasetPhys, more: number): string | undefined {
    for (const a of this.ancestry(ds)) {
      const quota = this.sizeProp(a, 'quota');
      if (quota > 0 && this.actualUsed(a) + more > quota) return `quota of ${a.name} (${quota} bytes)`;
    }
    const refquota = this.sizeProp(ds, 'refquota');
    if (refquota > 0 && ds.referenced + more > refquota) return `refquota of ${ds.name} (${refquota} bytes)`;
    return undefined;
  }

  /** zfs get: one property (settable or a statistic) of a dataset or snapshot, with its source. */
  getProperty(name: string, prop: string): PropertyValue {
    const found = this.getProperties(name).find((p) => p.property === prop);
    if (found === undefined) throw new ZfsError('EINVAL', `bad property list: invalid property '${prop}'`);
    return found;
  }

  /** zfs get all: statistics first (source '-'), then the settable properties. */
  getProperties(name: string): PropertyValue[] {
    this.usable();
    const info = this.get(name);
    const stat = (property: string, value: number | string | undefined): PropertyValue[] =>
      value === undefined ? [] : [{ property, value: String(value), source: '-' }];
    const parsed = parseName(name);
    const ds = this.findDataset(parsed.dataset)!;
    const origin = this.originName(ds);
    const snapshot = ds.snapshots.find((x) => x.name === parsed.snapshot);
    const out = [
      ...stat('type', info.type),
      ...stat('creation', info.creation),
      ...stat('used', info.used),
      ...stat('available', parsed.snapshot === undefined ? info.available : undefined),
      ...stat('referenced', info.referenced),
      ...stat('compressratio', info.compressratio.toFixed(2) + 'x'),
      ...stat('refcompressratio', info.compressratio.toFixed(2) + 'x'),
      ...stat('logicalreferenced', info.logicalreferenced),
      ...stat('createtxg', info.createTxg),
      ...stat('usedbysnapshots', parsed.snapshot === undefined ? info.usedbysnapshots : undefined),
      ...stat('usedbydataset', parsed.snapshot === undefined ? this.usedByDataset(ds) : undefined),
      ...stat('usedbychildren', parsed.snapshot === undefined ? info.usedbychildren : undefined),
      ...stat('usedbyrefreservation', parsed.snapshot === undefined ? info.usedbyrefreservation : undefined),
      ...stat('volsize', ds.props?.volsize),
      ...stat('volblocksize', ds.props?.volblocksize),
      ...stat('origin', parsed.snapshot === undefined && origin !== undefined ? origin : undefined),
      ...stat('guid', snapshot !== undefined ? this.snapshotGuid(snapshot) : undefined),
    ];
    if (parsed.snapshot !== undefined) return out;
    const kind = ds.type;
    for (const prop of SETTABLE_PROPERTIES) {
      if (!appliesTo(prop, kind)) continue;
      out.push(this.prop(ds, prop));
    }
    return out;
  }

  /** zfs set: validates, checks reservations against free space and quotas against use, then syncs. */
  async setProperty(name: string, prop: string, value: string): Promise<void> {
    await this.lock.run(async () => {
      this.usable();
      const ds = this.datasetForProps(name, 'set');
      const normal = normaliseProperty(ds.type, prop, value, ds.name);
      const bytes = normal === 'none' ? 0 : Number(normal);
      if (prop === 'quota' && bytes > 0 && bytes < Math.max(this.actualUsed(ds), this.sizeProp(ds, 'reservation')))
        throw new ZfsError(
          'ENOSPC',
          `cannot set property for '${name}': size is less than current used or reserved space`,
        );
      if (prop === 'refquota' && bytes > 0 && bytes < ds.referenced)
        throw new ZfsError(
          'ENOSPC',
          `cannot set property for '${name}': size is less than current used or reserved space`,
        );
      if (prop === 'reservation' || prop === 'refreservation') {
        const before = this.unreserved(ds, true);
        const saved = ds.local[prop];
        ds.local[prop] = normal;
        const growth = this.unreserved(ds, true) - before;
        if (saved === undefined) delete ds.local[prop];
        else ds.local[prop] = saved;
        if (growth > this.roomFor(ds))
          throw new ZfsError('ENOSPC', `cannot set property for '${name}': size is greater than available space`);
      }
      await this.syncLocked([
        () => {
          ds.local[prop] = normal;
        },
      ]);
    });
  }

  /** zfs inherit: drops the local value (the dataset then inherits it or takes the default). */
  async inheritProperty(name: string, prop: string): Promise<void> {
    await this.lock.run(async () => {
      this.usable();
      const ds = this.datasetForProps(name, 'inherit');
      if (!isSettable(prop)) throw new ZfsError('EINVAL', `invalid property '${prop}'`);
      if (ds.local[prop] === undefined) return;
      await this.syncLocked([
        () => {
          delete ds.local[prop];
        },
      ]);
    });
  }

  private datasetForProps(name: string, verb: string): DatasetPhys {
    const parsed = parseName(name);
    this.ownPool(parsed.pool, name);
    if (parsed.snapshot !== undefined)
      throw new ZfsError('EINVAL', `cannot ${verb} property for '${name}': snapshot properties cannot be modified`);
    const ds = this.findDataset(parsed.dataset);
    if (ds === undefined) throw new ZfsError('ENOENT', `cannot open '${name}': dataset does not exist`);
    return ds;
  }

  /** A clone's origin snapshot as "pool/ds@snap" (undefined for datasets that are not clones). */
  private originName(ds: DatasetPhys): string | undefined {
    if (ds.origin === undefined) return undefined;
    const o = this.mos.datasets.find((d) => d.id === ds.origin!.dataset);
    const snap = o?.snapshots.find((x) => x.id === ds.origin!.snapshot);
    return o && snap ? `${o.name}@${snap.name}` : undefined;
  }

  private async headOf(ds: DatasetPhys): Promise<VolumeHead> {
    let head = this.heads.get(ds.id);
    if (head === undefined) {
      const objset = ds.objset!;
      const os = decodeObjset(await this.reader.read(objset, `${ds.name} objset`), `${ds.name} objset`);
      head = new VolumeHead(os.dnodes[0]);
      this.heads.set(ds.id, head);
    }
    return head;
  }

  private async snapshotDnode(ds: DatasetPhys, snap: SnapshotPhys): Promise<Dnode> {
    let dnode = this.snapshotDnodes.get(snap.id);
    if (dnode === undefined) {
      const where = `${ds.name}@${snap.name} objset`;
      dnode = decodeObjset(await this.reader.read(snap.objset, where), where).dnodes[0];
      this.snapshotDnodes.set(snap.id, dnode);
    }
    return dnode;
  }

  /** A volume block of the tree (zeros for a hole). The result is shared: copy before changing it. */
  private async treeBlock(what: string, dnode: Dnode, blkid: number): Promise<Buffer> {
    const bp = await lookupBlock(this.reader, dnode, blkid, what);
    if (isHole(bp)) return Buffer.alloc(dnode.blockSize);
    return this.reader.read(bp, `${what} blkid ${blkid}`);
  }

  private async headBlock(ds: DatasetPhys, head: VolumeHead, blkid: number): Promise<Buffer> {
    const dirty = head.dirty.get(blkid);
    if (dirty !== undefined) return dirty ?? Buffer.alloc(head.dnode.blockSize);
    return this.treeBlock(ds.name, head.dnode, blkid);
  }

  /** Builds the new contents of every block a byte range touches (read-modify-write at the ends). */
  private async modifyBlocks(
    ds: DatasetPhys,
    head: VolumeHead,
    offset: number,
    length: number,
    fill: (block: Buffer, inBlock: number, pos: number, n: number) => void,
    wholeBlock: (pos: number) => Buffer | null,
  ): Promise<Map<number, Buffer | null>> {
    const bs = head.dnode.blockSize;
    const updates = new Map<number, Buffer | null>();
    for (let pos = offset; pos < offset + length;) {
      const blkid = Math.floor(pos / bs);
      const inBlock = pos - blkid * bs;
      const n = Math.min(bs - inBlock, offset + length - pos);
      if (n === bs) {
        updates.set(blkid, wholeBlock(pos));
      } else {
        const block = Buffer.from(await this.headBlock(ds, head, blkid));
        fill(block, inBlock, pos, n);
        updates.set(blkid, block);
      }
      pos += n;
    }
    return updates;
  }

  private async writeLocked(dataset: number, offset: number, data: Buffer, log: boolean): Promise<void> {
    this.usable();
    const ds = this.volumeById(dataset);
    checkRange(ds.name, ds.props!.volsize, offset, data.length);
    if (data.length === 0) return;
    const head = await this.headOf(ds);
    const updates = await this.modifyBlocks(
      ds,
      head,
      offset,
      data.length,
      (block, inBlock, pos, n) => data.copy(block, inBlock, pos - offset, pos - offset + n),
      (pos) => Buffer.from(data.subarray(pos - offset, pos - offset + head.dnode.blockSize)),
    );
    if (!this.replaying) {
      const blkids = [...updates.keys()];
      await this.reserve(ds, head, () => head.estimate(blkids));
    }
    this.applyDirty(head, updates);
    if (log) this.zil.add({ type: 'write', dataset, offset, data });
    await this.syncIfDirtyFull();
  }

  private async discardLocked(dataset: number, offset: number, length: number, log: boolean): Promise<void> {
    this.usable();
    const ds = this.volumeById(dataset);
    checkRange(ds.name, ds.props!.volsize, offset, length);
    if (length === 0) return;
    const head = await this.headOf(ds);
    const updates = await this.modifyBlocks(
      ds,
      head,
      offset,
      length,
      (block, inBlock, _pos, n) => block.fill(0, inBlock, inBlock + n),
      () => null,
    );
    // Discards add no data; the indirect blocks they rewrite may use the slop space.
    this.applyDirty(head, updates);
    if (log) this.zil.add({ type: 'discard', dataset, offset, length });
    await this.syncIfDirtyFull();
  }

  /**
   * Applies one logged write or discard. Replay must not sync a txg before the last record is applied: that
   * txg would restart the log, and a crash then would lose the records not yet replayed. So replay skips the
   * space check and the dirty limit (the log area bounds what it holds); should the pool truly be out of
   * space, the import's sync fails and nothing is lost.
   */
  private async replayRecord(r: LogRecord): Promise<void> {
    const ds = this.mos.datasets.find((d) => d.id === r.dataset);
    if (ds === undefined || ds.props === undefined)
      throw new ZfsError('EIO', `intent log names volume ${r.dataset}, which the pool does not have`);
    if (r.type === 'write') await this.writeLocked(r.dataset, r.offset, r.data, false);
    else await this.discardLocked(r.dataset, r.offset, r.length, false);
  }

  private applyDirty(head: VolumeHead, updates: ReadonlyMap<number, Buffer | null>): void {
    for (const [blkid, data] of updates) head.set(blkid, data);
  }

  private dirtyBytes(): number {
    let n = 0;
    for (const head of this.heads.values()) n += head.dirtyBytes;
    for (const head of this.fsHeads.values()) n += head.dirtyBytes;
    return n;
  }

  private anyDirty(): boolean {
    return this.dirtyBytes() > 0 || [...this.fsHeads.values()].some((h) => h.isDirty);
  }

  private async syncIfDirtyFull(): Promise<void> {
    if (!this.replaying && this.dirtyBytes() > this.dirtyMax) await this.syncLocked();
  }

  /** An upper bound of what syncing the dirty data would allocate, with `extra` on top. */
  private syncEstimate(extra: { head: VolumeHead | FsHead; bytes: () => number } | undefined): number {
    let bytes = roundUp(this.mosSize, SECTOR) + SECTOR + 2 * CHAIN_BLOCK_MAX * (this.allocators.length + 1);
    for (const h of this.heads.values()) bytes += h === extra?.head ? extra.bytes() : h.estimate();
    for (const h of this.fsHeads.values()) bytes += h === extra?.head ? extra.bytes() : h.estimate();
    if (extra !== undefined && ![...this.heads.values(), ...this.fsHeads.values()].includes(extra.head))
      bytes += extra.bytes();
    return bytes;
  }

  /**
   * Refuses a write the pool could not sync without eating into the slop space or into other datasets'
   * reservations (ENOSPC), or that would take a dataset past a quota (ENOSPC with errno EDQUOT). `own` is
   * what syncing the dataset's dirty state would allocate with the write on top.
   */
  private async reserve(ds: DatasetPhys, head: VolumeHead | FsHead, own: () => number): Promise<void> {
    const check = (): ZfsError | undefined => {
      const quota = this.quotaExceeded(ds, own());
      if (quota !== undefined)
        return new ZfsError('ENOSPC', `cannot write to '${ds.name}': disk quota exceeded (${quota})`, 'EDQUOT');
      if (this.syncEstimate({ head, bytes: own }) > this.roomFor(ds))
        return new ZfsError('ENOSPC', `cannot write to '${ds.name}': out of space`);
      return undefined;
    };
    let refused = check();
    if (refused === undefined) return;
    if (this.anyDirty()) {
      // What is dirty may overwrite blocks in place of others: sync, and judge on what the txg used.
      await this.syncLocked();
      refused = check();
      if (refused === undefined) return;
    }
    throw refused;
  }

  /** One txg: see the commit order at the top of this file. */
  private async syncLocked(tasks: readonly SyncTask[] = [], force = false): Promise<void> {
    this.usable();
    // Like ZFS, a txg with nothing to write is not written (import and create force one).
    if (!force && tasks.length === 0 && !this.anyDirty()) return;
    const txg = this.syncedTxg + 1;
    const tx = new TxSync(txg, this.allocators, this.reader.cache, this.rotor);
    let mosBp: BlockPointer;
    try {
      const unrecordedLive: VdevExtent[] = isHole(this.mosBp)
        ? []
        : [{ vdev: this.mosBp.vdev, offset: this.mosBp.offset, size: this.mosBp.asize }];
      for (let v = 0; v < this.mos.spaceMaps.length; v++)
        unrecordedLive.push(...(await spaceMapBlocks(this.reader, this.mos.spaceMaps[v], v)));
      for (const ds of this.mos.datasets) {
        const head = this.heads.get(ds.id);
        if (head !== undefined && head.dirty.size > 0) await this.syncVolume(tx, ds, head);
        const fsHead = this.fsHeads.get(ds.id);
        if (fsHead?.isDirty) await this.syncFilesystem(tx, ds, fsHead);
      }
      for (const task of tasks) await task(tx);
      for (const a of this.allocators) {
        this.mos.spaceMaps[a.vdev] = await syncSpaceMap(
          tx,
          this.reader,
          a,
          this.mos.spaceMaps[a.vdev],
          unrecordedLive,
          this.condenseMargin,
        );
      }
      tx.free(this.mosBp, false);
      const mos = encodeMos(this.mos);
      this.mosSize = mos.length;
      mosBp = tx.writeBlock('mos', 0, mos, 'fletcher4', 1, 'MOS', false);
      await tx.issueWrites(this.vdevs);
      await Promise.all(this.vdevs.map((v) => v.sync()));
      const ub = encodeUberblock({
        txg,
        guidSum: guidSum([this.config.guid, ...this.config.vdevs.map((v) => v.guid)]),
        timestamp: Date.now(),
        poolGuid: this.config.guid,
        rootbp: mosBp,
      });
      await Promise.all(
        this.vdevs.flatMap((v) => labelOffsets(v.size).map((at) => v.write(uberblockSlotOffset(at, txg), ub))),
      );
      await Promise.all(this.vdevs.map((v) => v.sync()));
    } catch (e) {
      throw this.suspend(e, `sync of txg ${txg}`);
    }
    this.syncedTxg = txg;
    this.mosBp = mosBp;
    tx.commitFrees();
    for (const head of this.heads.values()) head.clear();
    this.zil.restart(txg);
  }

  /**
   * The context for rewriting a dataset's tree in this txg: new blocks take the dataset's checksum and
   * compression; replaced blocks go through the birth-time rule. `finish` writes the deadlist entries.
   */
  private rewriteContext(tx: TxSync, ds: DatasetPhys): { ctx: RewriteContext; finish: () => Promise<void> } {
    const snapTxgs = this.deadlistTxgs(ds);
    const latest = snapTxgs[snapTxgs.length - 1] ?? 0;
    const dead: { key: number; bp: BlockPointer }[] = [];
    const ctx: RewriteContext = {
      tx,
      reader: this.reader,
      checksum: this.checksumOf(ds),
      compression: this.compressionOf(ds),
      what: ds.name,
      kill: (bp) => {
        if (isHole(bp)) return;
        ds.referenced -= bp.asize;
        ds.logicalReferenced -= bp.lsize;
        // The birth-time rule: a block born after the latest snapshot is in no snapshot.
        if (bp.birth > latest) tx.free(bp);
        else dead.push({ key: bucketKey(snapTxgs, bp.birth), bp });
      },
      born: (bp) => {
        ds.referenced += bp.asize;
        ds.logicalReferenced += bp.lsize;
      },
    };
    const finish = async (): Promise<void> => {
      if (dead.length > 0)
        ds.deadlist = await deadlistAppend(tx, this.reader, ds.deadlist, dead, `${ds.name} deadlist`);
    };
    return { ctx, finish };
  }

  /**
   * The txgs that divide a dataset's deadlists: its snapshots', preceded by its origin's for a clone (the
   * origin snapshot is a clone's previous snapshot: blocks born up to it belong to the origin).
   */
  private deadlistTxgs(ds: DatasetPhys): number[] {
    const own = ds.snapshots.map((s) => s.txg);
    return ds.origin === undefined ? own : [ds.origin.txg, ...own];
  }

  private writeObjset(tx: TxSync, ds: DatasetPhys, ctx: RewriteContext, os: Objset, fill: number): void {
    const objset = tx.writeBlock('objset', 0, encodeObjset(os), ctx.checksum, fill, `${ds.name} objset`);
    ctx.born(objset);
    if (ds.objset !== undefined) ctx.kill(ds.objset);
    ds.objset = objset;
  }

  private async syncVolume(tx: TxSync, ds: DatasetPhys, head: VolumeHead): Promise<void> {
    const { ctx, finish } = this.rewriteContext(tx, ds);
    const root = await rewriteTree(ctx, head.dnode, head.dirty);
    if (root !== head.dnode.root) {
      const dnode: Dnode = { ...head.dnode, root };
      this.writeObjset(tx, ds, ctx, { type: 'volume', dnodes: [dnode] }, root.fill);
      head.dnode = dnode;
    }
    await finish();
  }

  /**
   * A filesystem's txg: each changed object's tree is rewritten (a freed one's blocks all killed), the
   * changed dnodes patched into their meta-dnode blocks, the meta-dnode's tree rewritten, and a new objset
   * block written.
   */
  private async syncFilesystem(tx: TxSync, ds: DatasetPhys, head: FsHead): Promise<void> {
    const { ctx, finish } = this.rewriteContext(tx, ds);
    const metaBlocks = new Map<number, Buffer | null>();
    const synced = new Map<number, Dnode>();
    const metaBlock = async (blkid: number): Promise<Buffer> => {
      let block = metaBlocks.get(blkid);
      if (block === undefined || block === null) {
        const bp = blkid > head.meta.maxBlkid ? HOLE : await lookupBlock(this.reader, head.meta, blkid, ds.name);
        block = isHole(bp)
          ? Buffer.alloc(META_BLOCK_SIZE)
          : Buffer.from(await this.reader.read(bp, `${ds.name} meta-dnode blkid ${blkid}`));
        metaBlocks.set(blkid, block);
      }
      return block;
    };
    for (const obj of [...head.dirty].sort((a, b) => a - b)) {
      const st = head.state(obj)!;
      const block = await metaBlock(Math.floor(obj / SLOTS_PER_META_BLOCK));
      const at = (obj % SLOTS_PER_META_BLOCK) * META_SLOT;
      if (st.replaced !== undefined) await killTree({ ...ctx, what: `${ds.name} object ${obj}` }, st.replaced);
      if (st.freed) {
        await killTree({ ...ctx, what: `${ds.name} object ${obj}` }, st.dnode);
        block.fill(0, at, at + META_SLOT);
        continue;
      }
      const dn = await rewriteObject({ ...ctx, what: `${ds.name} object ${obj}` }, st.dnode, st.blocks);
      encodeDnode(dn, block, at);
      encodeZnode(dn, block, at);
      synced.set(obj, dn);
    }
    const meta = await rewriteObject({ ...ctx, what: `${ds.name} meta-dnode` }, head.meta, metaBlocks);
    this.writeObjset(tx, ds, ctx, { type: 'filesystem', dnodes: [meta] }, isHole(meta.root) ? 0 : meta.root.fill);
    head.synced(meta, synced);
    await finish();
  }
}

function sameObjset(a: BlockPointer | undefined, b: BlockPointer): boolean {
  return a !== undefined && sameBlock(a, b);
}

function checkRange(name: string, volsize: number, offset: number, length: number): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > volsize
  ) {
    throw new ZfsError('EINVAL', `${name}: range [${offset}, +${length}) is outside the volume's ${volsize} bytes`);
  }
}

/** A compression ratio as zfs(8) prints it: two decimals, 1.00 for nothing. */
function ratio(logical: number, physical: number): number {
  return physical === 0 ? 1 : Math.round((logical / physical) * 100) / 100;
}

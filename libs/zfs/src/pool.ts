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
import { HOLE, isHole, type BlockPointer } from './blkptr.js';
import { BlockReader } from './block-reader.js';
import { parseChecksumProperty } from './checksum/index.js';
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
import { decodeMos, encodeMos, type DatasetPhys, type MosState, type SnapshotPhys, type VolumeProps } from './mos.js';
import { parseName, validPoolName } from './names.js';
import { lookupBlock, rewriteTree, walkTree, type RewriteContext } from './object-tree.js';
import { decodeObjset, encodeObjset, newVolumeDnode, type Dnode } from './objset.js';
import { Mutex } from './mutex.js';
import { findPool } from './pool-import.js';
import { VolumeHead } from './volume-head.js';
import { loadSpaceMap, spaceMapBlocks, syncSpaceMap } from './spacemap.js';
import { TxSync, type AllocationRotor, type VdevExtent } from './txg.js';
import { roundUp, isPowerOfTwo } from './u64.js';
import { encodeUberblock, guidSum } from './uberblock.js';
import { FileVdev } from './vdev.js';
import { blockMap, verifyPool, type BlockMapEntry, type PoolView, type VerifyReport } from './verify.js';
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
  /** File vdevs, created sparse with these sizes; a path that exists is refused. */
  readonly vdevs: readonly { readonly path: string; readonly size: number }[];
  /** Bytes of vdev 0 set aside for the intent log. Default 1/32 of it, within [256 KiB, 64 MiB]. */
  readonly logSize?: number;
}

export interface ImportPoolOptions extends PoolTuning {
  /** The vdev files to look for labels on. */
  readonly paths: readonly string[];
  /** Import only the pool of this name. */
  readonly name?: string;
}

export interface CreateVolumeOptions {
  readonly volsize: number;
  /** A power of two from 512 to 128K. Default 16K. */
  readonly volblocksize?: number;
  /** `checksum=` property: on (fletcher4), fletcher4 or sha256. */
  readonly checksum?: string;
}

export interface VdevStatus {
  readonly path: string;
  readonly state: 'ONLINE';
  readonly readErrors: number;
  readonly writeErrors: number;
  readonly checksumErrors: number;
}

export interface PoolStatus {
  readonly name: string;
  readonly guid: string;
  readonly txg: number;
  readonly health: 'ONLINE' | 'SUSPENDED';
  /** Allocatable bytes. */
  readonly size: number;
  readonly allocated: number;
  readonly free: number;
  readonly vdevs: readonly VdevStatus[];
}

export interface DatasetInfo {
  readonly name: string;
  readonly type: 'filesystem' | 'volume' | 'snapshot';
  /** Space this dataset and its snapshots consume (what destroying all of it would free). */
  readonly used: number;
  /** Space its tree reaches, shared or not. */
  readonly referenced: number;
  readonly usedbysnapshots: number;
  readonly available: number;
  readonly createTxg: number;
  readonly volsize?: number;
  readonly volblocksize?: number;
  readonly checksum?: string;
}

type SyncTask = (tx: TxSync) => Promise<void> | void;

const DEFAULT_CACHE = 32 * 1024 * 1024;
const DEFAULT_DIRTY_MAX = 64 * 1024 * 1024;

export class Pool implements VolumeHost {
  private readonly lock = new Mutex();
  private readonly zil: IntentLog;
  private readonly heads = new Map<number, VolumeHead>();
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

  private constructor(
    readonly config: PoolConfig,
    private readonly vdevs: readonly FileVdev[],
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
      if (!Number.isSafeInteger(v.size) || v.size < MIN_VDEV_SIZE) {
        throw new ZfsError('EINVAL', `vdev ${v.path}: size ${v.size} is below the minimum of ${MIN_VDEV_SIZE} bytes`);
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
          `vdev ${v.path}: ${sizes[id]} bytes leave less than 1 MiB to allocate after labels and log`,
        );
      }
      return {
        type: 'file',
        id,
        guid: randomBytes(8).toString('hex'),
        path: v.path,
        size: sizes[id],
        allocStart,
        allocEnd,
      };
    });
    const config: PoolConfig = {
      version: FORMAT_VERSION,
      name: options.name,
      guid: randomBytes(8).toString('hex'),
      txg: 1,
      vdevs: vdevConfigs,
      log: { vdev: 0, offset: front, size: logSize },
    };
    const vdevs: FileVdev[] = [];
    for (const vc of vdevConfigs) {
      const vdev = await FileVdev.create(io, vc.id, vc.path, vc.size);
      vdevs.push(vdev);
      const label = encodeLabelConfig(config, vc.guid);
      for (const at of labelOffsets(vc.size)) await vdev.write(at + LABEL_CONFIG_OFFSET, label);
      await vdev.sync();
      await io.fsyncDir(dirname(vc.path)).catch((e: unknown) => {
        throw asZfsError(e, `cannot make vdev ${vc.path} durable`);
      });
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
          objset: undefined,
          referenced: 0,
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
      const records = await IntentLog.replay(vdevs[config.log.vdev], config.log, config.guid, ub.txg);
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
      this.usable();
      const parsed = parseName(name);
      if (parsed.snapshot !== undefined)
        throw new ZfsError('EINVAL', `cannot create '${name}': a volume name has no '@'`);
      this.ownPool(parsed.pool, name);
      if (this.findDataset(parsed.dataset) !== undefined)
        throw new ZfsError('EEXIST', `cannot create '${name}': dataset already exists`);
      const parent = parsed.parent === undefined ? undefined : this.findDataset(parsed.parent);
      if (parent === undefined) throw new ZfsError('ENOENT', `cannot create '${name}': parent does not exist`);
      if (parent.type !== 'filesystem') throw new ZfsError('EINVAL', `cannot create '${name}': parent is a volume`);
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
      const props: VolumeProps = { volsize, volblocksize, checksum: parseChecksumProperty(options.checksum ?? 'on') };
      const id = this.mos.nextId++;
      await this.syncLocked([
        (tx) => {
          const dnode = newVolumeDnode(volsize, volblocksize);
          const objset = tx.writeBlock(
            'objset',
            0,
            encodeObjset({ type: 'volume', dnodes: [dnode] }),
            props.checksum,
            0,
            `${name} objset`,
          );
          this.mos.datasets.push({
            id,
            name: parsed.dataset,
            type: 'volume',
            parent: parent.id,
            createTxg: tx.txg,
            creation: Date.now(),
            props,
            objset,
            referenced: objset.asize,
            deadlist: EMPTY_DEADLIST,
            snapshots: [],
          });
          this.heads.set(id, new VolumeHead(dnode));
        },
      ]);
      return new Volume(this, parsed.dataset, id, undefined, volsize, volblocksize);
    });
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
      const id = this.mos.nextId++;
      // Tasks must not fail (a failure in syncing context suspends the pool): everything is checked above.
      await this.syncLocked([
        (tx) => {
          ds.snapshots.push({
            id,
            name: snapName,
            txg: tx.txg,
            creation: Date.now(),
            objset: ds.objset!,
            referenced: ds.referenced,
            deadlist: ds.deadlist,
          });
          ds.deadlist = EMPTY_DEADLIST;
        },
      ]);
    });
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
      const head = await this.headOf(ds);
      const dnode = await this.snapshotDnode(ds, snap);
      // Everything the head reaches that was born after the snapshot is the head's alone. Found here,
      // before syncing context, so that a read error fails the rollback instead of suspending the pool.
      const born: BlockPointer[] = [];
      if (ds.objset !== undefined && ds.objset.birth > snap.txg) {
        born.push(ds.objset);
        const os = decodeObjset(await this.reader.read(ds.objset, `${ds.name} objset`), `${ds.name} objset`);
        for (const dn of os.dnodes) {
          await walkTree(this.reader, dn.root, dn.nlevels - 1, 0, ds.name, (bp) => {
            if (bp.birth <= snap.txg) return false;
            born.push(bp);
            return true;
          });
        }
      }
      head.clear();
      this.zil.dropDataset(ds.id);
      await this.syncLocked([
        async (tx) => {
          for (const bp of born) tx.free(bp);
          await deadlistDiscard(tx, this.reader, ds.deadlist, `${ds.name} deadlist`);
          ds.deadlist = EMPTY_DEADLIST;
          ds.objset = snap.objset;
          ds.referenced = snap.referenced;
          head.dnode = dnode;
        },
      ]);
    });
  }

  /** Destroys a snapshot, freeing the blocks no other snapshot and not the head reference. */
  async destroySnapshot(name: string): Promise<void> {
    await this.lock.run(async () => {
      this.usable();
      const { ds, snap } = this.existingSnapshot(name, 'destroy');
      await this.syncLocked([
        async (tx) => {
          const i = ds.snapshots.indexOf(snap);
          const prevTxg = i > 0 ? ds.snapshots[i - 1].txg : 0;
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

  /** Datasets and snapshots with their space accounting (as of the last synced txg, like zfs list). */
  list(): DatasetInfo[] {
    this.usable();
    const out: DatasetInfo[] = [];
    const available = this.available();
    const usedOf = (ds: DatasetPhys): number =>
      ds.referenced +
      this.usedBySnapshots(ds) +
      this.mos.datasets.filter((c) => c.parent === ds.id).reduce((n, c) => n + usedOf(c), 0);
    for (const ds of this.mos.datasets) {
      out.push({
        name: ds.name,
        type: ds.type,
        used: usedOf(ds),
        referenced: ds.referenced,
        usedbysnapshots: this.usedBySnapshots(ds),
        available,
        createTxg: ds.createTxg,
        ...(ds.props && {
          volsize: ds.props.volsize,
          volblocksize: ds.props.volblocksize,
          checksum: ds.props.checksum,
        }),
      });
      ds.snapshots.forEach((s, i) => {
        const next = ds.snapshots[i + 1] ?? ds;
        const prevTxg = i > 0 ? ds.snapshots[i - 1].txg : 0;
        out.push({
          name: `${ds.name}@${s.name}`,
          type: 'snapshot',
          used: next.deadlist.buckets.find((b) => b.minTxg === prevTxg)?.bytes ?? 0,
          referenced: s.referenced,
          usedbysnapshots: 0,
          available: 0,
          createTxg: s.txg,
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
    return {
      name: this.name,
      guid: this.guid,
      txg: this.syncedTxg,
      health: this.failure ? 'SUSPENDED' : 'ONLINE',
      size,
      allocated,
      free: size - allocated,
      vdevs: this.vdevs.map((v) => ({ path: v.path, state: 'ONLINE', ...v.stats })),
    };
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
    if (ds.type !== 'volume')
      throw new ZfsError('EOPNOTSUPP', `cannot snapshot '${parsed.dataset}': only volumes have data in this version`);
    return { ds, snapName: parsed.snapshot };
  }

  private existingSnapshot(name: string, verb: string): { ds: DatasetPhys; snap: SnapshotPhys } {
    const { ds, snapName } = this.snapshotTarget(name);
    const snap = ds.snapshots.find((s) => s.name === snapName);
    if (snap === undefined) throw new ZfsError('ENOENT', `cannot ${verb} '${name}': dataset does not exist`);
    return { ds, snap };
  }

  private usedBySnapshots(ds: DatasetPhys): number {
    return deadlistBytes(ds.deadlist) + ds.snapshots.reduce((n, s) => n + deadlistBytes(s.deadlist), 0);
  }

  /** ZFS holds back slop space (1/32 of the pool) so that destroys and frees still work when it is full. */
  private slop(): number {
    return Math.floor(this.allocators.reduce((n, a) => n + a.totalBytes, 0) / 32);
  }

  private available(): number {
    return Math.max(0, this.allocators.reduce((n, a) => n + a.freeBytes, 0) - this.slop());
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
    if (!this.replaying) await this.reserve(ds, head, [...updates.keys()]);
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
    return n;
  }

  private async syncIfDirtyFull(): Promise<void> {
    if (!this.replaying && this.dirtyBytes() > this.dirtyMax) await this.syncLocked();
  }

  /** An upper bound of what syncing the dirty data would allocate, with `blkids` of `head` written on top. */
  private syncEstimate(head: VolumeHead, blkids: readonly number[]): number {
    let bytes = roundUp(this.mosSize, SECTOR) + SECTOR + 2 * CHAIN_BLOCK_MAX * (this.allocators.length + 1);
    for (const h of this.heads.values()) bytes += h === head ? h.estimate(blkids) : h.estimate();
    return bytes;
  }

  /** Refuses a write the pool could not sync without eating into the slop space. */
  private async reserve(ds: DatasetPhys, head: VolumeHead, blkids: readonly number[]): Promise<void> {
    const room = (): number => this.allocators.reduce((n, a) => n + a.freeBytes, 0) - this.slop();
    if (this.syncEstimate(head, blkids) <= room()) return;
    if (this.dirtyBytes() > 0) {
      await this.syncLocked();
      if (this.syncEstimate(head, blkids) <= room()) return;
    }
    throw new ZfsError('ENOSPC', `cannot write to '${ds.name}': out of space`);
  }

  /** One txg: see the commit order at the top of this file. */
  private async syncLocked(tasks: readonly SyncTask[] = [], force = false): Promise<void> {
    this.usable();
    // Like ZFS, a txg with nothing to write is not written (import and create force one).
    if (!force && tasks.length === 0 && this.dirtyBytes() === 0) return;
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

  private async syncVolume(tx: TxSync, ds: DatasetPhys, head: VolumeHead): Promise<void> {
    const props = ds.props!;
    const snapTxgs = ds.snapshots.map((s) => s.txg);
    const latest = snapTxgs[snapTxgs.length - 1] ?? 0;
    const dead: { key: number; bp: BlockPointer }[] = [];
    const ctx: RewriteContext = {
      tx,
      reader: this.reader,
      checksum: props.checksum,
      what: ds.name,
      kill: (bp) => {
        if (isHole(bp)) return;
        ds.referenced -= bp.asize;
        // The birth-time rule: a block born after the latest snapshot is in no snapshot.
        if (bp.birth > latest) tx.free(bp);
        else dead.push({ key: bucketKey(snapTxgs, bp.birth), bp });
      },
      born: (bp) => {
        ds.referenced += bp.asize;
      },
    };
    const root = await rewriteTree(ctx, head.dnode, head.dirty);
    if (root !== head.dnode.root) {
      const dnode: Dnode = { ...head.dnode, root };
      const objset = tx.writeBlock(
        'objset',
        0,
        encodeObjset({ type: 'volume', dnodes: [dnode] }),
        props.checksum,
        root.fill,
        `${ds.name} objset`,
      );
      ctx.born(objset);
      ctx.kill(ds.objset!);
      ds.objset = objset;
      head.dnode = dnode;
    }
    if (dead.length > 0) ds.deadlist = await deadlistAppend(tx, this.reader, ds.deadlist, dead, `${ds.name} deadlist`);
  }
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

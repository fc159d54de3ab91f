// The pools this domain has imported, OpenZFS's spa namespace plus its zpool.cache: a JSON list of the
// imported pools and their vdev files under DOMINION_ZFS_DIR, rewritten durably on every create, import and
// export, and imported again on start. Vdev files live under that directory only: the domain's storage is
// its own, and a caller naming a path elsewhere is refused.
import { readdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { mkdirDurably, writeFileDurably, type FileIO } from '@dominion/fsio';
import { Pool, ZfsError, type PoolStatus, type ScrubStatus, type VdevSpec, type Volume } from '@dominion/zfs';
import type { PoolSpec } from './config.js';

const CACHE_FILE = 'zpool.cache.json';

interface CacheEntry {
  name: string;
  files: string[];
}

export interface ScrubProgressInfo {
  examinedBytes: number;
  totalBytes: number;
  startedAt: number;
}

export class Pools {
  private readonly pools = new Map<string, { pool: Pool; files: string[] }>();
  /** Volumes held open by block-service streams: busy for destroy, rollback and export. */
  private readonly opened = new Map<string, number>();
  private readonly scrubs = new Map<string, ScrubProgressInfo>();

  constructor(
    private readonly io: FileIO,
    readonly dir: string,
  ) {}

  /** Imports the cached pools, then creates (or imports, if their files exist) the configured ones. */
  async start(specs: readonly PoolSpec[]): Promise<void> {
    await mkdirDurably(this.io, this.dir);
    for (const e of await this.readCache()) await this.importFiles(e.name, e.files, false);
    for (const s of specs) {
      if (this.pools.has(s.name)) continue;
      const files = s.files.map((f) => this.inDir(f));
      const existing = await Promise.all(files.map((f) => this.io.exists(f)));
      if (existing.some(Boolean)) await this.importFiles(s.name, s.files, true);
      else
        await this.create(
          s.name,
          s.type === 'mirror'
            ? [{ type: 'mirror', paths: s.files, size: s.size }]
            : [{ path: s.files[0], size: s.size }],
        );
    }
  }

  async create(name: string, vdevs: readonly VdevSpec[]): Promise<Pool> {
    if (this.pools.has(name)) throw new ZfsError('EEXIST', `cannot create '${name}': pool already exists`);
    const abs = vdevs.map((v) =>
      'type' in v ? { ...v, paths: v.paths.map((p) => this.inDir(p)) } : { ...v, path: this.inDir(v.path) },
    );
    const pool = await Pool.create(this.io, { name, vdevs: abs });
    const files = abs.flatMap((v) => ('type' in v ? v.paths : [v.path])).map((p) => relative(this.dir, p));
    this.pools.set(name, { pool, files });
    await this.writeCache();
    return pool;
  }

  /** `zpool import name`: the pool's files among those under the directory that no imported pool holds. */
  async import(name: string): Promise<Pool> {
    if (this.pools.has(name))
      throw new ZfsError('EEXIST', `cannot import '${name}': a pool with that name already exists`);
    const held = new Set([...this.pools.values()].flatMap((p) => p.files));
    const candidates = (await readdir(this.dir)).filter((f) => f !== CACHE_FILE && !held.has(f));
    return this.importFiles(name, candidates, true);
  }

  async export(name: string): Promise<void> {
    const p = this.entry(name);
    for (const vol of this.opened.keys())
      if (poolOf(vol) === name) throw new ZfsError('EBUSY', `cannot export '${name}': pool is busy`);
    if (this.scrubs.has(name)) throw new ZfsError('EBUSY', `cannot export '${name}': pool is busy (scrub in progress)`);
    await p.pool.export();
    this.pools.delete(name);
    await this.writeCache();
  }

  names(): string[] {
    return [...this.pools.keys()].sort();
  }

  get(name: string): Pool {
    return this.entry(name).pool;
  }

  /** The pool that holds a dataset or snapshot ("tank/a/b@s" → tank). */
  poolOfDataset(dataset: string): Pool {
    const p = this.pools.get(poolOf(dataset));
    if (!p) throw new ZfsError('ENOENT', `cannot open '${dataset}': dataset does not exist`);
    return p.pool;
  }

  status(name: string): PoolStatus & { scanProgress?: ScrubProgressInfo } {
    const s = this.get(name).status();
    const live = this.scrubs.get(name);
    return live ? { ...s, scanProgress: live } : s;
  }

  /** Starts a scrub (as `zpool scrub` does) and returns; its progress shows in status(). */
  startScrub(name: string, onDone: (r: ScrubStatus | Error) => void): void {
    const pool = this.get(name);
    if (this.scrubs.has(name)) throw new ZfsError('EBUSY', `cannot scrub ${name}: currently scrubbing`);
    const info: ScrubProgressInfo = { examinedBytes: 0, totalBytes: 0, startedAt: Date.now() };
    this.scrubs.set(name, info);
    pool
      .scrub((examined, total) => {
        info.examinedBytes = examined;
        info.totalBytes = total;
      })
      .then(
        (r) => onDone(r),
        (e: unknown) => onDone(e instanceof Error ? e : new Error(String(e))),
      )
      .finally(() => this.scrubs.delete(name));
  }

  /** A volume for a block-service stream, counted busy until released. */
  openVolume(name: string): { volume: Volume; release(): void } {
    const volume = this.poolOfDataset(name).openVolume(name);
    const ds = name.split('@')[0];
    this.opened.set(ds, (this.opened.get(ds) ?? 0) + 1);
    let released = false;
    return {
      volume,
      release: () => {
        if (released) return;
        released = true;
        const n = (this.opened.get(ds) ?? 1) - 1;
        if (n === 0) this.opened.delete(ds);
        else this.opened.set(ds, n);
      },
    };
  }

  /** EBUSY for a dataset a VBD holds open (destroy and rollback). */
  checkNotBusy(dataset: string, verb: string): void {
    const ds = dataset.split('@')[0];
    if (this.opened.has(ds)) throw new ZfsError('EBUSY', `cannot ${verb} '${dataset}': dataset is busy`);
  }

  /** One txg sync of every pool (the txg timer). */
  async syncAll(): Promise<void> {
    for (const { pool } of this.pools.values()) await pool.sync().catch(() => undefined);
  }

  /** Syncs and closes every pool, keeping them in the cache (a restart imports them again). */
  async close(): Promise<void> {
    for (const { pool } of this.pools.values()) await pool.export().catch(() => pool.close());
    this.pools.clear();
  }

  private async importFiles(name: string, files: string[], cache: boolean): Promise<Pool> {
    const paths = files.map((f) => this.inDir(f));
    const pool = await Pool.import(this.io, { paths, name });
    const mine = pool.status().vdevs.flatMap((v) => (v.children ? v.children.map((c) => c.path) : [v.path]));
    const held = paths.filter((p) => mine.includes(p)).map((p) => relative(this.dir, p));
    this.pools.set(name, { pool, files: held.length > 0 ? held : files });
    if (cache) await this.writeCache();
    return pool;
  }

  private entry(name: string): { pool: Pool; files: string[] } {
    const p = this.pools.get(name);
    if (!p) throw new ZfsError('ENOENT', `cannot open '${name}': no such pool`);
    return p;
  }

  private inDir(file: string): string {
    const abs = resolve(this.dir, file);
    const rel = relative(this.dir, abs);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel))
      throw new ZfsError('EINVAL', `cannot use '${file}': vdev files must lie under ${this.dir}`);
    return abs;
  }

  private async readCache(): Promise<CacheEntry[]> {
    let text: string;
    try {
      text = await readFile(join(this.dir, CACHE_FILE), 'utf8');
    } catch {
      return [];
    }
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v)) throw new ZfsError('EINVAL', `${join(this.dir, CACHE_FILE)}: not a list of pools`);
    return v as CacheEntry[];
  }

  private async writeCache(): Promise<void> {
    const entries: CacheEntry[] = [...this.pools].map(([name, p]) => ({ name, files: p.files }));
    await writeFileDurably(this.io, join(this.dir, CACHE_FILE), Buffer.from(JSON.stringify(entries, null, 2)));
  }
}

export function poolOf(dataset: string): string {
  return dataset.split(/[/@]/)[0];
}

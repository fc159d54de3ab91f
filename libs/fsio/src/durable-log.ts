// A durable store of opaque records: the newest snapshot plus the log of records appended since.
// xenstored keeps its tree in one (append before acknowledging a request; compact now and then).
//
// On disk, in one directory, generation G is `snapshot.G` (absent for G = 0, the empty state) and `log.G`.
// compact() writes `snapshot.<G+1>.tmp`, syncs it, renames it to `snapshot.<G+1>`, creates `log.<G+1>` and
// syncs the directory: that sync is the commit point. Recovery takes the newest valid snapshot and only
// its own log, so a crash anywhere in compact() yields either generation G whole or G+1 whole.
import { join } from 'node:path';
import { FsioError } from './errors.js';
import type { FileHandle, FileIO } from './fileio.js';
import { mkdirDurably } from './durable-ops.js';
import { decodeSnapshot, encodeSnapshot, frameRecord, scanLog, type TornReason } from './record.js';

export interface DurableLogOptions {
  /** Largest record append() accepts; a longer length in the log marks it torn. Default 16 MiB. */
  readonly maxRecordBytes?: number;
  /** Policy: the log is due for compaction once it holds this many bytes. */
  readonly compactAfterBytes?: number;
  /**
   * Called (from a microtask, once per generation) when the log passes compactAfterBytes. The owner then
   * calls compact() with its current state.
   */
  readonly onCompactDue?: (log: DurableLog) => void;
}

/** The tail recovery cut off the log, and why. */
export interface LogDiscard {
  readonly file: string;
  readonly offset: number;
  readonly bytes: number;
  readonly reason: TornReason;
}

export interface Recovery {
  readonly generation: number;
  readonly snapshot: Buffer | undefined;
  /** The records appended after that snapshot, in order. */
  readonly records: Buffer[];
  readonly discarded?: LogDiscard;
  /** Newer snapshot files that were not valid and were passed over (never the result of a crash). */
  readonly rejectedSnapshots?: { readonly file: string; readonly reason: string }[];
}

const DEFAULT_MAX_RECORD = 16 << 20;
const NAME = /^(snapshot|log)\.(\d+)(\.tmp)?$/;

interface Waiter {
  readonly frames: Buffer[];
  resolve(): void;
  reject(e: unknown): void;
}

export class DurableLog {
  private chain: Promise<void> = Promise.resolve();
  /** The batch that new appends join; sealed when its flush starts (or by compact/close). */
  private batch: Waiter[] | undefined;
  private failed: FsioError | undefined;
  private closed = false;
  private compactSignalled = false;

  private constructor(
    private readonly io: FileIO,
    readonly dir: string,
    private handle: FileHandle,
    private gen: number,
    private maxGen: number,
    private end: number,
    private readonly options: DurableLogOptions,
    private readonly maxRecordBytes: number,
  ) {}

  /**
   * Recovers the store in `dir` (creating it if needed) and opens it for appending. A torn or corrupt tail
   * is cut off the log before anything is appended after it. Everything returned is durable.
   */
  static async open(
    io: FileIO,
    dir: string,
    options: DurableLogOptions = {},
  ): Promise<{ log: DurableLog; recovery: Recovery }> {
    const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD;
    if (!Number.isSafeInteger(maxRecordBytes) || maxRecordBytes < 1 || maxRecordBytes > 0xffffffff) {
      throw new FsioError('EINVAL', `DurableLog ${dir}: maxRecordBytes ${maxRecordBytes} is not in 1..2^32-1`);
    }
    await mkdirDurably(io, dir);
    const names = await io.readdir(dir);
    const gens = new Map<string, number>();
    let maxGen = 0;
    for (const name of names) {
      const m = NAME.exec(name);
      if (!m) continue;
      const g = Number(m[2]);
      maxGen = Math.max(maxGen, g);
      if (!m[3]) gens.set(name, g);
    }

    let gen = 0;
    let snapshot: Buffer | undefined;
    const rejectedSnapshots: { file: string; reason: string }[] = [];
    const snapshotGens = [...gens].filter(([n]) => n.startsWith('snapshot.')).map(([, g]) => g);
    for (const g of snapshotGens.sort((a, b) => b - a)) {
      const file = join(dir, `snapshot.${g}`);
      const decoded = decodeSnapshot(await io.readFile(file));
      if ('payload' in decoded) {
        gen = g;
        snapshot = decoded.payload;
        break;
      }
      rejectedSnapshots.push({ file, reason: decoded.invalid });
    }

    const logFile = join(dir, `log.${gen}`);
    const handle = await io.open(logFile, { create: true });
    let scan;
    let discarded: LogDiscard | undefined;
    try {
      const size = await handle.size();
      scan = scanLog(await handle.read(0, size), maxRecordBytes);
      if (scan.torn) {
        discarded = { file: logFile, offset: scan.validBytes, bytes: size - scan.validBytes, reason: scan.torn };
        await handle.truncate(scan.validBytes);
      }
      // A previous run may have died (without a power cut) before its last sync: make what we return durable.
      await handle.datasync();

      // Leftovers of an interrupted compact(): temporaries, generations this one replaced, and a newer log
      // whose snapshot's rename was lost (nothing is appended to a log before that rename is durable).
      // A newer invalid snapshot and its log stay as evidence until the next compact() supersedes them.
      for (const name of names) {
        const m = NAME.exec(name);
        if (!m) continue;
        const g = Number(m[2]);
        const orphanLog = m[1] === 'log' && g > gen && !gens.has(`snapshot.${g}`);
        if (m[3] || g < gen || orphanLog) await io.unlink(join(dir, name));
      }
      await io.fsyncDir(dir);
    } catch (e) {
      await handle.close().catch(() => undefined);
      throw e;
    }
    const log = new DurableLog(io, dir, handle, gen, maxGen, scan.validBytes, options, maxRecordBytes);
    const recovery: Recovery = {
      generation: gen,
      snapshot,
      records: scan.records,
      ...(discarded && { discarded }),
      ...(rejectedSnapshots.length > 0 && { rejectedSnapshots }),
    };
    log.checkPolicy();
    return { log, recovery };
  }

  /** The generation appends go to (that of the newest snapshot). */
  get generation(): number {
    return this.gen;
  }

  /** Bytes in the current log, acknowledged appends included. */
  get logBytes(): number {
    return this.end;
  }

  /** Whether the log has passed the compactAfterBytes policy. */
  get compactDue(): boolean {
    const limit = this.options.compactAfterBytes;
    return limit !== undefined && this.end >= limit;
  }

  /**
   * Appends the records and resolves once they are durable (never before their sync completed). Appends made
   * while a sync is running are committed together by the next one (group commit), in call order.
   */
  async append(records: readonly Uint8Array[]): Promise<void> {
    this.usable('append');
    const frames = records.map((r, i) => {
      if (r.length === 0) {
        throw new FsioError(
          'EINVAL',
          `append to ${this.dir}: record ${i} is empty (zeroed space must never parse as a record)`,
        );
      }
      if (r.length > this.maxRecordBytes) {
        throw new FsioError(
          'EINVAL',
          `append to ${this.dir}: record ${i} has ${r.length} bytes, more than ${this.maxRecordBytes}`,
        );
      }
      return frameRecord(r);
    });
    return new Promise<void>((resolve, reject) => {
      if (this.batch === undefined) {
        const batch: Waiter[] = [];
        this.batch = batch;
        void this.exclusive(() => this.flush(batch));
      }
      this.batch.push({ frames, resolve, reject });
    });
  }

  /**
   * Replaces the snapshot and starts an empty log. `snapshot` must be the owner's state including every
   * record passed to append() before this call; records appended after it go to the new log. When it
   * resolves, the old generation's files are gone. A failure once the new snapshot may be visible leaves
   * the log unusable: reopen it to recover.
   */
  async compact(snapshot: Uint8Array): Promise<void> {
    this.usable('compact');
    const file = encodeSnapshot(snapshot);
    this.batch = undefined;
    return this.exclusive(() => this.switchGeneration(file));
  }

  /** Waits for pending appends, then closes. Does not compact. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.batch = undefined;
    return this.exclusive(() => this.handle.close());
  }

  private usable(what: string): void {
    if (this.closed) throw new FsioError('EBADF', `${what} ${this.dir}: the log is closed`);
    if (this.failed)
      throw new FsioError(
        'EIO',
        `${what} ${this.dir}: the log failed earlier (${this.failed.message}); reopen it to recover`,
      );
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task);
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private fail(e: unknown, what: string): FsioError {
    const err =
      e instanceof FsioError
        ? e
        : new FsioError('EIO', `${what} ${this.dir}: ${e instanceof Error ? e.message : String(e)}`);
    this.failed ??= err;
    return err;
  }

  private async flush(batch: Waiter[]): Promise<void> {
    if (this.batch === batch) this.batch = undefined;
    try {
      if (this.failed) this.usable('append');
      const bytes = Buffer.concat(batch.flatMap((w) => w.frames));
      if (bytes.length > 0) await this.handle.write(this.end, bytes);
      // After a failed sync the kernel may have dropped the pages: nothing in this log can be trusted.
      await this.handle.datasync();
      this.end += bytes.length;
    } catch (e) {
      const err = this.fail(e, 'append to');
      for (const w of batch) w.reject(err);
      return;
    }
    for (const w of batch) w.resolve();
    this.checkPolicy();
  }

  private async switchGeneration(file: Buffer): Promise<void> {
    this.usable('compact');
    const gen = this.maxGen + 1;
    const tmp = join(this.dir, `snapshot.${gen}.tmp`);
    const fh = await this.io.open(tmp, { create: true, truncate: true });
    try {
      await fh.write(0, file);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    // From the rename on, recovery may already pick generation `gen`: no more appends to the old log.
    this.maxGen = gen;
    let next: FileHandle | undefined;
    try {
      await this.io.rename(tmp, join(this.dir, `snapshot.${gen}`));
      next = await this.io.open(join(this.dir, `log.${gen}`), { create: true, truncate: true });
      await this.io.fsyncDir(this.dir);
      const old = this.handle;
      this.handle = next;
      this.gen = gen;
      this.end = 0;
      this.compactSignalled = false;
      await old.close();
      for (const name of await this.io.readdir(this.dir)) {
        const m = NAME.exec(name);
        if (m && Number(m[2]) < gen) await this.io.unlink(join(this.dir, name));
      }
      await this.io.fsyncDir(this.dir);
    } catch (e) {
      if (next !== undefined && next !== this.handle) await next.close().catch(() => undefined);
      throw this.fail(e, 'compact');
    }
  }

  private checkPolicy(): void {
    const hook = this.options.onCompactDue;
    if (hook && !this.compactSignalled && this.compactDue && !this.failed && !this.closed) {
      this.compactSignalled = true;
      queueMicrotask(() => hook(this));
    }
  }
}

// An NbdExport over one file through @dominion/fsio, kept sparse: the file is sized with truncate (a hole)
// and only what clients write is allocated.
//
// Allocation status: Node has no SEEK_DATA/SEEK_HOLE and FileIO has no fallocate, so the export keeps its
// own map, one state per `granularity` bytes (4 KiB, coarser for disks above 16 GiB so the map stays under
// 4 MiB):
//   HOLE    never written since the file was created here: reads zero, not allocated (HOLE|ZERO);
//   ZERO    zeroed by WRITE_ZEROES: reads zero (ZERO);
//   DATA    written (0), also when a write covered only part of the block;
//   UNKNOWN content of a file that existed before open(): on the first BLOCK_STATUS the block is read and
//           reported ZERO if it is all zeroes, DATA otherwise, and the answer is kept.
// The map lives in memory only. TRIM is accepted and does nothing (proto.md lets a server ignore it);
// WRITE_ZEROES skips HOLE blocks unless NO_HOLE asks for allocation.
import { dirname } from 'node:path';
import type { FileHandle, FileIO } from '@dominion/fsio';
import { NBD_STATE_HOLE, NBD_STATE_ZERO } from './constants.js';
import { NbdError } from './errors.js';
import type { NbdBlockSize, NbdExport, NbdExtent, NbdWriteOptions, NbdWriteZeroesOptions } from './export.js';

export interface FileNbdExportOptions {
  readonly readOnly?: boolean;
  readonly description?: string;
  readonly blockSize?: NbdBlockSize;
}

const UNKNOWN = 0;
const HOLE = 1;
const ZERO = 2;
const DATA = 3;
const FLAGS = [0, NBD_STATE_HOLE | NBD_STATE_ZERO, NBD_STATE_ZERO, 0];

const MAX_MAP_ENTRIES = 1 << 22;
/** Zero-writes and scans go in pieces of this size, so neither holds more memory whatever the request. */
const IO_PIECE = 1 << 20;
/** One BLOCK_STATUS call reads at most this much of UNKNOWN blocks; the client asks again for the rest. */
const MAX_SCAN_PER_CALL = 64 << 20;

const ZEROES = Buffer.alloc(IO_PIECE);

export class FileNbdExport implements NbdExport {
  readonly canMultiConn = true;
  readonly granularity: number;
  private readonly map: Uint8Array;
  /** Bumped when any write starts: a scan that saw it change keeps no answer. */
  private epoch = 0;

  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    readonly readOnly: boolean,
    initial: number,
    readonly description?: string,
    readonly blockSize?: NbdBlockSize,
  ) {
    let g = 4096;
    while (Math.ceil(size / g) > MAX_MAP_ENTRIES) g *= 2;
    this.granularity = g;
    this.map = new Uint8Array(Math.ceil(size / g)).fill(initial);
  }

  /** Creates (or replaces) a sparse file of `size` bytes; every block starts as a hole. */
  static async create(
    io: FileIO,
    path: string,
    size: number,
    options: FileNbdExportOptions = {},
  ): Promise<FileNbdExport> {
    if (!Number.isSafeInteger(size) || size < 0)
      throw new NbdError('EINVAL', `${path}: export size ${size} is not a byte count`);
    const fh = await io.open(path, { create: true, truncate: true });
    try {
      await fh.truncate(size);
      await fh.datasync();
      await io.fsyncDir(dirname(path));
    } catch (e) {
      await fh.close();
      throw e;
    }
    return new FileNbdExport(fh, size, options.readOnly ?? false, HOLE, options.description, options.blockSize);
  }

  /** Serves an existing file at its current size; its allocation is learnt by reading it on demand. */
  static async open(io: FileIO, path: string, options: FileNbdExportOptions = {}): Promise<FileNbdExport> {
    const readOnly = options.readOnly ?? false;
    const fh = await io.open(path, { readOnly });
    let size: number;
    try {
      size = await fh.size();
    } catch (e) {
      await fh.close();
      throw e;
    }
    return new FileNbdExport(fh, size, readOnly, UNKNOWN, options.description, options.blockSize);
  }

  close(): Promise<void> {
    return this.fh.close();
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.allIn(offset, length, HOLE)) return Buffer.alloc(length);
    const b = await this.fh.read(offset, length);
    if (b.length === length) return b;
    // Someone shrank the file under us: past its end it reads as zeroes, like the hole it was.
    const full = Buffer.alloc(length);
    b.copy(full);
    return full;
  }

  async write(offset: number, data: Uint8Array, options: NbdWriteOptions): Promise<void> {
    this.checkWritable('write');
    this.epoch++;
    // Marked before the I/O so a concurrent scan cannot cache the old zeroes.
    this.mark(offset, data.length, () => DATA, true);
    await this.fh.write(offset, data);
    if (options.fua) await this.fh.datasync();
  }

  async flush(): Promise<void> {
    if (!this.readOnly) await this.fh.datasync();
  }

  trim(_offset: number, _length: number): Promise<void> {
    this.checkWritable('trim');
    return Promise.resolve();
  }

  async writeZeroes(offset: number, length: number, options: NbdWriteZeroesOptions): Promise<void> {
    this.checkWritable('write zeroes');
    this.epoch++;
    const g = this.granularity;
    const end = offset + length;
    // Coalesce the parts that need real zeroes written into runs.
    let runStart = -1;
    let runEnd = -1;
    const flushRun = async (): Promise<void> => {
      for (let at = runStart; at < runEnd; at += IO_PIECE) {
        await this.fh.write(at, ZEROES.subarray(0, Math.min(IO_PIECE, runEnd - at)));
      }
      runStart = runEnd = -1;
    };
    for (let b = Math.floor(offset / g); b * g < end; b++) {
      const s = Math.max(offset, b * g);
      const e = Math.min(end, (b + 1) * g);
      if (this.map[b] === HOLE && !options.noHole) continue;
      if (runEnd === s) runEnd = e;
      else {
        if (runStart >= 0) await flushRun();
        runStart = s;
        runEnd = e;
      }
    }
    if (runStart >= 0) await flushRun();
    this.mark(offset, length, (old) => (old === HOLE && !options.noHole ? HOLE : ZERO), false);
    if (options.fua) await this.fh.datasync();
  }

  async blockStatus(offset: number, length: number): Promise<NbdExtent[]> {
    const g = this.granularity;
    const end = Math.min(this.size, offset + Math.max(length, 1));
    const extents: Array<{ length: number; flags: number }> = [];
    let scanned = 0;
    let at = offset;
    for (let b = Math.floor(offset / g); at < end; b++) {
      let state = this.map[b];
      if (state === UNKNOWN) {
        if (scanned >= MAX_SCAN_PER_CALL && extents.length > 0) break;
        scanned += await this.scan(b, Math.ceil(end / g));
        state = this.map[b] === UNKNOWN ? DATA : this.map[b];
      }
      const blockEnd = Math.min(this.size, (b + 1) * g);
      const flags = FLAGS[state];
      const last = extents[extents.length - 1];
      if (last && last.flags === flags) last.length += blockEnd - at;
      else extents.push({ length: blockEnd - at, flags });
      at = blockEnd;
    }
    return extents;
  }

  /** Reads the run of UNKNOWN blocks from `first` (before `endBlock`, at most IO_PIECE) in one go and classifies each. */
  private async scan(first: number, endBlock: number): Promise<number> {
    const g = this.granularity;
    let last = first + 1;
    while (last < endBlock && this.map[last] === UNKNOWN && (last + 1 - first) * g <= IO_PIECE) last++;
    const epoch = this.epoch;
    const start = first * g;
    const data = await this.fh.read(start, Math.min(last * g, this.size) - start);
    // A write that started meanwhile may have changed what was read: keep no answer then.
    if (this.epoch !== epoch) return data.length;
    for (let b = first; b < last; b++) {
      if (this.map[b] !== UNKNOWN) continue;
      const part = data.subarray((b - first) * g, (b - first + 1) * g);
      this.map[b] = isZero(part) ? ZERO : DATA;
    }
    return data.length;
  }

  private checkWritable(op: string): void {
    if (this.readOnly) throw new NbdError('EPERM', `${op} on read-only ${this.fh.path}`);
  }

  private allIn(offset: number, length: number, state: number): boolean {
    const g = this.granularity;
    for (let b = Math.floor(offset / g); b * g < offset + length; b++) if (this.map[b] !== state) return false;
    return true;
  }

  /** Sets the state of blocks the range touches: all of them if `partial`, else only those it covers whole. */
  private mark(offset: number, length: number, next: (old: number) => number, partial: boolean): void {
    const g = this.granularity;
    const end = offset + length;
    for (let b = Math.floor(offset / g); b * g < end; b++) {
      const whole = b * g >= offset && Math.min(this.size, (b + 1) * g) <= end;
      if (whole || partial) this.map[b] = next(this.map[b]);
    }
  }
}

function isZero(b: Buffer): boolean {
  for (let at = 0; at < b.length; at += IO_PIECE) {
    const part = b.subarray(at, Math.min(b.length, at + IO_PIECE));
    if (!part.equals(ZEROES.subarray(0, part.length))) return false;
  }
  return true;
}

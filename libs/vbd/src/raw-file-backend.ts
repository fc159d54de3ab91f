// A raw disk image in one file, through @dominion/fsio so that crash tests can run it on CrashSimFileIO.
// Created on demand at the size asked for, as a sparse file (truncate extends with a hole, allocating
// nothing); an existing image keeps its size. flush() is fdatasync: every write that completed before it
// is on stable storage when it resolves. FileIO has no hole punching (fallocate's PUNCH_HOLE), so discard
// writes zeros: the range reads back as zeros and stays allocated; like a write it is durable after a flush.
import { posix } from 'node:path';
import type { FileHandle, FileIO } from '@dominion/fsio';
import { FsioError } from '@dominion/fsio';
import { checkRange, isBlockSectorSize, type BlockBackend, type BlockSectorSize } from './block-backend.js';
import { VbdError } from './errors.js';

export interface RawFileBackendOptions {
  io: FileIO;
  path: string;
  /** Bytes; creates the image if it does not exist (a multiple of sectorSize). Absent: the image must exist. */
  size?: number;
  /** Default 512. */
  sectorSize?: BlockSectorSize;
  readOnly?: boolean;
  /** Default the path. */
  name?: string;
}

/** Zeros written per call by discard(). */
const DISCARD_CHUNK = 1 << 20;

export class RawFileBackend implements BlockBackend {
  readonly sectors: bigint;

  private constructor(
    private readonly fh: FileHandle,
    readonly name: string,
    readonly size: number,
    readonly sectorSize: BlockSectorSize,
    readonly readOnly: boolean,
  ) {
    this.sectors = BigInt(size / 512);
  }

  static async open(opts: RawFileBackendOptions): Promise<RawFileBackend> {
    const { io, path } = opts;
    const name = opts.name ?? path;
    const sectorSize = opts.sectorSize ?? 512;
    const readOnly = opts.readOnly ?? false;
    if (!isBlockSectorSize(sectorSize))
      throw new VbdError('EINVAL', `${name}: sector size ${String(sectorSize)} is neither 512 nor 4096`);
    if (opts.size !== undefined && (!Number.isSafeInteger(opts.size) || opts.size <= 0 || opts.size % sectorSize !== 0))
      throw new VbdError('EINVAL', `${name}: size ${opts.size} is not a positive multiple of ${sectorSize} bytes`);
    try {
      if (!(await io.exists(path))) {
        if (opts.size === undefined)
          throw new VbdError('ENOENT', `${name}: image ${path} does not exist and no size was given`);
        if (readOnly) throw new VbdError('ENOENT', `${name}: read-only image ${path} does not exist`);
        await RawFileBackend.create(io, path, opts.size);
      }
      const fh = await io.open(path, { readOnly });
      const size = await fh.size();
      const refuse = async (why: string) => {
        await fh.close();
        return new VbdError('EINVAL', `${name}: image ${path} ${why}`);
      };
      if (opts.size !== undefined && size !== opts.size)
        throw await refuse(`is ${size} bytes, not the ${opts.size} asked for`);
      if (size === 0 || size % sectorSize !== 0)
        throw await refuse(`is ${size} bytes, not whole ${sectorSize}-byte sectors`);
      return new RawFileBackend(fh, name, size, sectorSize, readOnly);
    } catch (e) {
      throw storageError(e, `${name}: opening ${path}`);
    }
  }

  /** A sparse file of `size` bytes whose name and size survive a crash. */
  private static async create(io: FileIO, path: string, size: number): Promise<void> {
    const dir = posix.dirname(path);
    await io.mkdirp(dir);
    // Directories mkdirp made are names in their parents: durable only once each parent is synced.
    for (let d = dir; d !== posix.dirname(d); d = posix.dirname(d)) await io.fsyncDir(posix.dirname(d));
    const fh = await io.open(path, { create: true, exclusive: true });
    try {
      await fh.truncate(size);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await io.fsyncDir(dir);
  }

  async read(offset: number, length: number): Promise<Buffer> {
    checkRange(this, offset, length);
    const data = await this.io(`reading ${length} bytes at ${offset}`, () => this.fh.read(offset, length));
    // The file never shrinks under us, but a short read must not hand out fewer bytes than asked for.
    if (data.length === length) return data;
    const full = Buffer.alloc(length);
    data.copy(full);
    return full;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.writable(offset, data.length);
    await this.io(`writing ${data.length} bytes at ${offset}`, () => this.fh.write(offset, data));
  }

  async flush(): Promise<void> {
    await this.io('flushing', () => this.fh.datasync());
  }

  async discard(offset: number, length: number): Promise<void> {
    this.writable(offset, length);
    const zeros = Buffer.alloc(Math.min(length, DISCARD_CHUNK));
    for (let at = offset; at < offset + length; at += DISCARD_CHUNK) {
      const n = Math.min(DISCARD_CHUNK, offset + length - at);
      await this.io(`discarding ${n} bytes at ${at}`, () =>
        this.fh.write(at, n === zeros.length ? zeros : zeros.subarray(0, n)),
      );
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  private writable(offset: number, length: number): void {
    if (this.readOnly) throw new VbdError('EROFS', `${this.name}: read-only: refusing ${length} bytes at ${offset}`);
    checkRange(this, offset, length);
  }

  private async io<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw storageError(e, `${this.name}: ${what}`);
    }
  }
}

/** A storage failure as a VbdError: fsio's ENOENT/EROFS/EINVAL keep their meaning, the rest is EIO. */
function storageError(e: unknown, what: string): VbdError {
  if (e instanceof VbdError) return e;
  const kind = e instanceof FsioError && (e.kind === 'ENOENT' || e.kind === 'EROFS') ? e.kind : 'EIO';
  return new VbdError(kind, `${what}: ${e instanceof Error ? e.message : String(e)}`);
}

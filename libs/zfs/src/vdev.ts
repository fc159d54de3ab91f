// Virtual devices. A top-level vdev is what a DVA names (its index in the pool's vdev tree) and what the
// allocator carves up; a leaf vdev is a file holding the four labels. In this slice every top-level vdev is
// one file (a leaf), so FileVdev is both; a mirror will be a top-level vdev over several leaves that writes
// to all of them and reads from any whose copy verifies.
import type { FileHandle, FileIO } from '@dominion/fsio';
import { asZfsError, ZfsError } from './errors.js';

/** Error counters as `zpool status` shows them (READ WRITE CKSUM). */
export interface VdevStats {
  readErrors: number;
  writeErrors: number;
  checksumErrors: number;
}

export interface TopVdev {
  readonly id: number;
  /** Bytes of the device in use (a whole number of labels). */
  readonly size: number;
  readonly leaves: readonly LeafVdev[];
  read(offset: number, length: number): Promise<Buffer>;
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Makes every write issued before the call durable on every leaf. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface LeafVdev {
  readonly path: string;
  readonly stats: VdevStats;
}

export class FileVdev implements TopVdev, LeafVdev {
  readonly stats: VdevStats = { readErrors: 0, writeErrors: 0, checksumErrors: 0 };
  readonly leaves: readonly LeafVdev[] = [this];

  private constructor(
    readonly id: number,
    readonly path: string,
    readonly size: number,
    private readonly fh: FileHandle,
  ) {}

  /** Opens an existing vdev file; its size is whatever the file holds. */
  static async open(io: FileIO, id: number, path: string): Promise<FileVdev> {
    try {
      const fh = await io.open(path);
      return new FileVdev(id, path, await fh.size(), fh);
    } catch (e) {
      throw asZfsError(e, `cannot open vdev ${path}`);
    }
  }

  /** Creates a sparse vdev file of `size` bytes; refuses a path that exists (as zpool create does without -f). */
  static async create(io: FileIO, id: number, path: string, size: number): Promise<FileVdev> {
    let fh: FileHandle;
    try {
      fh = await io.open(path, { create: true, exclusive: true });
    } catch (e) {
      throw asZfsError(e, `cannot create vdev ${path}`);
    }
    try {
      await fh.truncate(size);
    } catch (e) {
      throw asZfsError(e, `cannot size vdev ${path} to ${size} bytes`);
    }
    return new FileVdev(id, path, size, fh);
  }

  async read(offset: number, length: number): Promise<Buffer> {
    let data: Buffer;
    try {
      data = await this.fh.read(offset, length);
    } catch (e) {
      this.stats.readErrors++;
      throw asZfsError(e, `read of ${length} bytes at ${offset} on vdev ${this.path}`);
    }
    if (data.length !== length) {
      this.stats.readErrors++;
      throw new ZfsError('EIO', `short read on vdev ${this.path}: ${data.length} of ${length} bytes at ${offset}`);
    }
    return data;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (offset + data.length > this.size) {
      throw new ZfsError('EINVAL', `write of ${data.length} bytes at ${offset} is past the end of vdev ${this.path}`);
    }
    try {
      await this.fh.write(offset, data);
    } catch (e) {
      this.stats.writeErrors++;
      throw asZfsError(e, `write of ${data.length} bytes at ${offset} on vdev ${this.path}`);
    }
  }

  async sync(): Promise<void> {
    try {
      await this.fh.datasync();
    } catch (e) {
      this.stats.writeErrors++;
      throw asZfsError(e, `fdatasync of vdev ${this.path}`);
    }
  }

  async close(): Promise<void> {
    try {
      await this.fh.close();
    } catch {
      // A dead handle (after a simulated power cut) has nothing left to release.
    }
  }
}

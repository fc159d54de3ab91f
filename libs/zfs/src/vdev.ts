// Virtual devices. A top-level vdev is what a DVA names (its index in the pool's vdev tree) and what the
// allocator carves up; a leaf vdev is a file holding the four labels. A top-level vdev is either one file
// (FileVdev is then both) or a mirror over several files (MirrorVdev), which writes every copy and lets the
// block reader pick a copy whose checksum verifies and rewrite the others (self-healing).
import type { FileHandle, FileIO } from '@dominion/fsio';
import { asZfsError, ZfsError } from './errors.js';

/** Error counters as `zpool status` shows them (READ WRITE CKSUM). */
export interface VdevStats {
  readErrors: number;
  writeErrors: number;
  checksumErrors: number;
}

/**
 * `zpool status` states of a leaf: ONLINE; UNAVAIL when it could not be opened at import (missing file, no
 * valid label); FAULTED once a write or fsync to it failed (its copies can no longer be trusted to be there).
 */
export type LeafState = 'ONLINE' | 'UNAVAIL' | 'FAULTED';

export interface LeafVdev {
  readonly path: string;
  readonly guid: string;
  readonly stats: VdevStats;
  readonly state: LeafState;
  /** Bytes written to repair bad copies (self-healing and scrub). */
  repairedBytes: number;
  read(offset: number, length: number): Promise<Buffer>;
  write(offset: number, data: Uint8Array): Promise<void>;
}

export interface TopVdev {
  readonly id: number;
  readonly type: 'file' | 'mirror';
  /** Bytes of the device in use (a whole number of labels). */
  readonly size: number;
  /** Every leaf, also those not ONLINE (a mirror's order is the config's). */
  readonly leaves: readonly LeafVdev[];
  /** Reads from the first ONLINE leaf that answers (no checksum check: see BlockReader). */
  read(offset: number, length: number): Promise<Buffer>;
  /** Writes every ONLINE leaf; fails only if no leaf took the write. */
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Makes every write issued before the call durable on every ONLINE leaf. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export class FileVdev implements TopVdev, LeafVdev {
  readonly type = 'file';
  readonly stats: VdevStats = { readErrors: 0, writeErrors: 0, checksumErrors: 0 };
  readonly leaves: readonly LeafVdev[] = [this];
  state: LeafState = 'ONLINE';
  repairedBytes = 0;

  private constructor(
    readonly id: number,
    readonly path: string,
    readonly guid: string,
    readonly size: number,
    private readonly fh: FileHandle,
  ) {}

  /** Opens an existing vdev file; its size is whatever the file holds. */
  static async open(io: FileIO, id: number, path: string, guid = ''): Promise<FileVdev> {
    try {
      const fh = await io.open(path);
      return new FileVdev(id, path, guid, await fh.size(), fh);
    } catch (e) {
      throw asZfsError(e, `cannot open vdev ${path}`);
    }
  }

  /** Creates a sparse vdev file of `size` bytes; refuses a path that exists (as zpool create does without -f). */
  static async create(io: FileIO, id: number, path: string, size: number, guid = ''): Promise<FileVdev> {
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
    return new FileVdev(id, path, guid, size, fh);
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

/** A mirror child that could not be opened at import: it holds nothing and answers nothing. */
export class MissingLeaf implements LeafVdev {
  readonly stats: VdevStats = { readErrors: 0, writeErrors: 0, checksumErrors: 0 };
  readonly state: LeafState = 'UNAVAIL';
  repairedBytes = 0;

  constructor(
    readonly path: string,
    readonly guid: string,
    private readonly why: string,
  ) {}

  read(): Promise<Buffer> {
    return Promise.reject(new ZfsError('ENXIO', `vdev ${this.path} is unavailable: ${this.why}`));
  }

  write(): Promise<void> {
    return Promise.reject(new ZfsError('ENXIO', `vdev ${this.path} is unavailable: ${this.why}`));
  }
}

export class MirrorVdev implements TopVdev {
  readonly type = 'mirror';

  constructor(
    readonly id: number,
    readonly size: number,
    readonly leaves: readonly (FileVdev | MissingLeaf)[],
  ) {}

  get path(): string {
    return `mirror-${this.id}`;
  }

  private online(): FileVdev[] {
    return this.leaves.filter((l): l is FileVdev => l instanceof FileVdev && l.state === 'ONLINE');
  }

  async read(offset: number, length: number): Promise<Buffer> {
    let last: unknown = new ZfsError('ENXIO', `${this.path} has no ONLINE child`);
    for (const leaf of this.online()) {
      try {
        return await leaf.read(offset, length);
      } catch (e) {
        last = e;
      }
    }
    throw asZfsError(last, `read of ${length} bytes at ${offset} on ${this.path}`);
  }

  /** Runs `op` on every ONLINE child; a child that fails is FAULTED, and the op fails only if all did. */
  private async all(what: string, op: (leaf: FileVdev) => Promise<void>): Promise<void> {
    const children = this.online();
    const results = await Promise.allSettled(children.map(op));
    let ok = 0;
    let first: unknown;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') ok++;
      else {
        children[i].state = 'FAULTED';
        first ??= r.reason;
      }
    });
    if (ok === 0) throw asZfsError(first ?? new ZfsError('ENXIO', 'no ONLINE child'), `${what} on ${this.path}`);
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    return this.all(`write of ${data.length} bytes at ${offset}`, (leaf) => leaf.write(offset, data));
  }

  sync(): Promise<void> {
    return this.all('fdatasync', (leaf) => leaf.sync());
  }

  async close(): Promise<void> {
    for (const leaf of this.leaves) if (leaf instanceof FileVdev) await leaf.close();
  }
}

// FileIO over the real filesystem, with real fsync(2)/fdatasync(2).
import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import { checkByteCount, FsioError, fsioErrorOf } from './errors.js';
import type { FileHandle, FileIO, OpenOptions } from './fileio.js';

async function wrap<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    throw fsioErrorOf(e, what);
  }
}

class NodeFileHandle implements FileHandle {
  // Positional writes only: with O_APPEND, Linux ignores the position of pwrite(2).
  private end: number | undefined;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly fh: fs.FileHandle,
  ) {}

  private live(op: string): fs.FileHandle {
    if (this.closed) throw new FsioError('EBADF', `${op} ${this.path}: handle is closed`);
    return this.fh;
  }

  read(offset: number, length: number): Promise<Buffer> {
    return wrap(`read ${this.path} at ${offset}`, async () => {
      const fh = this.live('read');
      checkByteCount(offset, `read ${this.path}: offset`);
      checkByteCount(length, `read ${this.path}: length`);
      const buf = Buffer.allocUnsafe(length); // only the bytes read are returned
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === length ? buf : buf.subarray(0, got);
    });
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    return wrap(`write ${this.path} at ${offset}`, async () => {
      const fh = this.live('write');
      checkByteCount(offset, `write ${this.path}: offset`);
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await fh.write(data, done, data.length - done, offset + done);
        done += bytesWritten;
      }
      if (this.end !== undefined) this.end = Math.max(this.end, offset + data.length);
    });
  }

  async append(data: Uint8Array): Promise<void> {
    const at = await this.size();
    await this.write(at, data);
    this.end = at + data.length;
  }

  size(): Promise<number> {
    return wrap(`stat ${this.path}`, async () => {
      const fh = this.live('size');
      this.end ??= (await fh.stat()).size;
      return this.end;
    });
  }

  truncate(length: number): Promise<void> {
    return wrap(`truncate ${this.path} to ${length}`, async () => {
      const fh = this.live('truncate');
      checkByteCount(length, `truncate ${this.path}: length`);
      await fh.truncate(length);
      this.end = length;
    });
  }

  sync(): Promise<void> {
    return wrap(`fsync ${this.path}`, () => this.live('sync').sync());
  }

  datasync(): Promise<void> {
    return wrap(`fdatasync ${this.path}`, () => this.live('datasync').datasync());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await wrap(`close ${this.path}`, () => this.fh.close());
  }
}

export class NodeFileIO implements FileIO {
  open(path: string, options: OpenOptions = {}): Promise<FileHandle> {
    let flags = options.readOnly ? constants.O_RDONLY : constants.O_RDWR;
    if (options.create) flags |= constants.O_CREAT;
    if (options.create && options.exclusive) flags |= constants.O_EXCL;
    if (options.truncate) flags |= constants.O_TRUNC;
    return wrap(`open ${path}`, async () => new NodeFileHandle(path, await fs.open(path, flags, 0o644)));
  }

  readFile(path: string): Promise<Buffer> {
    return wrap(`read ${path}`, () => fs.readFile(path));
  }

  writeFile(path: string, data: Uint8Array): Promise<void> {
    return wrap(`write ${path}`, () => fs.writeFile(path, data));
  }

  rename(from: string, to: string): Promise<void> {
    return wrap(`rename ${from} -> ${to}`, () => fs.rename(from, to));
  }

  unlink(path: string): Promise<void> {
    return wrap(`unlink ${path}`, () => fs.unlink(path));
  }

  mkdirp(path: string): Promise<void> {
    return wrap(`mkdir -p ${path}`, async () => {
      await fs.mkdir(path, { recursive: true });
    });
  }

  readdir(path: string): Promise<string[]> {
    return wrap(`readdir ${path}`, async () => (await fs.readdir(path)).sort());
  }

  async exists(path: string): Promise<boolean> {
    try {
      await fs.lstat(path);
      return true;
    } catch (e) {
      const err = fsioErrorOf(e, `stat ${path}`);
      if (err.kind === 'ENOENT' || err.kind === 'ENOTDIR') return false;
      throw err;
    }
  }

  fsyncDir(path: string): Promise<void> {
    return wrap(`fsync directory ${path}`, async () => {
      const fh = await fs.open(path, constants.O_RDONLY | constants.O_DIRECTORY);
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
  }
}

// A VBD's disk as an NBD export (libs/nbd): the same BlockBackend the rings write, so NBD clients and the
// guest see one disk. Requests are whole sectors (NBD_INFO_BLOCK_SIZE minimum = the sector size, which
// stock clients honour). One file descriptor serves every connection, so a flush on any of them makes every
// completed write durable: CAN_MULTI_CONN holds. TRIM and WRITE_ZEROES use the backend's discard, which
// reads back as zeroes. Once the VBD goes away the export refuses everything with ESHUTDOWN.
import type { BlockBackend } from '@dominion/vbd';
import { NbdError, type NbdBlockSize, type NbdExport, type NbdWriteOptions } from '@dominion/nbd';

export class BlockNbdExport implements NbdExport {
  readonly canMultiConn = true;
  readonly blockSize: NbdBlockSize;
  private closed = false;

  constructor(
    private readonly disk: BlockBackend,
    readonly description: string,
  ) {
    this.blockSize = { min: disk.sectorSize, preferred: 4096, max: 32 << 20 };
  }

  get size(): number {
    return this.disk.size;
  }

  get readOnly(): boolean {
    return this.disk.readOnly;
  }

  /** The VBD is gone: every later request fails. */
  close(): void {
    this.closed = true;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.live('read');
    return this.disk.read(offset, length);
  }

  async write(offset: number, data: Uint8Array, options: NbdWriteOptions): Promise<void> {
    this.live('write');
    await this.disk.write(offset, data);
    if (options.fua) await this.disk.flush();
  }

  async flush(): Promise<void> {
    this.live('flush');
    if (!this.disk.readOnly) await this.disk.flush();
  }

  async trim(offset: number, length: number): Promise<void> {
    this.live('trim');
    await this.disk.discard(offset, length);
  }

  async writeZeroes(offset: number, length: number, options: NbdWriteOptions): Promise<void> {
    this.live('write zeroes');
    await this.disk.discard(offset, length);
    if (options.fua) await this.disk.flush();
  }

  private live(op: string): void {
    if (this.closed) throw new NbdError('ESHUTDOWN', `${op} on ${this.description}: the VBD was removed`);
  }
}

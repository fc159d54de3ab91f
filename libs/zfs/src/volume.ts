// A zvol handle: byte-addressed reads, writes, discards and flushes on a volume, or reads of one of its
// snapshots. It holds no state of its own: every call goes to the pool, which owns the dirty data, the
// intent log and the trees.
import { ZfsError } from './errors.js';

/** What a handle needs of its pool (implemented by Pool). */
export interface VolumeHost {
  volumeRead(dataset: number, snapshot: number | undefined, offset: number, length: number): Promise<Buffer>;
  volumeWrite(dataset: number, offset: number, data: Uint8Array): Promise<void>;
  volumeDiscard(dataset: number, offset: number, length: number): Promise<void>;
  flush(): Promise<void>;
}

export class Volume {
  constructor(
    private readonly host: VolumeHost,
    /** "tank/vm1" or "tank/vm1@monday". */
    readonly name: string,
    private readonly dataset: number,
    private readonly snapshot: number | undefined,
    readonly volsize: number,
    readonly volblocksize: number,
  ) {}

  /** Snapshots are read-only. */
  get readOnly(): boolean {
    return this.snapshot !== undefined;
  }

  /** `length` bytes from `offset`; never-written and discarded ranges read as zeros. */
  read(offset: number, length: number): Promise<Buffer> {
    return this.host.volumeRead(this.dataset, this.snapshot, offset, length);
  }

  /** Buffered in the open txg; durable at the next flush() or txg sync. */
  write(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly)
      return Promise.reject(new ZfsError('EROFS', `cannot write to ${this.name}: snapshots are read-only`));
    return this.host.volumeWrite(this.dataset, offset, data);
  }

  /** Frees whole blocks in the range and zeroes the partial blocks at its ends. */
  discard(offset: number, length: number): Promise<void> {
    if (this.readOnly)
      return Promise.reject(new ZfsError('EROFS', `cannot discard on ${this.name}: snapshots are read-only`));
    return this.host.volumeDiscard(this.dataset, offset, length);
  }

  /** Makes every write and discard made so far (to any volume of the pool) durable, through the intent log. */
  flush(): Promise<void> {
    return this.host.flush();
  }
}

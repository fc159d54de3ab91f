// The intent log (ZIL). Writes and discards are logged as records in memory (ZFS's itxs); a flush writes
// the records pending so far as one log block and fsyncs it, so a synchronous write is durable without
// waiting for a txg. Once a txg is synced its records are obsolete.
//
// Where: a fixed log area on vdev 0 (like a separate log device; ZFS chains log blocks through the pool
// instead). Which records count: after txg T is synced, the log restarts at the start of the area as
// generation T, blocks numbered 0, 1, 2 ... Import of a pool whose newest uberblock is T replays blocks of
// generation T in order from the start and stops at the first that is missing, torn or from another
// generation. Records of T are only ever written after T's uberblock is durable, and import always syncs
// a new txg before logging again, so no stale block can continue a chain.
//
// A log block (little-endian), at a sector boundary:
//    0  8 bytes magic "DOMZIL01"    8  8 bytes pool guid    16  u64 generation   24  u64 block number
//   32  u32 payload bytes   36  u32 records   40  24 zero bytes   64  sha256 of the block with this field zeroed
//   96  records: u8 type (1 write, 2 discard), 3 zero bytes, u32 dataset id, u64 offset, u64 length,
//       then for a write `length` bytes of data and zeros to a multiple of 8
// then zeros to a whole sector.
import { sha256 } from './checksum/index.js';
import { SECTOR } from './constants.js';
import { ZfsError } from './errors.js';
import type { LogAreaConfig } from './label.js';
import { readU64, roundUp, writeU64 } from './u64.js';
import type { TopVdev } from './vdev.js';

const MAGIC = Buffer.from('DOMZIL01', 'latin1');
const HEADER = 96;
const RECORD_HEADER = 24;

export type LogRecord =
  | { readonly type: 'write'; readonly dataset: number; readonly offset: number; readonly data: Buffer }
  | { readonly type: 'discard'; readonly dataset: number; readonly offset: number; readonly length: number };

function recordBytes(r: LogRecord): number {
  return RECORD_HEADER + (r.type === 'write' ? roundUp(r.data.length, 8) : 0);
}

export function encodeLogBlock(
  poolGuid: string,
  generation: number,
  seq: number,
  records: readonly LogRecord[],
): Buffer {
  const payload = records.reduce((n, r) => n + recordBytes(r), 0);
  const out = Buffer.alloc(roundUp(HEADER + payload, SECTOR));
  MAGIC.copy(out, 0);
  Buffer.from(poolGuid, 'hex').copy(out, 8, 0, 8);
  writeU64(out, 16, generation);
  writeU64(out, 24, seq);
  out.writeUInt32LE(payload, 32);
  out.writeUInt32LE(records.length, 36);
  let at = HEADER;
  for (const r of records) {
    out.writeUInt8(r.type === 'write' ? 1 : 2, at);
    out.writeUInt32LE(r.dataset, at + 4);
    writeU64(out, at + 8, r.offset);
    writeU64(out, at + 16, r.type === 'write' ? r.data.length : r.length);
    if (r.type === 'write') r.data.copy(out, at + RECORD_HEADER);
    at += recordBytes(r);
  }
  sha256(out.subarray(0, HEADER + payload)).copy(out, 64);
  return out;
}

/** The header of a log block, if `head` (its first bytes) starts one of this pool, generation and number. */
function blockLength(
  head: Buffer,
  poolGuid: string,
  generation: number,
  seq: number,
  where: string,
): number | undefined {
  if (head.length < HEADER || !head.subarray(0, 8).equals(MAGIC)) return undefined;
  if (head.subarray(8, 16).toString('hex') !== poolGuid) return undefined;
  try {
    if (readU64(head, 16, where) !== generation || readU64(head, 24, where) !== seq) return undefined;
  } catch {
    return undefined;
  }
  return HEADER + head.readUInt32LE(32);
}

function decodeRecords(block: Buffer, where: string): LogRecord[] | undefined {
  const sum = Buffer.from(block.subarray(64, 96));
  const check = Buffer.from(block);
  check.fill(0, 64, 96);
  if (!sha256(check).equals(sum)) return undefined;
  const count = block.readUInt32LE(36);
  const out: LogRecord[] = [];
  let at = HEADER;
  for (let i = 0; i < count; i++) {
    if (at + RECORD_HEADER > block.length) throw new ZfsError('EIO', `${where}: record ${i} overruns the block`);
    const type = block.readUInt8(at);
    const dataset = block.readUInt32LE(at + 4);
    const offset = readU64(block, at + 8, where);
    const length = readU64(block, at + 16, where);
    if (type === 1) {
      if (at + RECORD_HEADER + length > block.length)
        throw new ZfsError('EIO', `${where}: record ${i} overruns the block`);
      out.push({
        type: 'write',
        dataset,
        offset,
        data: Buffer.from(block.subarray(at + RECORD_HEADER, at + RECORD_HEADER + length)),
      });
      at += RECORD_HEADER + roundUp(length, 8);
    } else if (type === 2) {
      out.push({ type: 'discard', dataset, offset, length });
      at += RECORD_HEADER;
    } else {
      throw new ZfsError('EIO', `${where}: record ${i} has type ${type}`);
    }
  }
  return out;
}

export class IntentLog {
  private pending: LogRecord[] = [];
  private pendingBytes = 0;
  private cursor = 0;
  private seq = 0;

  constructor(
    private readonly vdev: TopVdev,
    private readonly area: LogAreaConfig,
    private readonly poolGuid: string,
    private generation: number,
  ) {}

  /** Records not yet on disk. */
  get pendingRecords(): number {
    return this.pending.length;
  }

  add(record: LogRecord): void {
    this.pending.push(record);
    this.pendingBytes += recordBytes(record);
  }

  /** Forgets a dataset's pending records (its dirty data is being thrown away, as by a rollback). */
  dropDataset(id: number): void {
    this.pending = this.pending.filter((r) => r.dataset !== id);
    this.pendingBytes = this.pending.reduce((n, r) => n + recordBytes(r), 0);
  }

  /** Whether the pending records fit the area as one more block. */
  fits(): boolean {
    return this.cursor + roundUp(HEADER + this.pendingBytes, SECTOR) <= this.area.size;
  }

  /** Writes the pending records as one block and makes it durable; the caller checked fits(). */
  async commit(): Promise<void> {
    if (this.pending.length === 0) return;
    const block = encodeLogBlock(this.poolGuid, this.generation, this.seq, this.pending);
    await this.vdev.write(this.area.offset + this.cursor, block);
    await this.vdev.sync();
    this.cursor += block.length;
    this.seq++;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Txg `txg` is durable: everything logged so far is in the tree. */
  restart(txg: number): void {
    this.generation = txg;
    this.cursor = 0;
    this.seq = 0;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** The records to replay on top of txg `generation`, in order. */
  static async replay(
    vdev: Pick<TopVdev, 'read'>,
    area: LogAreaConfig,
    poolGuid: string,
    generation: number,
  ): Promise<LogRecord[]> {
    const out: LogRecord[] = [];
    let cursor = 0;
    for (let seq = 0; cursor + HEADER <= area.size; seq++) {
      const where = `intent log block ${seq} of generation ${generation}`;
      const head = await vdev.read(area.offset + cursor, Math.min(SECTOR, area.size - cursor));
      const length = blockLength(head, poolGuid, generation, seq, where);
      if (length === undefined || cursor + length > area.size) break;
      const block = length <= head.length ? head.subarray(0, length) : await vdev.read(area.offset + cursor, length);
      const records = decodeRecords(block, where);
      if (records === undefined) break;
      out.push(...records);
      cursor += roundUp(length, SECTOR);
    }
    return out;
  }
}

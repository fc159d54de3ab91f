// The send stream: how a snapshot (or the difference between two snapshots of one dataset) travels to
// another pool, like zfs send's. Not byte-compatible with ZFS's. A stream is a sequence of records:
//    0  u32 type   4  u32 payload length   8  payload   then 32 bytes: sha256 of the 8 header bytes and the
//    payload (and of the previous record's checksum, so records cannot be reordered, dropped or spliced)
// Types:
//    1 BEGIN       JSON: version, kind (full | incremental), type (volume | filesystem), the snapshot's
//                  name, guid and txg, the from-snapshot's name and guid, the volume's geometry, the
//                  dataset's local properties
//    2 OBJECT      u64 object, u8 flags (1 reset: free its blocks first, 2 directory, 4 symlink, 8 xattr
//                  object), 3 zero bytes, u32 block size (0: 16 KiB), the dnode bonus: u64 size, u64 mtime, u64 ctime, u32 mode,
//                  u32 nlink, then (optional) the 64-byte znode extension as in a meta-dnode slot
//                  (fs-objects.ts)  (filesystems)
//    3 FREEOBJECT  u64 object  (filesystems)
//    4 WRITE       u64 object (1 for a volume), u64 offset, then the block's bytes (logical, uncompressed)
//    5 FREE        u64 object, u64 offset, u64 length: these bytes read as zeros
//    6 END         u64 number of records before it
// A receiver checks every record's checksum and the END count before it changes anything.
import { createHash } from 'node:crypto';
import { ZfsError } from './errors.js';
import { decodeZnodeAt, encodeZnodeAt, ZNODE_SIZE } from './fs-objects.js';
import type { Znode } from './objset.js';
import { readU64, writeU64 } from './u64.js';

export const STREAM_VERSION = 1;
const HEADER = 8;
const SUM = 32;

export interface StreamBegin {
  readonly version: number;
  readonly kind: 'full' | 'incremental';
  readonly type: 'volume' | 'filesystem';
  readonly toName: string;
  readonly toGuid: string;
  readonly toTxg: number;
  readonly fromName?: string;
  readonly fromGuid?: string;
  readonly volsize?: number;
  readonly volblocksize?: number;
  readonly props: Readonly<Record<string, string>>;
}

export interface ObjectBonus {
  readonly size: number;
  readonly mtime: number;
  readonly ctime: number;
  readonly mode: number;
  readonly nlink: number;
  readonly dir: boolean;
  /** The object's block size (streams before recordsize carry 0: 16 KiB). */
  readonly blockSize?: number;
  /** A symlink or an xattr object (else a file, or a directory with `dir`). */
  readonly kind?: 'symlink' | 'xattr';
  /** uid, gid, parent, xattr object and nanosecond times: 64 more bytes after the 48 of older streams. */
  readonly znode?: Znode;
}

export type StreamRecord =
  | { readonly type: 'begin'; readonly begin: StreamBegin }
  | { readonly type: 'object'; readonly object: number; readonly reset: boolean; readonly bonus: ObjectBonus }
  | { readonly type: 'freeobject'; readonly object: number }
  | { readonly type: 'write'; readonly object: number; readonly offset: number; readonly data: Buffer }
  | { readonly type: 'free'; readonly object: number; readonly offset: number; readonly length: number }
  | { readonly type: 'end'; readonly records: number };

const TYPE_IDS = { begin: 1, object: 2, freeobject: 3, write: 4, free: 5, end: 6 } as const;

function payloadOf(r: StreamRecord): Buffer {
  switch (r.type) {
    case 'begin':
      return Buffer.from(JSON.stringify(r.begin), 'utf8');
    case 'object': {
      const out = Buffer.alloc(r.bonus.znode === undefined ? 48 : 48 + ZNODE_SIZE);
      writeU64(out, 0, r.object);
      const kind = r.bonus.kind === 'symlink' ? 4 : r.bonus.kind === 'xattr' ? 8 : 0;
      out.writeUInt8((r.reset ? 1 : 0) | (r.bonus.dir ? 2 : 0) | kind, 8);
      out.writeUInt32LE(r.bonus.blockSize ?? 0, 12);
      if (r.bonus.znode !== undefined) encodeZnodeAt(r.bonus.znode, out, 48);
      writeU64(out, 16, r.bonus.size);
      writeU64(out, 24, r.bonus.mtime);
      writeU64(out, 32, r.bonus.ctime);
      out.writeUInt32LE(r.bonus.mode, 40);
      out.writeUInt32LE(r.bonus.nlink, 44);
      return out;
    }
    case 'freeobject': {
      const out = Buffer.alloc(8);
      writeU64(out, 0, r.object);
      return out;
    }
    case 'write': {
      const out = Buffer.alloc(16 + r.data.length);
      writeU64(out, 0, r.object);
      writeU64(out, 8, r.offset);
      r.data.copy(out, 16);
      return out;
    }
    case 'free': {
      const out = Buffer.alloc(24);
      writeU64(out, 0, r.object);
      writeU64(out, 8, r.offset);
      writeU64(out, 16, r.length);
      return out;
    }
    case 'end': {
      const out = Buffer.alloc(8);
      writeU64(out, 0, r.records);
      return out;
    }
  }
}

/** Encodes records one by one, each checksum chained to the one before. */
export class StreamWriter {
  private prev = Buffer.alloc(SUM);
  count = 0;

  encode(r: StreamRecord): Buffer {
    const payload = payloadOf(r);
    const out = Buffer.alloc(HEADER + payload.length + SUM);
    out.writeUInt32LE(TYPE_IDS[r.type], 0);
    out.writeUInt32LE(payload.length, 4);
    payload.copy(out, HEADER);
    const sum = createHash('sha256')
      .update(this.prev)
      .update(out.subarray(0, HEADER + payload.length))
      .digest();
    sum.copy(out, HEADER + payload.length);
    this.prev = sum;
    this.count++;
    return out;
  }
}

/** Parses a stream from chunks of any size, verifying each record; errors are EINVAL naming the record. */
export class StreamReader {
  private buf = Buffer.alloc(0);
  private prev = Buffer.alloc(SUM);
  private n = 0;
  private ended = false;

  /** Records completed by this chunk. */
  push(chunk: Uint8Array): StreamRecord[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: StreamRecord[] = [];
    while (this.buf.length >= HEADER) {
      const length = this.buf.readUInt32LE(4);
      if (this.buf.length < HEADER + length + SUM) break;
      const body = this.buf.subarray(0, HEADER + length);
      const sum = createHash('sha256').update(this.prev).update(body).digest();
      if (!sum.equals(this.buf.subarray(HEADER + length, HEADER + length + SUM)))
        throw new ZfsError('EINVAL', `invalid stream: checksum mismatch in record ${this.n}`);
      if (this.ended) throw new ZfsError('EINVAL', `invalid stream: record ${this.n} after END`);
      const r = this.decode(this.buf.readUInt32LE(0), Buffer.from(this.buf.subarray(HEADER, HEADER + length)));
      if (this.n === 0 && r.type !== 'begin') throw new ZfsError('EINVAL', 'invalid stream: no BEGIN record');
      if (r.type === 'end') {
        if (r.records !== this.n)
          throw new ZfsError('EINVAL', `invalid stream: END says ${r.records} records, saw ${this.n}`);
        this.ended = true;
      }
      this.prev = sum;
      this.n++;
      out.push(r);
      this.buf = this.buf.subarray(HEADER + length + SUM);
    }
    return out;
  }

  /** Fails unless the stream ended with a valid END and nothing after it. */
  finish(): void {
    if (!this.ended || this.buf.length > 0)
      throw new ZfsError('EINVAL', `invalid stream: truncated after ${this.n} records (no END)`);
  }

  private decode(type: number, p: Buffer): StreamRecord {
    const where = `stream record ${this.n}`;
    const need = (n: number): void => {
      if (p.length < n) throw new ZfsError('EINVAL', `invalid stream: ${where} is ${p.length} bytes`);
    };
    switch (type) {
      case 1: {
        let begin: StreamBegin;
        try {
          begin = JSON.parse(p.toString('utf8')) as StreamBegin;
        } catch {
          throw new ZfsError('EINVAL', `invalid stream: ${where} BEGIN is not JSON`);
        }
        if (begin.version !== STREAM_VERSION)
          throw new ZfsError('EINVAL', `invalid stream: version ${String(begin.version)}, expected ${STREAM_VERSION}`);
        return { type: 'begin', begin };
      }
      case 2: {
        need(48);
        const flags = p.readUInt8(8);
        const blockSize = p.readUInt32LE(12);
        if (blockSize !== 0 && (blockSize < 512 || blockSize > 128 * 1024 || (blockSize & (blockSize - 1)) !== 0))
          throw new ZfsError('EINVAL', `invalid stream: ${where} has block size ${blockSize}`);
        return {
          type: 'object',
          object: readU64(p, 0, where),
          reset: (flags & 1) !== 0,
          bonus: {
            size: readU64(p, 16, where),
            mtime: readU64(p, 24, where),
            ctime: readU64(p, 32, where),
            mode: p.readUInt32LE(40),
            nlink: p.readUInt32LE(44),
            dir: (flags & 2) !== 0,
            ...(blockSize !== 0 && { blockSize }),
            ...(flags & 4 && { kind: 'symlink' as const }),
            ...(flags & 8 && { kind: 'xattr' as const }),
            ...(p.length >= 48 + ZNODE_SIZE && { znode: decodeZnodeAt(p, 48, where) }),
          },
        };
      }
      case 3:
        need(8);
        return { type: 'freeobject', object: readU64(p, 0, where) };
      case 4:
        need(16);
        return { type: 'write', object: readU64(p, 0, where), offset: readU64(p, 8, where), data: p.subarray(16) };
      case 5:
        need(24);
        return {
          type: 'free',
          object: readU64(p, 0, where),
          offset: readU64(p, 8, where),
          length: readU64(p, 16, where),
        };
      case 6:
        need(8);
        return { type: 'end', records: readU64(p, 0, where) };
      default:
        throw new ZfsError('EINVAL', `invalid stream: ${where} has type ${type}`);
    }
  }
}

// How DurableLog frames bytes on disk. A log is a run of records, each
//   offset 0  u32 LE  length of the payload (> 0)
//          4  u32 LE  crc32 (IEEE, zlib's) of the payload
//          8  payload
// with nothing between them. Zero-length records are not allowed, so zeroed space (a hole a torn write
// left behind) never reads as a record. A snapshot file is the magic "SNAP" followed by one frame, which
// may be empty, and must end exactly where the frame does.
import { crc32 } from 'node:zlib';
import { FsioError } from './errors.js';

export const RECORD_HEADER_BYTES = 8;
export const SNAPSHOT_MAGIC = Buffer.from('SNAP', 'latin1');
const U32_MAX = 0xffffffff;

/** Why the scan of a log stopped before its end. */
export type TornReason = 'short-header' | 'short-payload' | 'bad-length' | 'crc-mismatch';

export function frameRecord(payload: Uint8Array): Buffer {
  if (payload.length > U32_MAX)
    throw new FsioError('EINVAL', `a record of ${payload.length} bytes does not fit a u32 length`);
  const out = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  out.set(payload, RECORD_HEADER_BYTES);
  return out;
}

export interface LogScan {
  readonly records: Buffer[];
  /** Bytes from the start of the log up to the end of the last whole record. */
  readonly validBytes: number;
  /** Set when the bytes after validBytes are not a record. */
  readonly torn?: TornReason;
}

/** Reads records until the first one that is not whole and intact; everything from there on is suspect. */
export function scanLog(log: Buffer, maxRecordBytes: number): LogScan {
  const records: Buffer[] = [];
  let at = 0;
  const stop = (torn: TornReason): LogScan => ({ records, validBytes: at, torn });
  while (at < log.length) {
    if (log.length - at < RECORD_HEADER_BYTES) return stop('short-header');
    const length = log.readUInt32LE(at);
    if (length === 0 || length > maxRecordBytes) return stop('bad-length');
    const end = at + RECORD_HEADER_BYTES + length;
    if (end > log.length) return stop('short-payload');
    const payload = log.subarray(at + RECORD_HEADER_BYTES, end);
    if (crc32(payload) !== log.readUInt32LE(at + 4)) return stop('crc-mismatch');
    records.push(Buffer.from(payload));
    at = end;
  }
  return { records, validBytes: at };
}

export function encodeSnapshot(payload: Uint8Array): Buffer {
  return Buffer.concat([SNAPSHOT_MAGIC, frameRecord(payload)]);
}

/** The snapshot's payload, or why the file is not a snapshot. */
export function decodeSnapshot(file: Buffer): { payload: Buffer } | { invalid: string } {
  const head = SNAPSHOT_MAGIC.length + RECORD_HEADER_BYTES;
  if (file.length < head) return { invalid: `${file.length} bytes is shorter than a snapshot header` };
  if (!file.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) return { invalid: 'no SNAP magic' };
  const length = file.readUInt32LE(SNAPSHOT_MAGIC.length);
  if (head + length !== file.length) return { invalid: `frame of ${length} bytes in a file of ${file.length}` };
  const payload = file.subarray(head);
  if (crc32(payload) !== file.readUInt32LE(SNAPSHOT_MAGIC.length + 4)) return { invalid: 'crc mismatch' };
  return { payload: Buffer.from(payload) };
}

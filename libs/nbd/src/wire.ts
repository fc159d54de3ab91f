// Encoders for what the server sends and decoders for the fixed headers the client sends.
import {
  NBD_FLAG_FIXED_NEWSTYLE,
  NBD_FLAG_NO_ZEROES,
  NBD_INIT_PASSWD,
  NBD_INFO,
  NBD_OPTS_MAGIC,
  NBD_REP,
  NBD_REP_MAGIC,
  NBD_REPLY_FLAG_DONE,
  NBD_REPLY_TYPE,
  NBD_SIMPLE_REPLY_MAGIC,
  NBD_STRUCTURED_REPLY_MAGIC,
  NBD_MAX_STRING,
} from './constants.js';
import type { NbdBlockSize, NbdExtent } from './export.js';

/** S: NBDMAGIC, IHAVEOPT, 16-bit handshake flags. */
export function encodeGreeting(): Buffer {
  const b = Buffer.alloc(18);
  b.writeBigUInt64BE(NBD_INIT_PASSWD, 0);
  b.writeBigUInt64BE(NBD_OPTS_MAGIC, 8);
  b.writeUInt16BE(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES, 16);
  return b;
}

/** A fixed-newstyle option reply: magic, option, reply type, length, data. */
export function encodeOptionReply(option: number, type: number, data: Uint8Array = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(20 + data.length);
  b.writeBigUInt64BE(NBD_REP_MAGIC, 0);
  b.writeUInt32BE(option, 8);
  b.writeUInt32BE(type, 12);
  b.writeUInt32BE(data.length, 16);
  b.set(data, 20);
  return b;
}

/** Strings are UTF-8 and at most 4096 bytes; an over-long message is cut, never sent whole. */
export function nbdString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return b.length <= NBD_MAX_STRING ? b : b.subarray(0, NBD_MAX_STRING);
}

export function encodeRepServer(option: number, name: string): Buffer {
  const n = nbdString(name);
  const d = Buffer.alloc(4 + n.length);
  d.writeUInt32BE(n.length, 0);
  n.copy(d, 4);
  return encodeOptionReply(option, NBD_REP.NBD_REP_SERVER, d);
}

export function encodeInfoExport(option: number, size: number, flags: number): Buffer {
  const d = Buffer.alloc(12);
  d.writeUInt16BE(NBD_INFO.NBD_INFO_EXPORT, 0);
  d.writeBigUInt64BE(BigInt(size), 2);
  d.writeUInt16BE(flags, 10);
  return encodeOptionReply(option, NBD_REP.NBD_REP_INFO, d);
}

export function encodeInfoString(option: number, info: number, s: string): Buffer {
  const n = nbdString(s);
  const d = Buffer.alloc(2 + n.length);
  d.writeUInt16BE(info, 0);
  n.copy(d, 2);
  return encodeOptionReply(option, NBD_REP.NBD_REP_INFO, d);
}

export function encodeInfoBlockSize(option: number, bs: NbdBlockSize): Buffer {
  const d = Buffer.alloc(14);
  d.writeUInt16BE(NBD_INFO.NBD_INFO_BLOCK_SIZE, 0);
  d.writeUInt32BE(bs.min, 2);
  d.writeUInt32BE(bs.preferred, 6);
  d.writeUInt32BE(bs.max, 10);
  return encodeOptionReply(option, NBD_REP.NBD_REP_INFO, d);
}

export function encodeMetaContext(option: number, id: number, name: string): Buffer {
  const n = nbdString(name);
  const d = Buffer.alloc(4 + n.length);
  d.writeUInt32BE(id, 0);
  n.copy(d, 4);
  return encodeOptionReply(option, NBD_REP.NBD_REP_META_CONTEXT, d);
}

/** Reply to NBD_OPT_EXPORT_NAME: size, transmission flags, and 124 zeroes unless NO_ZEROES. */
export function encodeExportNameReply(size: number, flags: number, noZeroes: boolean): Buffer {
  const b = Buffer.alloc(noZeroes ? 10 : 134);
  b.writeBigUInt64BE(BigInt(size), 0);
  b.writeUInt16BE(flags, 8);
  return b;
}

/** S: simple reply magic, error, cookie (the request's 8 bytes echoed as they came). */
export function encodeSimpleReply(error: number, cookie: Uint8Array): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(NBD_SIMPLE_REPLY_MAGIC, 0);
  b.writeUInt32BE(error, 4);
  b.set(cookie, 8);
  return b;
}

/** The 20-byte header of a structured reply chunk; `length` bytes of payload follow it. */
export function encodeChunkHeader(flags: number, type: number, cookie: Uint8Array, length: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt32BE(NBD_STRUCTURED_REPLY_MAGIC, 0);
  b.writeUInt16BE(flags, 4);
  b.writeUInt16BE(type, 6);
  b.set(cookie, 8);
  b.writeUInt32BE(length, 16);
  return b;
}

/** NBD_REPLY_TYPE_OFFSET_DATA's header and offset; the data follows (sent separately, not copied). */
export function encodeOffsetDataHead(done: boolean, cookie: Uint8Array, offset: number, dataLength: number): Buffer {
  const b = Buffer.alloc(28);
  encodeChunkHeader(
    done ? NBD_REPLY_FLAG_DONE : 0,
    NBD_REPLY_TYPE.NBD_REPLY_TYPE_OFFSET_DATA,
    cookie,
    8 + dataLength,
  ).copy(b);
  b.writeBigUInt64BE(BigInt(offset), 20);
  return b;
}

export function encodeOffsetHole(done: boolean, cookie: Uint8Array, offset: number, length: number): Buffer {
  const b = Buffer.alloc(32);
  encodeChunkHeader(done ? NBD_REPLY_FLAG_DONE : 0, NBD_REPLY_TYPE.NBD_REPLY_TYPE_OFFSET_HOLE, cookie, 12).copy(b);
  b.writeBigUInt64BE(BigInt(offset), 20);
  b.writeUInt32BE(length, 28);
  return b;
}

export function encodeChunkNone(cookie: Uint8Array): Buffer {
  return encodeChunkHeader(NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE.NBD_REPLY_TYPE_NONE, cookie, 0);
}

/** NBD_REPLY_TYPE_ERROR, final: error, message length, message. */
export function encodeChunkError(cookie: Uint8Array, error: number, message: string): Buffer {
  const m = nbdString(message);
  const b = Buffer.alloc(26 + m.length);
  encodeChunkHeader(NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE.NBD_REPLY_TYPE_ERROR, cookie, 6 + m.length).copy(b);
  b.writeUInt32BE(error, 20);
  b.writeUInt16BE(m.length, 24);
  m.copy(b, 26);
  return b;
}

/** NBD_REPLY_TYPE_BLOCK_STATUS for one context: id, then (length, flags) per extent. */
export function encodeBlockStatus(
  done: boolean,
  cookie: Uint8Array,
  contextId: number,
  extents: readonly NbdExtent[],
): Buffer {
  const len = 4 + 8 * extents.length;
  const b = Buffer.alloc(20 + len);
  encodeChunkHeader(done ? NBD_REPLY_FLAG_DONE : 0, NBD_REPLY_TYPE.NBD_REPLY_TYPE_BLOCK_STATUS, cookie, len).copy(b);
  b.writeUInt32BE(contextId, 20);
  let o = 24;
  for (const e of extents) {
    b.writeUInt32BE(e.length, o);
    b.writeUInt32BE(e.flags, o + 4);
    o += 8;
  }
  return b;
}

/** C: request header (28 bytes). The cookie stays raw bytes: it is opaque to the server. */
export interface NbdRequestHeader {
  readonly magic: number;
  readonly flags: number;
  readonly type: number;
  readonly cookie: Buffer;
  readonly offset: bigint;
  readonly length: number;
}

export function decodeRequestHeader(b: Buffer): NbdRequestHeader {
  return {
    magic: b.readUInt32BE(0),
    flags: b.readUInt16BE(4),
    type: b.readUInt16BE(6),
    cookie: Buffer.from(b.subarray(8, 16)),
    offset: b.readBigUInt64BE(16),
    length: b.readUInt32BE(24),
  };
}

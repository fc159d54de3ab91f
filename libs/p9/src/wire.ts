// Little-endian readers and writers for 9P fields. A read past the end is a malformed message (EINVAL).
import { P9Error } from './errors.js';

/** A 13-byte qid: type[1] version[4] path[8]. */
export interface P9Qid {
  type: number;
  version: number;
  path: bigint;
}

export class P9Reader {
  private pos: number;
  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly what: string,
  ) {
    this.pos = start;
  }
  get offset(): number {
    return this.pos;
  }
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  private need(n: number, field: string): void {
    if (this.pos + n > this.buf.length) {
      throw new P9Error('EINVAL', `${this.what}: ${field} runs past the end of the message (offset ${this.pos})`);
    }
  }
  u8(field: string): number {
    this.need(1, field);
    return this.buf.readUInt8(this.pos++);
  }
  u16(field: string): number {
    this.need(2, field);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(field: string): number {
    this.need(4, field);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(field: string): bigint {
    this.need(8, field);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(n: number, field: string): Buffer {
    this.need(n, field);
    const v = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return v;
  }
  str(field: string): string {
    const n = this.u16(`${field} length`);
    const raw = this.bytes(n, field);
    const s = raw.toString('utf8');
    // A name that is not valid UTF-8 would not survive a round trip through JS strings.
    if (!Buffer.from(s, 'utf8').equals(raw)) throw new P9Error('EINVAL', `${this.what}: ${field} is not UTF-8`);
    return s;
  }
  qid(field: string): P9Qid {
    return { type: this.u8(`${field}.type`), version: this.u32(`${field}.version`), path: this.u64(`${field}.path`) };
  }
}

export class P9Writer {
  private chunks: Buffer[] = [];
  private len = 0;
  private push(b: Buffer): void {
    this.chunks.push(b);
    this.len += b.length;
  }
  get length(): number {
    return this.len;
  }
  u8(v: number): void {
    const b = Buffer.alloc(1);
    b.writeUInt8(v);
    this.push(b);
  }
  u16(v: number): void {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v);
    this.push(b);
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  u64(v: bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    this.push(b);
  }
  bytes(v: Uint8Array): void {
    this.push(Buffer.from(v));
  }
  str(v: string): void {
    const b = Buffer.from(v, 'utf8');
    if (b.length > 0xffff) throw new P9Error('EINVAL', `string of ${b.length} bytes does not fit a 9P string`);
    this.u16(b.length);
    this.push(b);
  }
  qid(q: P9Qid): void {
    this.u8(q.type);
    this.u32(q.version);
    this.u64(q.path);
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.len);
  }
}

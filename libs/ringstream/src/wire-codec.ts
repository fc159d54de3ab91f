// ring.proto's messages to and from protobuf bytes, written out by hand for the data path: a batch of 256
// grant copies through protobufjs's object conversion costs more than the copies themselves. Field
// numbers and types are ring.proto's (libs/proto); test/wire-codec.spec.ts checks every message both ways
// against protobufjs loading that file. Decoded bytes fields are views of the received message, not copies.
import type {
  WireBackMessage,
  WireChallenge,
  WireConnected,
  WireFrontMessage,
  WireGrantCopy,
  WireHello,
  WireProof,
  WireRequestBatch,
  WireResponseBatch,
} from '@dominion/proto';
import { RingStreamError } from './errors.js';

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

// ---- encoding: sizes first, then one buffer written front to back ----

function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  let n = 5;
  for (v = Math.floor(v / 0x800000000); v >= 1; v = Math.floor(v / 128)) n++;
  return n;
}

/** Size of a length-delimited field (tag, length, body). Tags here are all one byte. */
function lenField(body: number): number {
  return 1 + varintSize(body) + body;
}

function varintField(v: number): number {
  return v === 0 ? 0 : 1 + varintSize(v);
}

class Out {
  readonly buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  varint(v: number): void {
    while (v >= 128) {
      this.buf[this.pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  tag(field: number, type: number): void {
    this.buf[this.pos++] = (field << 3) | type;
  }
  uint(field: number, v: number): void {
    if (v === 0) return;
    this.tag(field, VARINT);
    this.varint(v);
  }
  bytes(field: number, b: Uint8Array): void {
    if (b.length === 0) return;
    this.tag(field, LEN);
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  head(field: number, size: number): void {
    this.tag(field, LEN);
    this.varint(size);
  }
}

function checkUint(v: unknown, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max)
    throw new RingStreamError('EINVAL', `${what}: ${String(v)} is not a u${max === 0xffffffff ? 32 : 64}`);
  return v;
}
const u32 = (v: unknown, what: string) => checkUint(v, 0xffffffff, what);
const u64 = (v: unknown, what: string) => checkUint(v, Number.MAX_SAFE_INTEGER, what);

function bytesField(b: Uint8Array): number {
  return b.length === 0 ? 0 : lenField(b.length);
}

interface EntrySizes {
  body: number;
  copies: number[];
}

function copySize(c: WireGrantCopy): number {
  return (
    varintField(u32(c.ref, 'grant copy ref')) + varintField(u32(c.offset, 'grant copy offset')) + bytesField(c.data)
  );
}

function entrySizes(head: Uint8Array, copies: readonly WireGrantCopy[]): EntrySizes {
  const sizes = copies.map(copySize);
  let body = bytesField(head);
  for (const s of sizes) body += lenField(s);
  return { body, copies: sizes };
}

function writeEntry(o: Out, head: Uint8Array, copies: readonly WireGrantCopy[], s: EntrySizes): void {
  o.bytes(1, head);
  copies.forEach((c, i) => {
    o.head(2, s.copies[i]);
    o.uint(1, c.ref);
    o.uint(2, c.offset);
    o.bytes(3, c.data);
  });
}

function encodeBatch(
  field: number,
  prod: number,
  entries: ReadonlyArray<{ head: Uint8Array; copies: readonly WireGrantCopy[] }>,
): Buffer {
  const sizes = entries.map((e) => entrySizes(e.head, e.copies));
  let body = varintField(u32(prod, 'producer index'));
  for (const s of sizes) body += lenField(s.body);
  const o = new Out(lenField(body));
  o.head(field, body);
  o.uint(1, prod);
  entries.forEach((e, i) => {
    o.head(2, sizes[i].body);
    writeEntry(o, e.head, e.copies, sizes[i]);
  });
  return o.buf;
}

/** Fields of a small message as [field, kind, value]; zero and empty values are left out, as proto3 does. */
type Small = Array<[number, 'u' | 's', number | string]>;

function encodeSmall(field: number, fields: Small): Buffer {
  const enc = fields.map(([f, k, v]) => [f, k, k === 's' ? utf8.encode(v as string) : v] as const);
  let body = 0;
  for (const [, k, v] of enc) body += k === 's' ? bytesField(v as Uint8Array) : varintField(v as number);
  const o = new Out(lenField(body));
  o.head(field, body);
  for (const [f, k, v] of enc) {
    if (k === 's') o.bytes(f, v as Uint8Array);
    else o.uint(f, v as number);
  }
  return o.buf;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new RingStreamError('EINVAL', `${what} is not a string`);
  return v;
}

export function encodeFrontMessage(m: WireFrontMessage): Buffer {
  if ('requests' in m && m.requests) {
    const b: WireRequestBatch = m.requests;
    return encodeBatch(
      3,
      b.reqProd,
      b.requests.map((r) => ({ head: r.req, copies: r.copies })),
    );
  }
  if ('hello' in m && m.hello) {
    const h: WireHello = m.hello;
    return encodeSmall(1, [
      [1, 's', str(h.device, 'hello device')],
      [2, 'u', u32(h.ringRef, 'hello ring_ref')],
      [3, 'u', u32(h.frontendDomid, 'hello frontend_domid')],
      [4, 'u', u32(h.queue, 'hello queue')],
      [5, 's', str(h.protocol, 'hello protocol')],
    ]);
  }
  if ('proof' in m && m.proof) {
    const p: WireProof = m.proof;
    return encodeSmall(2, [[1, 's', str(p.sig, 'proof sig')]]);
  }
  throw new RingStreamError('EINVAL', 'front message has none of hello, proof, requests');
}

export function encodeBackMessage(m: WireBackMessage): Buffer {
  if ('responses' in m && m.responses) {
    const b: WireResponseBatch = m.responses;
    return encodeBatch(
      3,
      b.rspProd,
      b.responses.map((r) => ({ head: r.rsp, copies: r.copies })),
    );
  }
  if ('challenge' in m && m.challenge) {
    const c: WireChallenge = m.challenge;
    return encodeSmall(1, [
      [1, 'u', u32(c.backend, 'challenge backend')],
      [2, 's', str(c.device, 'challenge device')],
      [3, 'u', u32(c.ringRef, 'challenge ring_ref')],
      [4, 'u', u32(c.frontend, 'challenge frontend')],
      [5, 'u', u64(c.expiresAt, 'challenge expires_at')],
      [6, 's', str(c.nonce, 'challenge nonce')],
    ]);
  }
  if ('connected' in m && m.connected) {
    const c: WireConnected = m.connected;
    return encodeSmall(2, [
      [1, 'u', u32(c.ringSize, 'connected ring_size')],
      [2, 'u', u32(c.backend, 'connected backend')],
    ]);
  }
  throw new RingStreamError('EINVAL', 'back message has none of challenge, connected, responses');
}

// ---- decoding ----

class In {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  more(): boolean {
    return this.pos < this.end;
  }
  fail(what: string): never {
    throw new RingStreamError('EPROTO', `ring message: ${what} at byte ${this.pos}`);
  }
  /** A varint as a number: exact up to 2^53, the low 32 bits kept exactly beyond (uint32 fields take those). */
  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.buf[this.pos++];
      v += (b & 127) * mul;
      if (b < 128) return v;
      mul *= 128;
    }
    this.fail('varint longer than 10 bytes');
  }
  u32(): number {
    return this.varint() % 0x100000000;
  }
  sub(): In {
    const n = this.varint();
    if (n > this.end - this.pos) this.fail(`field of ${n} bytes overruns the message`);
    const s = new In(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  bytes(): Buffer {
    const s = this.sub();
    return this.buf.subarray(s.pos, s.end);
  }
  string(): string {
    try {
      return fromUtf8.decode(this.bytes());
    } catch {
      this.fail('string is not UTF-8');
    }
  }
  skip(type: number): void {
    if (type === VARINT) this.varint();
    else if (type === LEN) this.sub();
    else if (type === I64) this.advance(8);
    else if (type === I32) this.advance(4);
    else this.fail(`wire type ${type}`);
  }
  private advance(n: number): void {
    if (n > this.end - this.pos) this.fail('truncated fixed field');
    this.pos += n;
  }
  /** Calls `on(field, type)` for each field; `on` returns false for fields it does not read. */
  fields(on: (field: number, type: number) => boolean): void {
    while (this.more()) {
      const key = this.varint();
      const field = Math.floor(key / 8);
      const type = key % 8;
      if (field === 0) this.fail('field number 0');
      if (!on(field, type)) this.skip(type);
    }
  }
}

const EMPTY: Buffer = Buffer.alloc(0);

function expect(type: number, want: number, r: In, field: number): boolean {
  if (type !== want) r.fail(`field ${field} has wire type ${type}, not ${want}`);
  return true;
}

function readCopy(r: In): WireGrantCopy {
  const c: WireGrantCopy = { ref: 0, offset: 0, data: EMPTY };
  r.fields((f, t) => {
    if (f === 1 && expect(t, VARINT, r, f)) c.ref = r.u32();
    else if (f === 2 && expect(t, VARINT, r, f)) c.offset = r.u32();
    else if (f === 3 && expect(t, LEN, r, f)) c.data = r.bytes();
    else return false;
    return true;
  });
  return c;
}

function readEntry(r: In): { head: Buffer; copies: WireGrantCopy[] } {
  const e: { head: Buffer; copies: WireGrantCopy[] } = { head: EMPTY, copies: [] };
  r.fields((f, t) => {
    if (f === 1 && expect(t, LEN, r, f)) e.head = r.bytes();
    else if (f === 2 && expect(t, LEN, r, f)) e.copies.push(readCopy(r.sub()));
    else return false;
    return true;
  });
  return e;
}

function readBatch(r: In): { prod: number; entries: Array<{ head: Buffer; copies: WireGrantCopy[] }> } {
  const b = { prod: 0, entries: [] as Array<{ head: Buffer; copies: WireGrantCopy[] }> };
  r.fields((f, t) => {
    if (f === 1 && expect(t, VARINT, r, f)) b.prod = r.u32();
    else if (f === 2 && expect(t, LEN, r, f)) b.entries.push(readEntry(r.sub()));
    else return false;
    return true;
  });
  return b;
}

function readSmall(r: In, kinds: Record<number, 'u' | 'u64' | 's'>): Map<number, number | string> {
  const out = new Map<number, number | string>();
  r.fields((f, t) => {
    const k = kinds[f];
    if (k === undefined) return false;
    expect(t, k === 's' ? LEN : VARINT, r, f);
    out.set(f, k === 's' ? r.string() : k === 'u' ? r.u32() : r.varint());
    return true;
  });
  return out;
}

const num = (m: Map<number, number | string>, f: number) => (m.get(f) as number | undefined) ?? 0;
const text = (m: Map<number, number | string>, f: number) => (m.get(f) as string | undefined) ?? '';

export function decodeFrontMessage(buf: Buffer): WireFrontMessage {
  const r = new In(buf, 0, buf.length);
  const got: { msg?: WireFrontMessage } = {};
  r.fields((f, t) => {
    if (f < 1 || f > 3) return false;
    expect(t, LEN, r, f);
    const s = r.sub();
    if (f === 1) {
      const m = readSmall(s, { 1: 's', 2: 'u', 3: 'u', 4: 'u', 5: 's' });
      got.msg = {
        msg: 'hello',
        hello: {
          device: text(m, 1),
          ringRef: num(m, 2),
          frontendDomid: num(m, 3),
          queue: num(m, 4),
          protocol: text(m, 5),
        },
      };
    } else if (f === 2) {
      got.msg = { msg: 'proof', proof: { sig: text(readSmall(s, { 1: 's' }), 1) } };
    } else {
      const b = readBatch(s);
      got.msg = {
        msg: 'requests',
        requests: { reqProd: b.prod, requests: b.entries.map((e) => ({ req: e.head, copies: e.copies })) },
      };
    }
    return true;
  });
  return got.msg ?? r.fail('front message with none of hello, proof, requests');
}

export function decodeBackMessage(buf: Buffer): WireBackMessage {
  const r = new In(buf, 0, buf.length);
  const got: { msg?: WireBackMessage } = {};
  r.fields((f, t) => {
    if (f < 1 || f > 3) return false;
    expect(t, LEN, r, f);
    const s = r.sub();
    if (f === 1) {
      const m = readSmall(s, { 1: 'u', 2: 's', 3: 'u', 4: 'u', 5: 'u64', 6: 's' });
      got.msg = {
        msg: 'challenge',
        challenge: {
          backend: num(m, 1),
          device: text(m, 2),
          ringRef: num(m, 3),
          frontend: num(m, 4),
          expiresAt: num(m, 5),
          nonce: text(m, 6),
        },
      };
    } else if (f === 2) {
      const m = readSmall(s, { 1: 'u', 2: 'u' });
      got.msg = { msg: 'connected', connected: { ringSize: num(m, 1), backend: num(m, 2) } };
    } else {
      const b = readBatch(s);
      got.msg = {
        msg: 'responses',
        responses: { rspProd: b.prod, responses: b.entries.map((e) => ({ rsp: e.head, copies: e.copies })) },
      };
    }
    return true;
  });
  return got.msg ?? r.fail('back message with none of challenge, connected, responses');
}

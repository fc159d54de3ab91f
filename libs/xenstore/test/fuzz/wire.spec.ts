// Property tests of the xs_wire codec, the bytes other domains feed xenstored: whatever arrives, in whatever
// chunks, the parser yields messages or fails with a XenstoreError, and never holds more than one header and
// one XENSTORE_PAYLOAD_MAX payload. The reference framing below reads the header by hand (u32 LE at 0, 4, 8,
// 12), not through the codec. Fixed seed for a repeatable CI run; FC_SEED=<n> explores others.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG_SIZE } from '@dominion/abi';
import { XenstoreError } from '../../src/errors.js';
import { decodeXsMessage, encodeXsMessage, XsWireParser, type XsMessage } from '../../src/wire/index.js';

const RUNS = { numRuns: 300, seed: Number(process.env.FC_SEED ?? 0x5eed) };
const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** A header as raw bytes; `len` may lie. */
function header(type: number, reqId: number, txId: number, len: number): Uint8Array {
  const b = new Uint8Array(XSD_SOCKMSG_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, reqId, true);
  v.setUint32(8, txId, true);
  v.setUint32(12, len, true);
  return b;
}

/** A frame whose len is mostly plausible, sometimes huge, followed by up to 64 payload bytes (len may lie). */
const frame = fc
  .tuple(
    u32,
    u32,
    u32,
    fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 64 }) },
      { weight: 1, arbitrary: fc.constantFrom(XENSTORE_PAYLOAD_MAX, XENSTORE_PAYLOAD_MAX + 1) },
      { weight: 1, arbitrary: u32 },
    ),
    fc.uint8Array({ maxLength: 64 }),
  )
  .map(([t, r, x, len, body]) => Buffer.concat([header(t, r, x, len), body]));

const message = fc.record({
  type: u32,
  reqId: u32,
  txId: u32,
  payload: fc
    .oneof(
      { weight: 8, arbitrary: fc.uint8Array({ maxLength: 200 }) },
      { weight: 1, arbitrary: fc.constant(new Uint8Array(XENSTORE_PAYLOAD_MAX).fill(0x61)) },
    )
    .map((a) => Buffer.from(a)),
});

/** Arbitrary split points of `bytes` into chunks (empty chunks included). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
}

/** The whole frames in order (with the offset each ends at), and where a header over the limit ends, if any. */
type Framing = { messages: XsMessage[]; ends: number[]; tooBigAt: number | undefined };

/** What a reader of struct xsd_sockmsg must make of a whole stream. */
function reference(bytes: Buffer): Framing {
  const messages: XsMessage[] = [];
  const ends: number[] = [];
  let at = 0;
  while (bytes.length - at >= XSD_SOCKMSG_SIZE) {
    const v = new DataView(bytes.buffer, bytes.byteOffset + at, XSD_SOCKMSG_SIZE);
    const len = v.getUint32(12, true);
    if (len > XENSTORE_PAYLOAD_MAX) return { messages, ends, tooBigAt: at + XSD_SOCKMSG_SIZE };
    if (bytes.length - at - XSD_SOCKMSG_SIZE < len) break;
    messages.push({
      type: v.getUint32(0, true),
      reqId: v.getUint32(4, true),
      txId: v.getUint32(8, true),
      payload: Buffer.from(bytes.subarray(at + XSD_SOCKMSG_SIZE, at + XSD_SOCKMSG_SIZE + len)),
    });
    at += XSD_SOCKMSG_SIZE + len;
    ends.push(at);
  }
  return { messages, ends, tooBigAt: undefined };
}

/** Payloads as hex: jest's deep equality walks a Buffer byte by byte, far too slowly for 4 KiB ones. */
const shown = (ms: readonly XsMessage[]) => ms.map((m) => ({ ...m, payload: m.payload.toString('hex') }));

function kindOf(e: unknown): string {
  if (!(e instanceof XenstoreError)) throw e;
  return e.kind;
}

describe('XsWireParser on arbitrary streams', () => {
  // The chunk that completes an oversized header still yields the messages framed before that header (C
  // xenstored handles them before it reads the bad one); the parser then stops with E2BIG and later feeds
  // throw EINVAL.
  it('yields every frame a by-hand reader finds before a header over the limit, then stops with E2BIG', () => {
    fc.assert(
      fc.property(
        fc.array(frame, { maxLength: 6 }),
        fc.uint8Array({ maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (frames, tail, cuts) => {
          const bytes = Buffer.concat([...frames, tail]);
          const want = reference(bytes);
          const p = new XsWireParser();
          const got: XsMessage[] = [];
          let failedAt: number | undefined;
          let fed = 0;
          for (const chunk of split(bytes, cuts)) {
            try {
              got.push(...p.feed(chunk));
              expect(p.buffered).toBeLessThan(XSD_SOCKMSG_SIZE + XENSTORE_PAYLOAD_MAX);
              if (p.failed) failedAt ??= fed + chunk.length;
            } catch (e) {
              expect(failedAt).toBeDefined();
              expect(kindOf(e)).toBe('EINVAL');
            }
            fed += chunk.length;
            if (failedAt === undefined && want.tooBigAt !== undefined) expect(fed).toBeLessThan(want.tooBigAt);
          }
          const upTo = want.tooBigAt ?? bytes.length;
          expect(got).toEqual(want.messages.filter((_, i) => want.ends[i] <= upTo));
          expect(failedAt !== undefined).toBe(want.tooBigAt !== undefined);
          expect(p.failed?.kind).toBe(want.tooBigAt === undefined ? undefined : 'E2BIG');
        },
      ),
      RUNS,
    );
  });

  it('fails a header announcing more than XENSTORE_PAYLOAD_MAX on the chunk that completes it', () => {
    fc.assert(
      fc.property(
        u32,
        fc.integer({ min: XENSTORE_PAYLOAD_MAX + 1, max: 0xffffffff }),
        fc.integer({ min: 1, max: XSD_SOCKMSG_SIZE }),
        (type, len, cut) => {
          const h = header(type, 7, 0, len);
          const p = new XsWireParser();
          if (cut < XSD_SOCKMSG_SIZE) expect(p.feed(h.subarray(0, cut))).toEqual([]);
          expect(p.feed(h.subarray(cut < XSD_SOCKMSG_SIZE ? cut : 0))).toEqual([]);
          expect(p.failed?.kind).toBe('E2BIG');
          expect(p.buffered).toBe(0);
          expect(() => p.feed(Buffer.alloc(1))).toThrow(/stopped after an earlier error/);
        },
      ),
      RUNS,
    );
  });

  it('round-trips valid messages fed in arbitrary chunk splits, copies out of the caller’s chunks', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 16 }), (msgs, cuts) => {
        const chunks = split(Buffer.concat(msgs.map(encodeXsMessage)), cuts);
        const p = new XsWireParser();
        const got = chunks.flatMap((c) => p.feed(c));
        for (const c of chunks) c.fill(0xee); // a socket reuses its buffers
        expect(shown(got)).toEqual(shown(msgs));
        expect(p.buffered).toBe(0);
      }),
      RUNS,
    );
  });
});

describe('decodeXsMessage on arbitrary bytes', () => {
  it('returns the one message the bytes frame, or throws EPROTO / E2BIG', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      frame.map((f) => new Uint8Array(f)),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        const buf = Buffer.from(b);
        const want = reference(buf);
        const whole = want.messages.length === 1 && buf.length === XSD_SOCKMSG_SIZE + want.messages[0].payload.length;
        try {
          expect(decodeXsMessage(b)).toEqual(want.messages[0]);
          expect(whole).toBe(true);
        } catch (e) {
          expect(kindOf(e)).toBe(want.tooBigAt !== undefined ? 'E2BIG' : 'EPROTO');
          expect(whole).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it('decodes what encodeXsMessage wrote', () => {
    fc.assert(
      fc.property(message, (m) => expect(shown([decodeXsMessage(encodeXsMessage(m))])).toEqual(shown([m]))),
      RUNS,
    );
  });
});

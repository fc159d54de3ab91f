// Property tests of what a frontend domain can put on a netif tx ring: consumeTxSlots takes any slots and any
// grant map and answers every slot it consumes, refusing bad packets one by one, never throwing; the slot
// decoders take any bytes. Slots are written by hand from io/netif.h offsets, not through the codec. Fixed
// seed for a repeatable CI run; FC_SEED=<n> explores others.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  NETIF_RSP,
  NETTXF,
  NetifError,
  consumeTxSlots,
  decodeExtraInfo,
  decodeRxRequest,
  decodeRxResponse,
  decodeTxRequest,
  decodeTxResponse,
  encodeExtraInfo,
  encodeRxRequest,
  encodeRxResponse,
  encodeTxRequest,
  encodeTxResponse,
  reassembleRx,
} from '../src/index.js';

const RUNS = { numRuns: 400, seed: Number(process.env.FC_SEED ?? 0x5eed) };
const FLAGS = [
  NETTXF.NETTXF_csum_blank,
  NETTXF.NETTXF_data_validated,
  NETTXF.NETTXF_more_data,
  NETTXF.NETTXF_extra_info,
];

/** struct netif_tx_request: gref u32 @0, offset u16 @4, flags u16 @6, id u16 @8, size u16 @10. */
const txRequestSlot = fc
  .record({
    gref: fc.oneof({ weight: 5, arbitrary: fc.nat(5) }, { weight: 1, arbitrary: fc.nat(0xffffffff) }),
    offset: fc.oneof({ weight: 3, arbitrary: fc.nat(64) }, { weight: 1, arbitrary: fc.nat(0xffff) }),
    flags: fc.oneof(
      { weight: 5, arbitrary: fc.subarray(FLAGS).map((f) => f.reduce((a, b) => a | b, 0)) },
      { weight: 1, arbitrary: fc.nat(0xffff) },
    ),
    id: fc.nat(0xffff),
    size: fc.oneof({ weight: 3, arbitrary: fc.nat(200) }, { weight: 1, arbitrary: fc.nat(0xffff) }),
  })
  .map((r) => {
    const v = new DataView(new ArrayBuffer(12));
    v.setUint32(0, r.gref, true);
    v.setUint16(4, r.offset, true);
    v.setUint16(6, r.flags, true);
    v.setUint16(8, r.id, true);
    v.setUint16(10, r.size, true);
    return new Uint8Array(v.buffer);
  });
/** struct netif_extra_info in a 12-byte slot: type u8 @0, flags u8 @1 (XEN_NETIF_EXTRA_FLAG_MORE), union. */
const extraSlot = fc
  .tuple(fc.nat(6), fc.nat(3), fc.uint8Array({ minLength: 10, maxLength: 10 }))
  .map(([type, flags, rest]) => Uint8Array.from([type, flags, ...rest]));
const slot = fc.oneof(
  { weight: 6, arbitrary: txRequestSlot },
  { weight: 2, arbitrary: extraSlot },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 12, maxLength: 12 }) },
  // Slots travel as byte arrays on a stream the frontend writes: their length is its choice too.
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 16 }) },
);

describe('consumeTxSlots on arbitrary slots', () => {
  it('answers every consumed slot, refuses bad packets alone, never throws', () => {
    const granted = fc.uniqueArray(fc.nat(5), { maxLength: 6 });
    fc.assert(
      fc.property(fc.array(slot, { maxLength: 40 }), granted, fc.constantFrom(8, 32, 256), (raw, grefs, ringSize) => {
        const pages = new Map(grefs.map((g) => [g, new Uint8Array(4096).fill(g + 1)]));
        const batch = consumeTxSlots(raw, (g) => pages.get(g), { ringSize });
        expect(batch.consumed).toBeLessThanOrEqual(raw.length);
        expect(batch.responses).toHaveLength(batch.consumed);
        const ids = batch.packets.flatMap((p) => p.requestIds);
        const answered = batch.responses.filter((r) => r.status !== NETIF_RSP.NETIF_RSP_NULL);
        expect(answered.map((r) => r.id)).toEqual(ids);
        let at = 0;
        for (const p of batch.packets) {
          const mine = answered.slice(at, (at += p.requestIds.length));
          expect(p.requestIds.length).toBeGreaterThan(0);
          if (p.ok) {
            expect(mine.every((r) => r.status === NETIF_RSP.NETIF_RSP_OKAY)).toBe(true);
            expect(p.frame.length).toBe(decodeTxRequest(raw[batch.responses.indexOf(mine[0])]).size);
          } else {
            expect(p.error).toBeInstanceOf(NetifError);
            expect(['EPROTO', 'E2BIG', 'EFAULT']).toContain(p.error.kind);
            expect(p.error.requestIds).toEqual(p.requestIds);
            expect(mine.every((r) => r.status === NETIF_RSP.NETIF_RSP_ERROR)).toBe(true);
          }
        }
        // What is left is one packet's beginning, waiting for its last slot.
        if (batch.consumed < raw.length) {
          expect(raw.length - batch.consumed).toBeLessThan(ringSize);
          const rest = consumeTxSlots(raw.slice(batch.consumed), (g) => pages.get(g), { ringSize });
          expect(rest.consumed).toBe(0);
        }
      }),
      RUNS,
    );
  });
  // Found by the property above: a short slot used to throw out of consumeTxSlots, taking the batch down.
  it('refuses a short slot as its own packet and goes on with the next (regression)', () => {
    const page = new Uint8Array(4096).fill(0x42);
    // gref 1, offset 0, flags 0, id 7, size 60: a whole one-slot packet.
    const good = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 60, 0]);
    for (const short of [new Uint8Array(0), good.subarray(0, 9)]) {
      const batch = consumeTxSlots([short, good], (g) => (g === 1 ? page : undefined));
      expect(batch.consumed).toBe(2);
      const [bad, ok] = batch.packets;
      expect(bad.ok).toBe(false);
      if (!bad.ok) expect(bad.error.message).toMatch(`tx slot 0 is ${short.length} bytes, a tx request is 12`);
      expect(ok).toMatchObject({ ok: true, requestIds: [7], frame: Buffer.alloc(60, 0x42) });
      expect(batch.responses.map((r) => r.status)).toEqual([NETIF_RSP.NETIF_RSP_ERROR, NETIF_RSP.NETIF_RSP_OKAY]);
    }
  });
});

describe('netif slot decoders on arbitrary bytes', () => {
  const bytes = fc.oneof(
    { weight: 4, arbitrary: fc.uint8Array({ minLength: 12, maxLength: 12 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 16 }) },
  );
  const decoders = [
    { name: 'tx request', size: 12, decode: decodeTxRequest, encode: encodeTxRequest },
    { name: 'tx response', size: 4, decode: decodeTxResponse, encode: encodeTxResponse },
    { name: 'rx request', size: 8, decode: decodeRxRequest, encode: encodeRxRequest },
    { name: 'rx response', size: 8, decode: decodeRxResponse, encode: encodeRxResponse },
  ] as const;

  for (const d of decoders) {
    it(`${d.name}: decodes any ${d.size} bytes or more and re-encodes to the same fields; shorter is EPROTO`, () => {
      fc.assert(
        fc.property(bytes, (b) => {
          let got: unknown;
          try {
            got = d.decode(b);
          } catch (e) {
            expect(e).toBeInstanceOf(NetifError);
            expect((e as NetifError).kind).toBe('EPROTO');
            expect(b.length).toBeLessThan(d.size);
            return;
          }
          expect(b.length).toBeGreaterThanOrEqual(d.size);
          expect(d.decode((d.encode as (x: unknown) => Buffer)(got))).toEqual(got);
        }),
        RUNS,
      );
    });
  }

  it('extra info: decodes the four known types, refuses NONE, unknown types and short slots with EPROTO', () => {
    fc.assert(
      fc.property(fc.oneof(extraSlot, bytes), (b) => {
        let got;
        try {
          got = decodeExtraInfo(b);
        } catch (e) {
          expect(e).toBeInstanceOf(NetifError);
          expect((e as NetifError).kind).toBe('EPROTO');
          expect(b.length < 8 || b[0] === 0 || b[0] > 4).toBe(true);
          return;
        }
        expect(b[0] >= 1 && b[0] <= 4 && b.length >= 8).toBe(true);
        expect(decodeExtraInfo(encodeExtraInfo(got))).toEqual(got);
      }),
      RUNS,
    );
  });

  it('reassembleRx: any responses against any posted pages give a frame or undefined, never a throw', () => {
    const rsp = fc.record({
      id: fc.nat(7),
      offset: fc.nat(0xffff),
      flags: fc.nat(0xffff),
      status: fc.integer({ min: -0x8000, max: 0x7fff }),
    });
    fc.assert(
      fc.property(fc.array(rsp, { maxLength: 6 }), fc.uniqueArray(fc.nat(7)), (rsps, posted) => {
        const pages = new Map(posted.map((id) => [id, new Uint8Array(4096).fill(id)]));
        const frame = reassembleRx(rsps, (id) => pages.get(id));
        if (frame === undefined) return;
        expect(frame.length).toBe(rsps.reduce((n, r) => n + r.status, 0));
      }),
      RUNS,
    );
  });
});

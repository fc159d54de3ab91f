// Property tests of what a frontend domain can put on a blkif ring: any bytes decode (or, too short for the
// operation's struct, fail EPROTO), and validateRequest judges any decoded request without throwing, naming
// its id when it refuses. Offsets are read by hand from io/blkif.h, not through the codec. Fixed seed for a
// repeatable CI run; FC_SEED=<n> explores others.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  BLKIF_OP,
  BLKIF_RSP,
  BlkifError,
  XEN_IO_PROTO_ABI,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  isIndirectRequest,
  validateRequest,
  type BlkifProtocol,
  type BlkifSegment,
  type VbdProperties,
} from '../src/index.js';

const RUNS = { numRuns: 400, seed: Number(process.env.FC_SEED ?? 0x5eed) };
const protocol = fc.constantFrom<BlkifProtocol>(...Object.values(XEN_IO_PROTO_ABI));
/** io/blkif.h: id sits after the 8-byte-aligned header on x86_64/Arm, packed at 4 on x86_32. */
const ID_AT = (p: BlkifProtocol): number => (p === 'x86_32-abi' ? 4 : 8);
const ENTRY = (p: BlkifProtocol): number => (p === 'x86_32-abi' ? 108 : 112);
const RESPONSE = (p: BlkifProtocol): number => (p === 'x86_32-abi' ? 12 : 16);

/** Ring-entry bytes, usually whole, sometimes short; the first byte leans to the known operations. */
const entry = fc
  .tuple(
    fc.oneof({ weight: 4, arbitrary: fc.constant(112) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 111 }) }),
    fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 7 }) }, { weight: 1, arbitrary: fc.nat(255) }),
    fc.oneof({ weight: 1, arbitrary: fc.nat(255) }, { weight: 1, arbitrary: fc.nat(12) }),
    fc.uint8Array({ minLength: 112, maxLength: 112 }),
    fc.nat(7),
  )
  .map(([len, op, second, fill, lead]) => {
    // A view into a larger buffer at an odd offset, as a slot read out of a shared page would be.
    const backing = new Uint8Array(lead + len + 3).fill(0xa5);
    const b = backing.subarray(lead, lead + len);
    b.set(fill.subarray(0, len));
    if (len > 0) b[0] = op;
    if (len > 1) b[1] = second;
    return b;
  });

function neededBytes(b: Uint8Array, p: BlkifProtocol): number {
  if (b.length === 0) return 1;
  if (b[0] === BLKIF_OP.BLKIF_OP_DISCARD) return p === 'x86_32-abi' ? 28 : 32;
  if (b[0] === BLKIF_OP.BLKIF_OP_INDIRECT) return 64;
  return ENTRY(p);
}

function kindOf(e: unknown): string {
  if (!(e instanceof BlkifError)) throw e;
  return e.kind;
}

describe('decodeRequest / decodeResponse on arbitrary bytes', () => {
  it('decodes whatever is long enough for its operation, and re-encodes to the same request', () => {
    fc.assert(
      fc.property(entry, protocol, (b, p) => {
        let req;
        try {
          req = decodeRequest(b, p);
        } catch (e) {
          expect(kindOf(e)).toBe('EPROTO');
          expect(b.length).toBeLessThan(neededBytes(b, p));
          return;
        }
        expect(b.length).toBeGreaterThanOrEqual(neededBytes(b, p));
        const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
        expect(req.operation).toBe(b[0]);
        expect(req.id).toBe(v.getBigUint64(ID_AT(p), true));
        expect(decodeRequest(encodeRequest(req, p), p)).toEqual(req);
      }),
      RUNS,
    );
  });

  it('decodes any response-sized bytes and refuses shorter ones with EPROTO', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), fc.nat(5), protocol, (bytes, lead, p) => {
        const b = new Uint8Array(lead + bytes.length);
        b.set(bytes, lead);
        const view = b.subarray(lead);
        try {
          const rsp = decodeResponse(view, p);
          expect(view.length).toBeGreaterThanOrEqual(RESPONSE(p));
          const v = new DataView(view.buffer, view.byteOffset, view.byteLength);
          expect(rsp).toEqual({ id: v.getBigUint64(0, true), operation: view[8], status: v.getInt16(10, true) });
        } catch (e) {
          expect(kindOf(e)).toBe('EPROTO');
          expect(view.length).toBeLessThan(RESPONSE(p));
        }
      }),
      RUNS,
    );
  });
});

describe('validateRequest on arbitrary requests', () => {
  const vbd = fc.record<VbdProperties>(
    {
      sectors: fc.bigInt({ min: 0n, max: 1n << 40n }),
      sectorSize: fc.constantFrom(512, 1024, 4096),
      readonly: fc.boolean(),
      featureFlushCache: fc.boolean(),
      featureBarrier: fc.boolean(),
      featureDiscard: fc.boolean(),
      discardSecure: fc.boolean(),
      maxIndirectSegments: fc.constantFrom(0, 1, 32, 256, 4096),
    },
    { requiredKeys: ['sectors'] },
  );
  const segment = fc.record<BlkifSegment>({ gref: fc.nat(), firstSect: fc.nat(9), lastSect: fc.nat(9) });
  const whole = entry.filter((b) => b.length === 112);

  it('never throws; refuses with BLKIF_RSP_ERROR / EOPNOTSUPP naming the id, admits only what fits the disk', () => {
    fc.assert(
      fc.property(
        whole,
        protocol,
        vbd,
        fc.option(fc.array(segment, { maxLength: 40 })),
        fc.bigInt({ min: 0n, max: 1n << 41n }),
        (b, p, d, indirect, sector) => {
          const req = decodeRequest(b, p);
          // Sector numbers small enough to land on the disk now and then.
          if (b[2] & 1) req.sectorNumber = sector;
          const verdict = validateRequest(req, d, indirect ?? undefined);
          if (!verdict.ok) {
            expect([BLKIF_RSP.BLKIF_RSP_ERROR, BLKIF_RSP.BLKIF_RSP_EOPNOTSUPP]).toContain(verdict.status);
            expect(verdict.message).toContain(`request id ${req.id} `);
            return;
          }
          const op = isIndirectRequest(req) ? req.indirectOp : req.operation;
          expect([0, 1, 2, 3, 5]).toContain(op);
          // A flush or barrier without segments moves no data: like blkback, its sector_number is not checked.
          if (verdict.nrSectors !== undefined && verdict.nrSectors > 0n) {
            expect(req.sectorNumber + verdict.nrSectors).toBeLessThanOrEqual(d.sectors);
            if (d.readonly) expect(op).toBe(BLKIF_OP.BLKIF_OP_READ);
          }
        },
      ),
      RUNS,
    );
  });
});

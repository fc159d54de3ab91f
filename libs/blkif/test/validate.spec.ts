// Each refusal beside the same request allowed on a device where it is fine.
import {
  BLKIF_OP,
  BLKIF_RSP,
  validateRequest,
  type BlkifRequest,
  type BlkifSegment,
  type VbdProperties,
} from '../src/index.js';

const DISK: VbdProperties = {
  sectors: 8192n, // 4 MiB
  featureFlushCache: true,
  featureBarrier: true,
  featureDiscard: true,
  discardSecure: true,
  maxIndirectSegments: 256,
};
const RO: VbdProperties = { ...DISK, readonly: true };
const BARE: VbdProperties = { sectors: 8192n };
const ERROR = BLKIF_RSP.BLKIF_RSP_ERROR;
const EOPNOTSUPP = BLKIF_RSP.BLKIF_RSP_EOPNOTSUPP;

const seg = (firstSect = 0, lastSect = 7, gref = 8): BlkifSegment => ({ gref, firstSect, lastSect });
function rw(operation: number, sectorNumber: bigint, segments: BlkifSegment[], id = 5n): BlkifRequest {
  return { operation, nrSegments: segments.length, handle: 51712, id, sectorNumber, segments };
}
const WRITE = BLKIF_OP.BLKIF_OP_WRITE;
const READ = BLKIF_OP.BLKIF_OP_READ;

function refused(req: BlkifRequest, vbd: VbdProperties, status: number, why: RegExp, segs?: BlkifSegment[]) {
  const v = validateRequest(req, vbd, segs);
  expect(v.ok).toBe(false);
  if (!v.ok) {
    expect(v.status).toBe(status);
    expect(v.message).toMatch(`request id ${req.id} (`);
    expect(v.message).toMatch(why);
  }
}

describe('validateRequest: read and write', () => {
  it('allows a write that ends on the last sector, refuses one sector more', () => {
    expect(validateRequest(rw(WRITE, 8184n, [seg()]), DISK)).toEqual({ ok: true, nrSectors: 8n });
    refused(rw(WRITE, 8185n, [seg()]), DISK, ERROR, /sectors 8185..8192 run past the end of the disk \(8192 sectors\)/);
    refused(rw(READ, (1n << 64n) - 1n, [seg()]), DISK, ERROR, /run past the end/);
  });

  it('checks first_sect <= last_sect <= 7 per segment', () => {
    expect(validateRequest(rw(READ, 0n, [seg(0, 7), seg(3, 3)]), DISK)).toEqual({ ok: true, nrSectors: 9n });
    refused(
      rw(READ, 0n, [seg(0, 7), seg(4, 3)]),
      DISK,
      ERROR,
      /segment 1: first_sect 4, last_sect 3 is not a range within 0..7/,
    );
    refused(rw(READ, 0n, [seg(0, 8)]), DISK, ERROR, /segment 0: first_sect 0, last_sect 8/);
  });

  it('wants 1..11 segments for READ and WRITE', () => {
    expect(
      validateRequest(
        rw(
          READ,
          0n,
          Array.from({ length: 11 }, () => seg()),
        ),
        DISK,
      ).ok,
    ).toBe(true);
    refused(rw(READ, 0n, []), DISK, ERROR, /nr_segments 0 is outside 1..11/);
    refused(
      {
        ...(rw(
          READ,
          0n,
          Array.from({ length: 11 }, () => seg()),
        ) as object),
        nrSegments: 12,
      } as BlkifRequest,
      DISK,
      ERROR,
      /nr_segments 12 is outside 1..11/,
    );
  });

  it('wants offsets and lengths aligned to sector-size', () => {
    const fourK = { ...DISK, sectorSize: 4096 };
    expect(validateRequest(rw(WRITE, 8n, [seg(0, 7)]), fourK).ok).toBe(true);
    refused(rw(WRITE, 9n, [seg(0, 7)]), fourK, ERROR, /sectors 9\+8 are not aligned to sector-size 4096/);
    refused(rw(WRITE, 8n, [seg(0, 3)]), fourK, ERROR, /segment 0: sectors 0..3 are not aligned to sector-size 4096/);
    expect(() => validateRequest(rw(WRITE, 8n, [seg()]), { ...DISK, sectorSize: 1000 })).toThrow(/sector-size 1000/);
  });

  it('refuses writes on a read-only disk and allows reads there', () => {
    expect(validateRequest(rw(READ, 0n, [seg()]), RO).ok).toBe(true);
    refused(rw(WRITE, 0n, [seg()]), RO, ERROR, /request id 5 \(BLKIF_OP_WRITE\): the device is read-only/);
  });
});

describe('validateRequest: flush, barrier, unknown operations', () => {
  const flush = (segments: BlkifSegment[] = []) => rw(BLKIF_OP.BLKIF_OP_FLUSH_DISKCACHE, 0n, segments);
  const barrier = (segments: BlkifSegment[] = []) => rw(BLKIF_OP.BLKIF_OP_WRITE_BARRIER, 0n, segments);

  it('allows an empty flush or barrier where offered, EOPNOTSUPP elsewhere', () => {
    expect(validateRequest(flush(), DISK)).toEqual({ ok: true, nrSectors: 0n });
    expect(validateRequest(barrier(), DISK)).toEqual({ ok: true, nrSectors: 0n });
    refused(flush(), BARE, EOPNOTSUPP, /BLKIF_OP_FLUSH_DISKCACHE\): the device does not offer feature-flush-cache/);
    refused(barrier(), BARE, EOPNOTSUPP, /does not offer feature-barrier/);
  });

  it('treats a flush with segments as a write', () => {
    expect(validateRequest(flush([seg()]), DISK)).toEqual({ ok: true, nrSectors: 8n });
    expect(validateRequest(flush(), RO).ok).toBe(true);
    refused(flush([seg()]), RO, ERROR, /read-only/);
  });

  it('answers BLKIF_OP_RESERVED_1 and unknown operations with EOPNOTSUPP', () => {
    refused(
      rw(BLKIF_OP.BLKIF_OP_RESERVED_1, 0n, [seg()]),
      DISK,
      EOPNOTSUPP,
      /BLKIF_OP_RESERVED_1\): operation 4 is not supported/,
    );
    refused(rw(200, 0n, [seg()]), DISK, EOPNOTSUPP, /BLKIF_OP\(200\)\): operation 200 is not supported/);
  });
});

describe('validateRequest: discard', () => {
  const discard = (sectorNumber: bigint, nrSectors: bigint, flag = 0): BlkifRequest => ({
    operation: BLKIF_OP.BLKIF_OP_DISCARD,
    flag,
    handle: 51712,
    id: 9n,
    sectorNumber,
    nrSectors,
  });

  it('allows a discard within the disk, refuses one past its end', () => {
    expect(validateRequest(discard(0n, 8192n), DISK)).toEqual({ ok: true, nrSectors: 8192n });
    refused(discard(1n, 8192n), DISK, ERROR, /run past the end of the disk/);
  });

  it('refuses discard on a read-only disk, or where not offered', () => {
    refused(discard(0n, 8n), RO, ERROR, /read-only/);
    refused(discard(0n, 8n), BARE, EOPNOTSUPP, /feature-discard/);
  });

  it('honours BLKIF_DISCARD_SECURE only with discard-secure, and refuses unknown flag bits', () => {
    expect(validateRequest(discard(0n, 8n, 1), DISK).ok).toBe(true);
    refused(discard(0n, 8n, 1), { ...DISK, discardSecure: false }, EOPNOTSUPP, /secure discard/);
    refused(discard(0n, 8n, 2), DISK, ERROR, /flag 0x2 has bits other than BLKIF_DISCARD_SECURE/);
  });

  it('wants discards aligned to sector-size', () => {
    refused(discard(4n, 8n), { ...DISK, sectorSize: 4096 }, ERROR, /not aligned to sector-size 4096/);
  });
});

describe('validateRequest: indirect', () => {
  const indirect = (
    nrSegments: number,
    indirectOp: number = WRITE,
    pages = Math.ceil(nrSegments / 512),
  ): BlkifRequest => ({
    operation: BLKIF_OP.BLKIF_OP_INDIRECT,
    indirectOp,
    nrSegments,
    handle: 51712,
    id: 11n,
    sectorNumber: 0n,
    indirectGrefs: Array.from({ length: pages }, (_, i) => 100 + i),
  });

  it('checks the header, then the segments read from the indirect pages', () => {
    expect(validateRequest(indirect(256), DISK)).toEqual({ ok: true, nrSectors: undefined });
    const segs = Array.from({ length: 256 }, () => seg());
    expect(validateRequest(indirect(256), DISK, segs)).toEqual({ ok: true, nrSectors: 2048n });
    refused(indirect(256), DISK, ERROR, /segment 255: first_sect 7, last_sect 6/, [...segs.slice(0, 255), seg(7, 6)]);
    refused(
      indirect(256),
      DISK,
      ERROR,
      /255 segments read from the indirect pages, nr_segments says 256/,
      segs.slice(1),
    );
  });

  it('refuses more segments than feature-max-indirect-segments, or than 8 indirect pages carry', () => {
    refused(indirect(257), DISK, ERROR, /nr_segments 257 exceeds feature-max-indirect-segments 256/);
    expect(validateRequest(indirect(4096), { ...DISK, maxIndirectSegments: 4096, sectors: 1n << 20n }).ok).toBe(true);
    refused(
      indirect(4097, WRITE, 8),
      { ...DISK, maxIndirectSegments: 8192 },
      ERROR,
      /nr_segments 4097 needs 9 indirect pages, more than BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST 8/,
    );
    refused(
      indirect(600, WRITE, 1),
      { ...DISK, maxIndirectSegments: 1024 },
      ERROR,
      /2 indirect pages needed, 1 indirect_grefs given/,
    );
    refused(indirect(0), DISK, ERROR, /nr_segments 0/);
  });

  it('allows only READ and WRITE inside, EOPNOTSUPP without the feature, and no writes on a read-only disk', () => {
    refused(
      indirect(16, BLKIF_OP.BLKIF_OP_DISCARD),
      DISK,
      ERROR,
      /indirect_op BLKIF_OP_DISCARD is neither READ nor WRITE/,
    );
    refused(indirect(16), BARE, EOPNOTSUPP, /feature-max-indirect-segments/);
    expect(validateRequest(indirect(16, READ), RO).ok).toBe(true);
    refused(indirect(16, WRITE), RO, ERROR, /read-only/);
  });
});

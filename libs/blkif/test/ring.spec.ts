// blkif over libs/ring: a tiny in-memory backend serving a 64-sector disk, as blkback will over gRPC.
import {
  BackRing,
  FrontRing,
  GrantTable,
  type BackRequest,
  type RequestBatch,
  type ResponseBatch,
} from '@dominion/ring';
import {
  BLKIF_OP,
  BLKIF_RING_IDS,
  BLKIF_RSP,
  blkifResponse,
  blkifRingSize,
  decodeRequest,
  encodeRequest,
  isDiscardRequest,
  isIndirectRequest,
  validateRequest,
  type BlkifRequest,
  type BlkifResponse,
} from '../src/index.js';

describe('blkif ring geometry', () => {
  it('has 32 slots per page in both ABIs, 32 * 2^n for 2^n pages', () => {
    expect(blkifRingSize()).toBe(32);
    expect(blkifRingSize(1, 'x86_32-abi')).toBe(32);
    expect(blkifRingSize(4)).toBe(128);
  });
});

describe('blkif requests on a ring', () => {
  it('writes then reads back a page through grant copies, refusing a write past the end beside them', async () => {
    const BACKEND = 1;
    const disk = Buffer.alloc(64 * 512);
    const grants = new GrantTable();
    const toBack: RequestBatch<BlkifRequest>[] = [];
    const toFront: ResponseBatch<BlkifResponse>[] = [];
    const front = new FrontRing<BlkifRequest, BlkifResponse>({
      size: blkifRingSize(),
      backendDomid: BACKEND,
      grants,
      ...BLKIF_RING_IDS,
    });
    const back = new BackRing<BlkifRequest, BlkifResponse>({
      size: blkifRingSize(),
      send: (b) => toFront.push(b),
      ...BLKIF_RING_IDS,
    });
    front.connect((b) => toBack.push(b));

    const serve = (r: BackRequest<BlkifRequest>) => {
      // the request crosses the wire as its 112 bytes
      const req = decodeRequest(encodeRequest(r.req));
      const verdict = validateRequest(req, { sectors: 64n });
      if (!verdict.ok || isDiscardRequest(req) || isIndirectRequest(req)) {
        back.respond(blkifResponse(req, verdict.ok ? BLKIF_RSP.BLKIF_RSP_EOPNOTSUPP : verdict.status));
        return;
      }
      let sector = Number(req.sectorNumber);
      const copies = [];
      for (const s of req.segments) {
        const bytes = (s.lastSect - s.firstSect + 1) * 512;
        if (req.operation === BLKIF_OP.BLKIF_OP_WRITE) disk.set(r.read(s.gref, s.firstSect * 512, bytes), sector * 512);
        else
          copies.push({
            ref: s.gref,
            offset: s.firstSect * 512,
            data: disk.subarray(sector * 512, sector * 512 + bytes),
          });
        sector += bytes / 512;
      }
      back.respond(blkifResponse(req), copies);
    };

    const src = Buffer.alloc(4096, 0x5a);
    const dst = Buffer.alloc(4096);
    const wref = grants.grant(BACKEND, src, true);
    const rref = grants.grant(BACKEND, dst);
    const xref = grants.grant(BACKEND, Buffer.alloc(4096), true);
    const seg = (gref: number) => [{ gref, firstSect: 0, lastSect: 7 }];
    const write = front.submit(
      {
        operation: BLKIF_OP.BLKIF_OP_WRITE,
        nrSegments: 1,
        handle: 51712,
        id: 1n,
        sectorNumber: 8n,
        segments: seg(wref),
      },
      [{ ref: wref }],
    );
    const tooFar = front.submit(
      {
        operation: BLKIF_OP.BLKIF_OP_WRITE,
        nrSegments: 1,
        handle: 51712,
        id: 2n,
        sectorNumber: 60n,
        segments: seg(xref),
      },
      [{ ref: xref }],
    );
    await new Promise<void>((r) => setImmediate(r));
    back.receive(toBack.shift()!).forEach(serve);
    await new Promise<void>((r) => setImmediate(r));
    front.receive(toFront.shift()!);
    expect(await write).toEqual({ id: 1n, operation: BLKIF_OP.BLKIF_OP_WRITE, status: BLKIF_RSP.BLKIF_RSP_OKAY });
    expect(await tooFar).toEqual({ id: 2n, operation: BLKIF_OP.BLKIF_OP_WRITE, status: BLKIF_RSP.BLKIF_RSP_ERROR });

    const read = front.submit(
      {
        operation: BLKIF_OP.BLKIF_OP_READ,
        nrSegments: 1,
        handle: 51712,
        id: 3n,
        sectorNumber: 8n,
        segments: seg(rref),
      },
      [{ ref: rref }],
    );
    await new Promise<void>((r) => setImmediate(r));
    back.receive(toBack.shift()!).forEach(serve);
    await new Promise<void>((r) => setImmediate(r));
    front.receive(toFront.shift()!);
    expect((await read).status).toBe(BLKIF_RSP.BLKIF_RSP_OKAY);
    expect(dst).toEqual(src);
    expect(grants.size).toBe(0); // every grant revoked at completion
  });
});

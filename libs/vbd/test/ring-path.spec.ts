// The whole backend path as apps/blkback wires it, minus the gRPC stream: a frontend's FrontRing with its
// grant table, the backend's BackRing, and VbdServer answering each batch. Data pages travel as grant
// copies both ways and the frontend's grant table checks every copy a response makes.
import { describe, expect, it } from '@jest/globals';
import {
  BLKIF_OP,
  BLKIF_RING_IDS,
  blkifRingSize,
  encodeIndirectSegments,
  type BlkifRequest,
  type BlkifResponse,
} from '@dominion/blkif';
import { CrashSimFileIO } from '@dominion/fsio';
import { BackRing, FrontRing, GrantTable } from '@dominion/ring';
import { RawFileBackend, VbdServer } from '../src/index.js';

const BACKEND = 1;

async function wire(readOnly = false) {
  const io = new CrashSimFileIO();
  if (readOnly) await (await RawFileBackend.open({ io, path: '/d.raw', size: 1 << 20 })).close();
  const disk = await RawFileBackend.open({ io, path: '/d.raw', size: 1 << 20, readOnly });
  const log: string[] = [];
  const server = new VbdServer({
    backend: disk,
    frontendDomid: 5,
    devid: 51712,
    logger: (level, msg) => void log.push(`${level} ${msg}`),
  });
  const size = blkifRingSize(1);
  const grants = new GrantTable();
  const front = new FrontRing<BlkifRequest, BlkifResponse>({ size, backendDomid: BACKEND, grants, ...BLKIF_RING_IDS });
  const back = new BackRing<BlkifRequest, BlkifResponse>({
    size,
    ...BLKIF_RING_IDS,
    send: (batch) => front.receive(batch),
  });
  front.connect((batch) => void server.serve(back, back.receive(batch)));
  return { front, grants, server, disk, log };
}

const filled = (b: number) => new Uint8Array(4096).fill(b);

describe('VbdServer behind a ring', () => {
  it('writes and reads through grants, direct and indirect, 32 requests in flight', async () => {
    const { front, grants } = await wire();
    let id = 0n;
    const writes = Array.from({ length: 32 }, (_, i) => {
      const ref = grants.grant(BACKEND, filled(i + 1), true);
      const req: BlkifRequest = {
        operation: BLKIF_OP.BLKIF_OP_WRITE,
        nrSegments: 1,
        handle: 51712,
        id: id++,
        sectorNumber: BigInt(i * 8),
        segments: [{ gref: ref, firstSect: 0, lastSect: 7 }],
      };
      return front.submit(req, [{ ref }]);
    });
    expect((await Promise.all(writes)).map((r) => r.status)).toEqual(Array(32).fill(0));

    // One indirect READ of 20 pages: sectors 0..159, segments listed in an indirect page.
    const bufs = Array.from({ length: 20 }, () => new Uint8Array(4096));
    const refs = bufs.map((b) => grants.grant(BACKEND, b));
    const [indirectPage] = encodeIndirectSegments(refs.map((gref) => ({ gref, firstSect: 0, lastSect: 7 })));
    const iref = grants.grant(BACKEND, new Uint8Array(indirectPage), true);
    const rsp = await front.submit(
      {
        operation: BLKIF_OP.BLKIF_OP_INDIRECT,
        indirectOp: BLKIF_OP.BLKIF_OP_READ,
        nrSegments: 20,
        handle: 51712,
        id: id++,
        sectorNumber: 0n,
        indirectGrefs: [iref],
      },
      [{ ref: iref }, ...refs.map((ref) => ({ ref }))],
    );
    expect(rsp).toEqual({ id: 32n, operation: BLKIF_OP.BLKIF_OP_INDIRECT, status: 0 });
    bufs.forEach((b, i) => expect(b).toEqual(filled(i + 1)));
  });

  it('fails a bad request alone in a batch, and refuses writes to a read-only disk beside a read', async () => {
    const { front, grants, log } = await wire(true);
    const wref = grants.grant(BACKEND, filled(9), true);
    const rref = grants.grant(BACKEND, new Uint8Array(4096));
    const pastEnd = grants.grant(BACKEND, new Uint8Array(4096));
    const seg = (gref: number) => [{ gref, firstSect: 0, lastSect: 7 }];
    const base = { nrSegments: 1, handle: 51712 };
    const [w, r, bad] = await Promise.all([
      front.submit({ ...base, operation: BLKIF_OP.BLKIF_OP_WRITE, id: 1n, sectorNumber: 0n, segments: seg(wref) }, [
        { ref: wref },
      ]),
      front.submit({ ...base, operation: BLKIF_OP.BLKIF_OP_READ, id: 2n, sectorNumber: 0n, segments: seg(rref) }, [
        { ref: rref },
      ]),
      front.submit(
        { ...base, operation: BLKIF_OP.BLKIF_OP_READ, id: 3n, sectorNumber: 2048n, segments: seg(pastEnd) },
        [{ ref: pastEnd }],
      ),
    ]);
    expect([w.status, r.status, bad.status]).toEqual([-1, 0, -1]);
    expect(log).toEqual([
      expect.stringMatching(/^warn vbd 5\/51712: request id 1 \(BLKIF_OP_WRITE\): the device is read-only/),
      expect.stringMatching(/^warn vbd 5\/51712: request id 3 \(BLKIF_OP_READ\): .*past the end of the disk/),
    ]);
  });
});

// Flush means durable (issue 5): through CrashSimFileIO, a disk that at a power cut keeps only what a
// completed fsync covered (and any subset of the rest, torn at 512 bytes, in any order). Writes
// acknowledged before an acknowledged FLUSH_DISKCACHE or WRITE_BARRIER survive every crash; writes after
// it may or may not; over many seeds some of those do vanish (so the check has teeth).
import { describe, expect, it } from '@jest/globals';
import { BLKIF_OP, type BlkifRequest, type BlkifSegment } from '@dominion/blkif';
import { CrashSimFileIO, type CrashMode } from '@dominion/fsio';
import { BackRequest, type GrantCopy } from '@dominion/ring';
import { RawFileBackend, VbdServer } from '../src/index.js';

const SECTORS = 64;
const PATH = '/vbd/5-51712.raw';

/** xorshift32: the same seed, the same history. */
function rng(seed: number): (n: number) => number {
  let x = seed * 2654435761 + 1 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

interface Write {
  sector: number;
  count: number;
  tag: number;
}

/** Sector i of write `tag`: a pattern no other write or sector shares. */
function sectorBytes(tag: number, i: number): Buffer {
  const b = Buffer.alloc(512);
  for (let k = 0; k < 512; k += 4) b.writeUInt32LE(((tag << 12) | (i << 4) | (k & 0xf)) >>> 0, k);
  return b;
}

async function history(seed: number, mode: CrashMode) {
  const random = rng(seed);
  const io = new CrashSimFileIO();
  const disk = await RawFileBackend.open({ io, path: PATH, size: SECTORS * 512 });
  const server = new VbdServer({ backend: disk, frontendDomid: 5, devid: 51712 });
  let id = 0n;
  let tag = 0;
  const run = (req: BlkifRequest, copies: GrantCopy[]) => server.execute(req, new BackRequest(req, req.id, copies));
  const write = (w: Write) => {
    // One segment per page: sectors first..last of it, the data travelling as the grant copy.
    const segments: BlkifSegment[] = [];
    const copies: GrantCopy[] = [];
    for (let done = 0, s = w.sector; done < w.count;) {
      const first = s % 8;
      const n = Math.min(8 - first, w.count - done);
      const data = Buffer.concat(Array.from({ length: n }, (_, i) => sectorBytes(w.tag, done + i)));
      const gref = 1000 + segments.length;
      segments.push({ gref, firstSect: first, lastSect: first + n - 1 });
      copies.push({ ref: gref, offset: first * 512, data });
      done += n;
      s += n;
    }
    const req = {
      operation: BLKIF_OP.BLKIF_OP_WRITE,
      nrSegments: segments.length,
      handle: 51712,
      id: id++,
      sectorNumber: BigInt(w.sector),
      segments,
    };
    return run(req, copies);
  };
  const flush = () => {
    const op = random(2) === 0 ? BLKIF_OP.BLKIF_OP_FLUSH_DISKCACHE : BLKIF_OP.BLKIF_OP_WRITE_BARRIER;
    return run({ operation: op, nrSegments: 0, handle: 51712, id: id++, sectorNumber: 0n, segments: [] }, []);
  };

  /** Per sector: what the last acknowledged flush guarantees (undefined: zeros, never written before it). */
  let floor = new Map<number, Buffer>();
  /** Per sector: the newest value acknowledged so far. */
  const acked = new Map<number, Buffer>();
  /** Per sector: values written by writes the last completed flush does not cover. */
  let uncovered = new Map<number, Buffer[]>();
  const record = (w: Write, into: Map<number, Buffer[]>) => {
    for (let i = 0; i < w.count; i++) {
      const list = into.get(w.sector + i) ?? [];
      list.push(sectorBytes(w.tag, i));
      into.set(w.sector + i, list);
    }
  };
  let flushes = 0;

  for (let round = 0; round < 12; round++) {
    // A batch of writes in flight together, maybe with a flush issued after some of them were acknowledged.
    // Writes in flight together do not overlap: blkif leaves the order of overlapping ones undefined.
    const batch: Write[] = [];
    for (let k = 1 + random(4); k > 0; k--) {
      const count = 1 + random(12);
      const w = { sector: random(SECTORS - count + 1), count, tag: ++tag };
      if (batch.every((o) => w.sector + w.count <= o.sector || o.sector + o.count <= w.sector)) batch.push(w);
    }
    for (const w of batch) record(w, uncovered);
    const done = await Promise.all(batch.map(write));
    expect(done.every((o) => o.rsp.status === 0)).toBe(true);
    for (const w of batch) for (let i = 0; i < w.count; i++) acked.set(w.sector + i, sectorBytes(w.tag, i));
    if (random(3) === 0) {
      // Everything acknowledged so far is covered; writes issued with the flush are not promised.
      const snapshot = new Map(acked);
      const racing: Write[] = random(2) ? [{ sector: random(SECTORS - 4), count: 4, tag: ++tag }] : [];
      const after = new Map<number, Buffer[]>();
      for (const w of racing) record(w, after);
      const [f, ...rest] = await Promise.all([flush(), ...racing.map(write)]);
      expect(f.rsp.status).toBe(0);
      expect(rest.every((o) => o.rsp.status === 0)).toBe(true);
      for (const w of racing) for (let i = 0; i < w.count; i++) acked.set(w.sector + i, sectorBytes(w.tag, i));
      floor = snapshot;
      uncovered = after;
      flushes++;
    }
  }
  const crashed = io.crash({ seed, mode });
  const after = await RawFileBackend.open({ io: crashed, path: PATH });
  const image = await after.read(0, SECTORS * 512);
  let covered = 0;
  let lost = 0;
  for (let s = 0; s < SECTORS; s++) {
    const got = image.subarray(s * 512, (s + 1) * 512);
    const promised = floor.get(s) ?? Buffer.alloc(512);
    const maybe = uncovered.get(s) ?? [];
    if (maybe.length === 0) {
      covered++;
      expect({ seed, sector: s, ok: got.equals(promised) }).toEqual({ seed, sector: s, ok: true });
    } else {
      expect({ seed, sector: s, ok: [promised, ...maybe].some((b) => got.equals(b)) }).toEqual({
        seed,
        sector: s,
        ok: true,
      });
    }
    const newest = acked.get(s);
    if (newest && !got.equals(newest)) lost++;
  }
  return { covered, lost, flushes };
}

describe('flush means durable (CrashSimFileIO)', () => {
  it.each<CrashMode>(['random-subset', 'reorder-prefix'])(
    'keeps every write acknowledged before an acknowledged flush, over 40 seeds (%s)',
    async (mode) => {
      let covered = 0;
      let lost = 0;
      let flushes = 0;
      for (let seed = 1; seed <= 40; seed++) {
        const r = await history(seed, mode);
        covered += r.covered;
        lost += r.lost;
        flushes += r.flushes;
      }
      // The check ran on flushed sectors, and the crash did drop acknowledged but unflushed writes.
      expect(flushes).toBeGreaterThan(40);
      expect(covered).toBeGreaterThan(0);
      expect(lost).toBeGreaterThan(0);
    },
  );

  it('loses unflushed writes on a crash that keeps nothing unsynced, and keeps the flushed ones', async () => {
    const io = new CrashSimFileIO();
    const disk = await RawFileBackend.open({ io, path: PATH, size: SECTORS * 512 });
    const server = new VbdServer({ backend: disk, frontendDomid: 5, devid: 51712 });
    const w = (id: bigint, sector: number, fill: number) => {
      const req = {
        operation: BLKIF_OP.BLKIF_OP_WRITE,
        nrSegments: 1,
        handle: 51712,
        id,
        sectorNumber: BigInt(sector),
        segments: [{ gref: 9, firstSect: 0, lastSect: 0 }],
      };
      return server.execute(req, new BackRequest(req, id, [{ ref: 9, offset: 0, data: Buffer.alloc(512, fill) }]));
    };
    await w(1n, 0, 0x11);
    const f = {
      operation: BLKIF_OP.BLKIF_OP_FLUSH_DISKCACHE,
      nrSegments: 0,
      handle: 51712,
      id: 2n,
      sectorNumber: 0n,
      segments: [],
    };
    await server.execute(f, new BackRequest(f, 2n, []));
    await w(3n, 1, 0x33);
    const crashed = await RawFileBackend.open({ io: io.crash({ mode: 'drop-all' }), path: PATH });
    expect(await crashed.read(0, 1024)).toEqual(Buffer.concat([Buffer.alloc(512, 0x11), Buffer.alloc(512)]));
  });
});

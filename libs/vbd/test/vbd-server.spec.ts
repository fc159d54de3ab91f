// VbdServer against requests typed by hand in io/blkif.h's x86_64 layout (xen-facts §2), decoded by
// libs/blkif, with the grant copies a BackRing hands over; responses compared with hand-written response
// bytes (id u64 @0, operation u8 @8, pad u8 @9, status i16 @10, pad u32 @12).
import { beforeEach, describe, expect, it } from '@jest/globals';
import { BLKIF_OP, decodeRequest, encodeResponse } from '@dominion/blkif';
import { CrashSimFileIO } from '@dominion/fsio';
import { BackRequest, type GrantCopy } from '@dominion/ring';
import { hex } from '@dominion/testing';
import { RawFileBackend, VbdServer, type VbdFeatures, type VbdLogger } from '../src/index.js';

const DISK = 64 * 1024; // 128 sectors

/** A 4 KiB page whose sector i is filled with byte `tag + i`. */
function page(tag: number): Buffer {
  const p = Buffer.alloc(4096);
  for (let i = 0; i < 8; i++) p.fill(tag + i, i * 512, (i + 1) * 512);
  return p;
}

interface Rig {
  disk: RawFileBackend;
  server: VbdServer;
  log: string[];
  fields: Array<Record<string, unknown>>;
  /** Decodes the request bytes, runs them with `copies`, returns the response bytes as hex and the copies. */
  run(bytes: Buffer, copies?: GrantCopy[]): Promise<{ rsp: string; copies: GrantCopy[] }>;
}

async function rig(opts: { readOnly?: boolean; sectorSize?: 512 | 4096; features?: VbdFeatures } = {}): Promise<Rig> {
  const io = new CrashSimFileIO();
  if (opts.readOnly) await (await RawFileBackend.open({ io, path: '/img/disk.raw', size: DISK })).close();
  const disk = await RawFileBackend.open({
    io,
    path: '/img/disk.raw',
    size: DISK,
    readOnly: opts.readOnly,
    sectorSize: opts.sectorSize,
  });
  const log: string[] = [];
  const fields: Array<Record<string, unknown>> = [];
  const logger: VbdLogger = (level, msg, f) => {
    log.push(`${level} ${msg}`);
    if (f) fields.push(f);
  };
  const server = new VbdServer({ backend: disk, frontendDomid: 5, devid: 51712, features: opts.features, logger });
  return {
    disk,
    server,
    log,
    fields,
    run: async (bytes, copies = []) => {
      const req = decodeRequest(bytes);
      const out = await server.execute(req, new BackRequest(req, req.id, copies));
      return { rsp: encodeResponse(out.rsp).toString('hex'), copies: out.copies };
    },
  };
}

const rsp = (b: Buffer) => b.toString('hex');

// WRITE id 1, sector 8, seg[0] gref 8 sectors 0..7, seg[1] gref 9 sectors 2..3: 10 sectors, 5120 bytes.
const WRITE_ID1 = hex(`
  01 02 00ca 00000000    # operation WRITE, nr_segments 2, handle 51712, pad
  0100000000000000       # id 1
  0800000000000000       # sector_number 8
  08000000 00 07 0000    # seg[0] gref 8, sectors 0..7
  09000000 02 03 0000    # seg[1] gref 9, sectors 2..3
  ${'0000000000000000'.repeat(9)}
`);
const OK_WRITE_ID1 = hex`0100000000000000 01 00 0000 00000000  # id 1, WRITE, OKAY`;

// READ id 2 of the same sectors into grefs 20 (sectors 0..7) and 21 (sectors 4..5).
const READ_ID2 = hex(`
  00 02 00ca 00000000    # operation READ, nr_segments 2
  0200000000000000       # id 2
  0800000000000000       # sector_number 8
  14000000 00 07 0000    # seg[0] gref 20, sectors 0..7
  15000000 04 05 0000    # seg[1] gref 21, sectors 4..5
  ${'0000000000000000'.repeat(9)}
`);
const OK_READ_ID2 = hex`0200000000000000 00 00 0000 00000000  # id 2, READ, OKAY`;

describe('VbdServer', () => {
  let r: Rig;
  beforeEach(async () => {
    r = await rig();
  });

  it('writes segments where sector_number says and reads them back into the right grants', async () => {
    const p8 = page(0x10);
    const p9 = page(0x40);
    const w = await r.run(WRITE_ID1, [
      { ref: 8, offset: 0, data: p8 },
      { ref: 9, offset: 1024, data: p9.subarray(1024, 2048) },
    ]);
    expect(w).toEqual({ rsp: rsp(OK_WRITE_ID1), copies: [] });
    // Disk sectors 8..15 hold page 8, 16..17 hold sectors 2..3 of page 9.
    expect(await r.disk.read(8 * 512, 4096)).toEqual(p8);
    expect(await r.disk.read(16 * 512, 1024)).toEqual(p9.subarray(1024, 2048));

    const rd = await r.run(READ_ID2);
    expect(rd.rsp).toBe(rsp(OK_READ_ID2));
    expect(rd.copies.map((c) => [c.ref, c.offset, c.data.length])).toEqual([
      [20, 0, 4096],
      [21, 2048, 1024],
    ]);
    expect(Buffer.from(rd.copies[0].data)).toEqual(p8);
    expect(Buffer.from(rd.copies[1].data)).toEqual(p9.subarray(1024, 2048));
  });

  it('runs an indirect write whose segments come from an indirect page, and an indirect read', async () => {
    // indirect page (gref 30): seg[0] gref 31 sectors 0..7, seg[1] gref 32 sectors 0..3.
    const indirectPage = Buffer.alloc(4096);
    hex`1f000000 00 07 0000   20000000 00 03 0000`.copy(indirectPage);
    const req = hex(`
      06 01 0200 00000000      # operation INDIRECT, indirect_op WRITE, nr_segments 2 (u16 @2)
      0300000000000000         # id 3
      2000000000000000         # sector_number 32
      00ca 0000                # handle 51712 @24, pad
      1e000000                 # indirect_grefs[0] 30 @28
      ${'00000000'.repeat(7)}  # indirect_grefs[1..7], to @60
      00000000                 # tail padding to 64 (the struct is 8-aligned by its u64 id)
    `);
    const p31 = page(0x61);
    const p32 = page(0x71);
    const w = await r.run(req, [
      { ref: 30, offset: 0, data: indirectPage },
      { ref: 31, offset: 0, data: p31 },
      { ref: 32, offset: 0, data: p32.subarray(0, 2048) },
    ]);
    expect(w.rsp).toBe(rsp(hex`0300000000000000 06 00 0000 00000000  # id 3, INDIRECT, OKAY`));
    expect(await r.disk.read(32 * 512, 6144)).toEqual(Buffer.concat([p31, p32.subarray(0, 2048)]));

    const readReq = Buffer.from(req);
    readReq[1] = 0x00; // indirect_op READ
    readReq[8] = 0x04; // id 4
    const rd = await r.run(readReq, [{ ref: 30, offset: 0, data: indirectPage }]);
    expect(rd.rsp).toBe(rsp(hex`0400000000000000 06 00 0000 00000000  # id 4, INDIRECT, OKAY`));
    expect(Buffer.concat(rd.copies.map((c) => c.data))).toEqual(Buffer.concat([p31, p32.subarray(0, 2048)]));
  });

  it('discards to zeros, and flushes', async () => {
    await r.disk.write(0, Buffer.alloc(DISK, 0xaa));
    const discard = hex`
      05 00 00ca 00000000      # operation DISCARD, flag 0, handle
      0500000000000000         # id 5
      0400000000000000         # sector_number 4
      0400000000000000         # nr_sectors 4
    `;
    expect((await r.run(discard)).rsp).toBe(rsp(hex`0500000000000000 05 00 0000 00000000`));
    expect(await r.disk.read(4 * 512, 2048)).toEqual(Buffer.alloc(2048));
    expect(await r.disk.read(8 * 512, 512)).toEqual(Buffer.alloc(512, 0xaa));

    const flush = hex(`03 00 00ca 00000000  0600000000000000  0000000000000000 ${'0000000000000000'.repeat(11)}`);
    expect((await r.run(flush)).rsp).toBe(
      rsp(hex`0600000000000000 03 00 0000 00000000  # id 6, FLUSH_DISKCACHE, OKAY`),
    );
  });

  it('refuses a write to a read-only disk with BLKIF_RSP_ERROR and a log line, and still serves reads', async () => {
    const ro = await rig({ readOnly: true });
    const w = await ro.run(WRITE_ID1, [
      { ref: 8, offset: 0, data: page(1) },
      { ref: 9, offset: 1024, data: page(2).subarray(1024, 2048) },
    ]);
    expect(w.rsp).toBe(rsp(hex`0100000000000000 01 00 ffff 00000000  # id 1, WRITE, BLKIF_RSP_ERROR (-1)`));
    expect(ro.log).toEqual([expect.stringMatching(/^warn vbd 5\/51712: request id 1 \(BLKIF_OP_WRITE\): .*read-only/)]);
    expect(ro.fields).toEqual([{ domid: 5, devid: 51712, id: '1', status: -1 }]);
    expect((await ro.run(READ_ID2)).rsp).toBe(rsp(OK_READ_ID2));
  });

  it('answers operations it does not offer with BLKIF_RSP_EOPNOTSUPP', async () => {
    const plain = await rig({ features: { discard: false, barrier: false, maxIndirectSegments: 0 } });
    const reserved = hex(`04 00 00ca 00000000  0700000000000000 0000000000000000 ${'0000000000000000'.repeat(11)}`);
    expect((await plain.run(reserved)).rsp).toBe(rsp(hex`0700000000000000 04 00 feff 00000000  # EOPNOTSUPP (-2)`));
    const discard = hex`05 00 00ca 00000000  0800000000000000 0000000000000000 0100000000000000`;
    expect((await plain.run(discard)).rsp).toBe(rsp(hex`0800000000000000 05 00 feff 00000000`));
    const barrier = hex(`02 00 00ca 00000000  0900000000000000 0000000000000000 ${'0000000000000000'.repeat(11)}`);
    expect((await plain.run(barrier)).rsp).toBe(rsp(hex`0900000000000000 02 00 feff 00000000`));
    // The same barrier on a disk that offers it.
    expect((await r.run(barrier)).rsp).toBe(rsp(hex`0900000000000000 02 00 0000 00000000`));
    expect(plain.log).toHaveLength(3);
  });

  describe('a malformed request fails alone, naming domain, device and id', () => {
    /** A one-segment WRITE (nr_segments @1, id @8, sector_number @16 patched in), seg[0] @24 as given. */
    const oneSeg = (id: number, sector: number, seg: string, nr = 1) => {
      const b = hex(`01 01 00ca 00000000 0000000000000000 0000000000000000 ${seg} ${'0000000000000000'.repeat(10)}`);
      b[1] = nr;
      b.writeBigUInt64LE(BigInt(id), 8);
      b.writeBigUInt64LE(BigInt(sector), 16);
      return b;
    };
    const cases: Array<[string, Buffer, GrantCopy[], RegExp]> = [
      ['last_sect beyond the page', oneSeg(0x11, 0, '08000000 00 08 0000'), [], /first_sect 0, last_sect 8/],
      ['first_sect after last_sect', oneSeg(0x12, 0, '08000000 05 02 0000'), [], /first_sect 5, last_sect 2/],
      [
        'a range past the end of the disk',
        oneSeg(0x13, 124, '08000000 00 07 0000'),
        [],
        /past the end of the disk \(128 sectors\)/,
      ],
      ['nr_segments 12', oneSeg(0x14, 0, '08000000 00 07 0000', 12), [], /nr_segments 12 is outside 1\.\.11/],
      [
        'a segment whose grant came without data',
        oneSeg(0x15, 0, '08000000 00 07 0000'),
        [],
        /grant ref 8 came with no data/,
      ],
    ];
    it.each(cases)('%s', async (_name, bad, copies, why) => {
      const good = oneSeg(0x20, 0, '09000000 00 00 0000');
      const [b, g] = await Promise.all([
        r.run(bad, copies),
        r.run(good, [{ ref: 9, offset: 0, data: Buffer.alloc(512, 0x5a) }]),
      ]);
      expect(b.rsp.slice(20, 24)).toBe('ffff'); // status @10: BLKIF_RSP_ERROR
      expect(b.rsp.slice(0, 16)).toBe(bad.subarray(8, 16).toString('hex')); // id echoed
      expect(g.rsp).toBe(rsp(hex`2000000000000000 01 00 0000 00000000`));
      expect(await r.disk.read(0, 512)).toEqual(Buffer.alloc(512, 0x5a));
      expect(r.log).toHaveLength(1);
      expect(r.log[0]).toMatch(new RegExp(`^(warn|error) vbd 5/51712: request id ${bad[8]} `));
      expect(r.log[0]).toMatch(why);
    });

    it('segments not aligned to a 4096-byte sector-size', async () => {
      const big = await rig({ sectorSize: 4096 });
      const bad = await big.run(oneSeg(0x16, 0, '08000000 00 03 0000'), [{ ref: 8, offset: 0, data: page(1) }]);
      expect(bad.rsp.slice(20, 24)).toBe('ffff');
      expect(big.log[0]).toMatch(/request id 22 .*not aligned to sector-size 4096/);
      const ok = await big.run(oneSeg(0x17, 8, '08000000 00 07 0000'), [{ ref: 8, offset: 0, data: page(1) }]);
      expect(ok.rsp.slice(20, 24)).toBe('0000');
    });
  });

  it('holds requests received after a WRITE_BARRIER until it and everything before it are done', async () => {
    const io = new CrashSimFileIO();
    const raw = await RawFileBackend.open({ io, path: '/b.raw', size: DISK });
    const slow = Object.assign(Object.create(raw) as RawFileBackend, {
      write: async (offset: number, data: Uint8Array) => {
        await new Promise((res) => setTimeout(res, 5));
        return raw.write(offset, data);
      },
    });
    const server = new VbdServer({ backend: slow, frontendDomid: 5, devid: 51712 });
    const seg = [{ gref: 8, firstSect: 0, lastSect: 0 }];
    const write = {
      operation: BLKIF_OP.BLKIF_OP_WRITE,
      nrSegments: 1,
      handle: 51712,
      id: 1n,
      sectorNumber: 0n,
      segments: seg,
    };
    const barrier = {
      operation: BLKIF_OP.BLKIF_OP_WRITE_BARRIER,
      nrSegments: 0,
      handle: 51712,
      id: 2n,
      sectorNumber: 0n,
      segments: [],
    };
    const read = {
      operation: BLKIF_OP.BLKIF_OP_READ,
      nrSegments: 1,
      handle: 51712,
      id: 3n,
      sectorNumber: 0n,
      segments: seg,
    };
    const order: bigint[] = [];
    const track = <T extends { rsp: { id: bigint } }>(p: Promise<T>) => p.then((o) => (order.push(o.rsp.id), o));
    const [, , r] = await Promise.all([
      track(server.execute(write, new BackRequest(write, 1n, [{ ref: 8, offset: 0, data: Buffer.alloc(512, 0x77) }]))),
      track(server.execute(barrier, new BackRequest(barrier, 2n, []))),
      track(server.execute(read, new BackRequest(read, 3n, []))),
    ]);
    expect(order).toEqual([1n, 2n, 3n]);
    expect(Buffer.from(r.copies[0].data)).toEqual(Buffer.alloc(512, 0x77));
  });

  it('answers BLKIF_RSP_ERROR with an error log line when the storage fails, and keeps serving', async () => {
    const io = new CrashSimFileIO();
    const disk = await RawFileBackend.open({ io, path: '/e.raw', size: DISK });
    const log: string[] = [];
    const server = new VbdServer({
      backend: disk,
      frontendDomid: 7,
      devid: 768,
      logger: (l, m) => void log.push(`${l} ${m}`),
    });
    const seg = [{ gref: 8, firstSect: 0, lastSect: 0 }];
    const write = (id: bigint) => ({
      operation: BLKIF_OP.BLKIF_OP_WRITE,
      nrSegments: 1,
      handle: 768,
      id,
      sectorNumber: 0n,
      segments: seg,
    });
    const copies = [{ ref: 8, offset: 0, data: Buffer.alloc(512, 1) }];
    expect((await server.execute(write(1n), new BackRequest(write(1n), 1n, copies))).rsp.status).toBe(0);
    io.powerCutAfter(0);
    expect((await server.execute(write(2n), new BackRequest(write(2n), 2n, copies))).rsp).toEqual({
      id: 2n,
      operation: 1,
      status: -1,
    });
    expect(log).toEqual([expect.stringMatching(/^error vbd 7\/768: request id 2 \(BLKIF_OP_WRITE\): .*power was cut/)]);
  });

  it('completes a flush only after the writes received before it are durable', async () => {
    const io = new CrashSimFileIO();
    const raw = await RawFileBackend.open({ io, path: '/d.raw', size: DISK });
    // Storage that takes its time over writes, as a real disk under load does: a flush issued meanwhile
    // must still wait for them.
    const disk = Object.assign(Object.create(raw) as RawFileBackend, {
      write: async (offset: number, data: Uint8Array) => {
        await new Promise((r) => setTimeout(r, 5));
        return raw.write(offset, data);
      },
    });
    const server = new VbdServer({ backend: disk, frontendDomid: 5, devid: 51712 });
    const w = (id: number, sector: number, fill: number) => {
      const req = {
        operation: BLKIF_OP.BLKIF_OP_WRITE,
        nrSegments: 1,
        handle: 51712,
        id: BigInt(id),
        sectorNumber: BigInt(sector),
        segments: [{ gref: 100 + id, firstSect: 0, lastSect: 7 }],
      };
      return server.execute(
        req,
        new BackRequest(req, req.id, [{ ref: 100 + id, offset: 0, data: Buffer.alloc(4096, fill) }]),
      );
    };
    const flushReq = {
      operation: BLKIF_OP.BLKIF_OP_FLUSH_DISKCACHE,
      nrSegments: 0,
      handle: 51712,
      id: 99n,
      sectorNumber: 0n,
      segments: [],
    };
    // Writes and the flush arrive in one batch: the flush may not overtake them.
    const writes = [w(1, 0, 1), w(2, 8, 2), w(3, 16, 3)];
    const flush = server.execute(flushReq, new BackRequest(flushReq, 99n, []));
    await Promise.all([...writes, flush]);
    const disk2 = await RawFileBackend.open({ io: io.crash({ seed: 1, mode: 'drop-all' }), path: '/d.raw' });
    expect(await disk2.read(0, 3 * 4096)).toEqual(
      Buffer.concat([Buffer.alloc(4096, 1), Buffer.alloc(4096, 2), Buffer.alloc(4096, 3)]),
    );
  });
});

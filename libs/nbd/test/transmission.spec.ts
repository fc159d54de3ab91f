// The transmission phase byte for byte (proto.md "Request message", "Simple reply message", "Structured
// reply chunk message", "Request types", "Error values"), plus concurrency and flow control.
import { hex } from '@dominion/testing';
import { harness, type Harness } from './helpers/harness.js';
import { deferred, MemoryExport } from './helpers/memory-export.js';
import type { NbdExport, NbdServerOptions } from '../src/index.js';

const GO_DISK = hex`49484156454f5054 00000007 0000000a 00000004 6469736b 0000   # NBD_OPT_GO "disk", no infos`;
const STRUCTURED = hex`49484156454f5054 00000008 00000000   # NBD_OPT_STRUCTURED_REPLY`;
const SET_META = hex`
  49484156454f5054 0000000a 0000001f 00000004 6469736b 00000001   # SET_META_CONTEXT "disk", 1 query
  0000000f 626173653a616c6c6f636174696f6e                         # "base:allocation"
`;

/** A connection in transmission on export "disk" (1 MiB), with or without structured replies. */
function open(
  structured: boolean,
  extra: Partial<NbdServerOptions> = {},
  disk = new MemoryExport(0x100000),
): Harness & { disk: MemoryExport } {
  const h = harness({ disk, ro: new MemoryExport(0x1000, true) }, extra);
  h.conn.push(hex`00000003`);
  if (structured) h.conn.push(Buffer.concat([STRUCTURED, SET_META]));
  h.conn.push(GO_DISK);
  h.take();
  return Object.assign(h, { disk });
}

function request(type: number, cookie: number, offset: number, length: number, flags = 0): Buffer {
  // Built field by field here only to vary parameters; its layout is pinned by the hex tests below.
  const b = Buffer.alloc(28);
  b.writeUInt32BE(0x25609513, 0);
  b.writeUInt16BE(flags, 4);
  b.writeUInt16BE(type, 6);
  b.writeBigUInt64BE(BigInt(cookie), 8);
  b.writeBigUInt64BE(BigInt(offset), 16);
  b.writeUInt32BE(length, 24);
  return b;
}

describe('transmission', () => {
  it('answers WRITE and READ with simple replies when structured replies were not negotiated', async () => {
    const h = open(false);
    h.conn.push(hex`
      25609513 0000 0001        # 0: NBD_REQUEST_MAGIC, 4: flags 0, 6: NBD_CMD_WRITE
      1122334455667788          # 8: cookie
      0000000000000200          # 16: offset 512
      00000004                  # 24: length 4
      deadbeef                  # 28: data
    `);
    await h.settle();
    expect(h.take()).toEqual(hex`67446698 00000000 1122334455667788   # NBD_SIMPLE_REPLY_MAGIC, error 0, cookie`);
    h.conn.push(hex`25609513 0000 0000 99aabbccddeeff00 00000000000001fe 00000008   # NBD_CMD_READ 8 bytes at 510`);
    await h.settle();
    expect(h.take()).toEqual(hex`
      67446698 00000000 99aabbccddeeff00   # simple reply, no error
      0000 deadbeef 0000                   # 8 bytes of data from 510
    `);
  });

  it('answers READ with OFFSET_DATA and OFFSET_HOLE chunks when structured replies are on', async () => {
    const h = open(true);
    h.disk.data.write('abcd', 0x10000, 'latin1');
    h.disk.written[0x10000 / 4096] = 1;
    h.conn.push(hex`25609513 0000 0000 0000000000000001 0000000000010000 00000004   # READ 4 at 64 KiB`);
    await h.settle();
    expect(h.take()).toEqual(hex`
      668e33ef 0001 0001        # NBD_STRUCTURED_REPLY_MAGIC, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA
      0000000000000001 0000000c # cookie, length 8 + 4
      0000000000010000 61626364 # offset 64 KiB, "abcd"
    `);
    // 64 KiB + 4 KiB from 60 KiB: 4 KiB hole, 4 KiB data, 60 KiB hole.
    h.conn.push(hex`25609513 0000 0000 0000000000000002 000000000000f000 00011000   # READ 68 KiB at 60 KiB`);
    await h.settle();
    const r = h.take();
    expect(r.subarray(0, 32)).toEqual(hex`
      668e33ef 0000 0002 0000000000000002 0000000c   # OFFSET_HOLE, not final, length 12
      000000000000f000 00001000                      # offset 60 KiB, 4 KiB of zeroes
    `);
    expect(r.subarray(32, 60)).toEqual(hex`
      668e33ef 0000 0001 0000000000000002 00001008   # OFFSET_DATA, not final, length 8 + 4096
      0000000000010000                               # offset 64 KiB
    `);
    expect(r.subarray(60, 64).toString('latin1')).toBe('abcd');
    expect(r.subarray(60 + 4096)).toEqual(hex`
      668e33ef 0001 0002 0000000000000002 0000000c   # OFFSET_HOLE, NBD_REPLY_FLAG_DONE
      0000000000011000 0000f000                      # offset 68 KiB, 60 KiB
    `);
  });

  it('sends one OFFSET_DATA chunk with zeroes included when the client sets NBD_CMD_FLAG_DF', async () => {
    const h = open(true);
    h.conn.push(request(0, 3, 0, 0x10000, 0x0004));
    await h.settle();
    const r = h.take();
    expect(r.subarray(0, 28)).toEqual(hex`668e33ef 0001 0001 0000000000000003 00010008 0000000000000000`);
    expect(r.length).toBe(28 + 0x10000);
  });

  it('answers BLOCK_STATUS with REQ_ONE with a single extent no longer than the request', async () => {
    const h = open(true);
    h.conn.push(hex`25609513 0008 0007 0000000000000004 0000000000000000 00000800   # BLOCK_STATUS REQ_ONE 2 KiB`);
    await h.settle();
    expect(h.take()).toEqual(hex`
      668e33ef 0001 0005 0000000000000004 0000000c   # BLOCK_STATUS chunk, final, length 12
      00000001 00000800 00000003                     # context 1: 2 KiB HOLE|ZERO
    `);
  });

  it('cuts BLOCK_STATUS extents to u32 descriptors and to the export end, ending the reply at a cut', async () => {
    const huge: NbdExport = {
      size: 2n ** 33n,
      readOnly: true,
      canMultiConn: false,
      read: () => Promise.reject(new Error('not used')),
      write: () => Promise.reject(new Error('not used')),
      // One hole reported as reaching past the end, then data (which must not be sent after the cut).
      blockStatus: () =>
        Promise.resolve([
          { length: 2 ** 34, flags: 3 },
          { length: 4096, flags: 0 },
        ]),
    };
    const h = harness({ disk: huge });
    h.conn.push(Buffer.concat([hex`00000003`, STRUCTURED, SET_META, GO_DISK]));
    h.take();
    h.conn.push(hex`25609513 0000 0007 0000000000000001 0000000000000000 ffffffff   # BLOCK_STATUS 0, 4 GiB - 1`);
    h.conn.push(hex`25609513 0000 0007 0000000000000002 00000001fffff000 00001000   # BLOCK_STATUS last 4 KiB`);
    await h.settle();
    expect(h.take()).toEqual(hex`
      668e33ef 0001 0005 0000000000000001 0000000c 00000001 ffffffff 00000003   # one u32-sized hole
      668e33ef 0001 0005 0000000000000002 0000000c 00000001 00001000 00000003   # cut at the export end
    `);
  });

  it('fails requests with the NBD error values proto.md names, and keeps serving', async () => {
    const s = open(false, { maxRequestBytes: 0x1000 });
    const cases: Array<[Buffer, Buffer]> = [
      [request(0, 1, 0x100000 - 2, 4), hex`67446698 00000016 0000000000000001   # READ past the end: NBD_EINVAL`],
      [
        Buffer.concat([request(1, 2, 0x100000 - 2, 4), hex`00000000`]),
        hex`67446698 0000001c 0000000000000002   # WRITE past the end: NBD_ENOSPC`,
      ],
      [request(6, 3, 0x100000, 1), hex`67446698 0000001c 0000000000000003   # WRITE_ZEROES past the end: NBD_ENOSPC`],
      [request(4, 4, 0x100000, 1), hex`67446698 00000016 0000000000000004   # TRIM past the end: NBD_EINVAL`],
      [request(0, 5, 0, 0x2000), hex`67446698 00000016 0000000000000005   # READ over max payload, simple: NBD_EINVAL`],
      [request(0x63, 6, 0, 0), hex`67446698 00000016 0000000000000006   # unknown command: NBD_EINVAL`],
      [request(0, 7, 0, 4, 0x0010), hex`67446698 00000016 0000000000000007   # FAST_ZERO flag on READ: NBD_EINVAL`],
      [request(3, 8, 4096, 0), hex`67446698 00000016 0000000000000008   # FLUSH with an offset: NBD_EINVAL`],
      [request(7, 9, 0, 512), hex`67446698 00000016 0000000000000009   # BLOCK_STATUS without a context: NBD_EINVAL`],
    ];
    for (const [req, want] of cases) {
      s.conn.push(req);
      await s.settle();
      expect(s.take()).toEqual(want);
    }
    s.conn.push(request(0, 10, 0, 2));
    await s.settle();
    expect(s.take()).toEqual(hex`67446698 00000000 000000000000000a 0000   # and a good READ still works`);
    expect(s.ended()).toBe(false);
  });

  it('sends errors as NBD_REPLY_TYPE_ERROR chunks with a message when structured replies are on', async () => {
    const h = open(true, { maxRequestBytes: 0x1000 });
    h.conn.push(request(0, 1, 0, 0x2000));
    await h.settle();
    const r = h.take();
    expect(r.subarray(0, 16)).toEqual(hex`668e33ef 0001 8001 0000000000000001   # NBD_REPLY_TYPE_ERROR, final`);
    expect(r.readUInt32BE(16)).toBe(r.length - 20);
    expect(r.readUInt32BE(20)).toBe(75); // NBD_EOVERFLOW: structured replies may refuse a large read so
    expect(r.readUInt16BE(24)).toBe(r.length - 26);
    expect(r.subarray(26).toString()).toMatch(
      /NBD_CMD_READ cookie 0x0000000000000001 offset 0 length 8192 on 'disk': read of 8192 bytes exceeds the maximum payload 4096/,
    );
  });

  it('discards the payload of an oversize WRITE as it arrives and answers NBD_EINVAL, then serves the next request', async () => {
    const h = open(false, { maxRequestBytes: 0x1000 });
    h.conn.push(request(1, 1, 0, 0x3000));
    for (let i = 0; i < 3; i++) h.conn.push(Buffer.alloc(0x1000, 0xee));
    h.conn.push(Buffer.concat([request(1, 2, 0, 2), hex`abcd`]));
    await h.settle();
    expect(h.take()).toEqual(hex`
      67446698 00000016 0000000000000001   # oversize WRITE: NBD_EINVAL
      67446698 00000000 0000000000000002   # next WRITE: success
    `);
    expect(h.disk.data.subarray(0, 3)).toEqual(hex`abcd00`);
    expect(h.disk.calls.filter((c) => c.op === 'write')).toEqual([{ op: 'write', offset: 0, length: 2, fua: false }]);
  });

  it('refuses WRITE, TRIM and WRITE_ZEROES on a read-only export with NBD_EPERM, reads still work', async () => {
    const h = harness({ ro: new MemoryExport(0x1000, true) });
    h.conn.push(hex`00000003 49484156454f5054 00000007 00000008 00000002 726f 0000   # flags, NBD_OPT_GO "ro"`);
    h.take();
    h.conn.push(
      Buffer.concat([request(1, 1, 0, 1), hex`ff`, request(4, 2, 0, 512), request(6, 3, 0, 512), request(0, 4, 0, 1)]),
    );
    await h.settle();
    expect(h.take()).toEqual(hex`
      67446698 00000001 0000000000000001   # WRITE: NBD_EPERM
      67446698 00000001 0000000000000002   # TRIM: NBD_EPERM
      67446698 00000001 0000000000000003   # WRITE_ZEROES: NBD_EPERM
      67446698 00000000 0000000000000004 00 # READ: one byte
    `);
  });

  it('answers a failing export operation with NBD_EIO, simple or as an error chunk, and keeps serving', async () => {
    for (const structured of [false, true]) {
      const h = open(structured);
      h.disk.gate = (c) => (c.offset === 512 ? Promise.reject(new Error('disk on fire')) : Promise.resolve());
      h.conn.push(request(0, 1, 512, 4));
      await h.settle();
      h.conn.push(request(0, 2, 0, 1));
      await h.settle();
      const r = h.take();
      if (!structured) {
        expect(r).toEqual(hex`
          67446698 00000005 0000000000000001     # NBD_EIO, no payload
          67446698 00000000 0000000000000002 00  # the next READ
        `);
      } else {
        expect(r.subarray(0, 16)).toEqual(hex`668e33ef 0001 8001 0000000000000001   # NBD_REPLY_TYPE_ERROR, final`);
        expect(r.readUInt32BE(20)).toBe(5);
        const end = 20 + r.readUInt32BE(16);
        expect(r.subarray(26, end).toString()).toMatch(/NBD_CMD_READ .* offset 512 length 4 on 'disk': disk on fire$/);
        expect(r.subarray(end)).toEqual(hex`668e33ef 0001 0001 0000000000000002 00000009 0000000000000000 00`);
      }
    }
  });

  it('passes FUA and NO_HOLE through and flushes on FLUSH', async () => {
    const h = open(false);
    h.conn.push(
      Buffer.concat([request(1, 1, 0, 1, 0x0001), hex`01`, request(6, 2, 0, 4096, 0x0002), request(3, 3, 0, 0)]),
    );
    await h.settle();
    expect(h.disk.calls).toEqual([
      { op: 'write', offset: 0, length: 1, fua: true },
      { op: 'writeZeroes', offset: 0, length: 4096, fua: false, noHole: true },
      { op: 'flush' },
    ]);
    expect(h.take().length).toBe(3 * 16);
  });

  it('replies in completion order, each with its own cookie', async () => {
    const h = open(false);
    const slow = deferred();
    h.disk.gate = (c) => (c.offset === 0 ? slow.promise : Promise.resolve());
    h.conn.push(Buffer.concat([request(0, 0xa, 0, 1), request(0, 0xb, 4096, 1)]));
    await h.settle();
    expect(h.take()).toEqual(hex`67446698 00000000 000000000000000b 00   # the second request first`);
    slow.release();
    await h.settle();
    expect(h.take()).toEqual(hex`67446698 00000000 000000000000000a 00`);
  });

  it('stops reading at maxInFlight requests and resumes when one completes', async () => {
    const h = open(false, { maxInFlight: 2 });
    const gates = [deferred(), deferred(), deferred()];
    let n = 0;
    h.disk.gate = () => gates[n++].promise;
    h.conn.push(Buffer.concat([request(0, 1, 0, 1), request(0, 2, 0, 1), request(0, 3, 0, 1)]));
    await h.settle();
    expect(h.disk.calls.length).toBe(2);
    expect(h.paused()).toBe(true);
    gates[0].release();
    await h.settle();
    expect(h.disk.calls.length).toBe(3);
    expect(h.take()).toEqual(hex`67446698 00000000 0000000000000001 00`);
    gates[1].release();
    gates[2].release();
    await h.settle();
    expect(h.paused()).toBe(false);
    expect(h.take().length).toBe(2 * 17);
  });

  it('bounds the payload bytes in flight: a second large WRITE waits for the first', async () => {
    const h = open(false, { maxRequestBytes: 0x4000, maxInFlightBytes: 0x4000 });
    const first = deferred();
    h.disk.gate = (c) => (c.length === 0x4000 && c.offset === 0 ? first.promise : Promise.resolve());
    h.conn.push(Buffer.concat([request(1, 1, 0, 0x4000), Buffer.alloc(0x4000, 1)]));
    h.conn.push(Buffer.concat([request(1, 2, 0x4000, 0x4000), Buffer.alloc(0x4000, 2)]));
    await h.settle();
    expect(h.disk.calls.length).toBe(1);
    expect(h.paused()).toBe(true);
    first.release();
    await h.settle();
    expect(h.disk.calls.length).toBe(2);
    expect(h.take()).toEqual(hex`67446698 00000000 0000000000000001 67446698 00000000 0000000000000002`);
  });

  it('hangs up when input keeps coming although reading was paused (a transport ignoring pause)', async () => {
    const h = open(false, { maxInFlight: 1, maxRequestBytes: 4096 });
    const hold = deferred();
    h.disk.gate = () => hold.promise;
    h.conn.push(request(0, 1, 0, 1));
    await h.settle();
    expect(h.paused()).toBe(true);
    h.conn.push(Buffer.alloc(2 * 1024 * 1024));
    expect(h.ended()).toBe(false);
    h.conn.push(Buffer.alloc(2 * 1024 * 1024 + 4096 + 1));
    expect(h.ended()).toBe(true);
    hold.release();
  });

  it('stops reading while the transport holds too many unsent bytes, and resumes on drain', async () => {
    const h = open(false, { maxQueuedOutputBytes: 16 });
    h.congest(true);
    h.conn.push(request(0, 1, 0, 1));
    await h.settle();
    // That 17-byte reply went into a congested transport, over the 16-byte budget: the next request waits.
    h.conn.push(request(0, 2, 0, 1));
    await h.settle();
    expect(h.take()).toEqual(hex`67446698 00000000 0000000000000001 00`);
    expect(h.disk.calls.length).toBe(1);
    expect(h.paused()).toBe(true);
    h.congest(false);
    h.conn.drain();
    await h.settle();
    expect(h.take()).toEqual(hex`67446698 00000000 0000000000000002 00`);
    expect(h.paused()).toBe(false);
  });

  it('on NBD_CMD_DISC finishes requests in flight, then ends; a bad request magic ends at once', async () => {
    const h = open(false);
    const slow = deferred();
    h.disk.gate = () => slow.promise;
    h.conn.push(
      Buffer.concat([
        request(0, 1, 0, 1),
        hex`25609513 0000 0002 0000000000000002 0000000000000000 00000000   # NBD_CMD_DISC`,
      ]),
    );
    await h.settle();
    expect(h.ended()).toBe(false);
    slow.release();
    await h.settle();
    expect(h.take()).toEqual(hex`67446698 00000000 0000000000000001 00`);
    expect(h.ended()).toBe(true);

    const g = open(false);
    g.conn.push(
      hex`25609514 0000 0000 0000000000000003 0000000000000000 00000001   # 0x25609514: reserved, not a request`,
    );
    await g.settle();
    expect(g.take()).toEqual(Buffer.alloc(0));
    expect(g.ended()).toBe(true);
  });

  it('reassembles requests split at every byte', async () => {
    const h = open(false);
    const bytes = Buffer.concat([request(1, 1, 8, 3), hex`0a0b0c`, request(0, 2, 8, 3)]);
    for (const b of bytes) h.conn.push(Buffer.from([b]));
    await h.settle();
    expect(h.take()).toEqual(hex`67446698 00000000 0000000000000001 67446698 00000000 0000000000000002 0a0b0c`);
  });
});

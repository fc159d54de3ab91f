// Golden bytes typed by hand from io/blkif.h's layouts (xen-facts §2), never produced by the codec:
// x86_64 request: operation u8 @0, nr_segments u8 @1, handle u16 @2, pad u32 @4, id u64 @8,
// sector_number u64 @16, seg[11] @24 of {gref u32, first_sect u8, last_sect u8, pad u16}; x86_32 drops the
// pad at @4 (id @4, sector_number @12, seg @20, 108 bytes). All little-endian.
import {
  BLKIF_OP,
  BLKIF_RSP,
  BlkifError,
  decodeIndirectSegments,
  decodeRequest,
  decodeResponse,
  encodeIndirectSegments,
  encodeRequest,
  encodeResponse,
  parseProtocol,
  type BlkifRequest,
} from '../src/index.js';
import { hex } from '@dominion/testing';

const WRITE_2SEG: BlkifRequest = {
  operation: BLKIF_OP.BLKIF_OP_WRITE,
  nrSegments: 2,
  handle: 51712,
  id: 0x0102030405060708n,
  sectorNumber: 2048n,
  segments: [
    { gref: 8, firstSect: 0, lastSect: 7 },
    { gref: 9, firstSect: 0, lastSect: 3 },
  ],
};

const WRITE_2SEG_X86_64 = hex`
  01                  # operation      @0   BLKIF_OP_WRITE
  02                  # nr_segments    @1   2
  00ca                # handle         @2   51712 = 0xca00 (xvda)
  00000000            # pad            @4
  0807060504030201    # id             @8   0x0102030405060708
  0008000000000000    # sector_number  @16  2048 = 0x800
  08000000 00 07 0000 # seg[0]         @24  gref 8, sectors 0..7
  09000000 00 03 0000 # seg[1]         @32  gref 9, sectors 0..3
  0000000000000000 0000000000000000 0000000000000000  # seg[2..4]  @40
  0000000000000000 0000000000000000 0000000000000000  # seg[5..7]  @64
  0000000000000000 0000000000000000 0000000000000000  # seg[8..10] @88, ends @112
`;

const WRITE_2SEG_X86_32 = hex`
  01 02 00ca          # operation @0, nr_segments @1, handle @2
  0807060504030201    # id             @4
  0008000000000000    # sector_number  @12
  08000000 00 07 0000 # seg[0]         @20
  09000000 00 03 0000 # seg[1]         @28
  0000000000000000 0000000000000000 0000000000000000  # seg[2..4]  @36
  0000000000000000 0000000000000000 0000000000000000  # seg[5..7]  @60
  0000000000000000 0000000000000000 0000000000000000  # seg[8..10] @84, ends @108
`;

const DISCARD: BlkifRequest = {
  operation: BLKIF_OP.BLKIF_OP_DISCARD,
  flag: 1,
  handle: 51728,
  id: 42n,
  sectorNumber: 4096n,
  nrSectors: 2048n,
};

const DISCARD_X86_64 = hex`
  05                  # operation      @0   BLKIF_OP_DISCARD
  01                  # flag           @1   BLKIF_DISCARD_SECURE
  10ca                # handle         @2   51728 = 0xca10 (xvdb)
  00000000            # pad            @4
  2a00000000000000    # id             @8   42
  0010000000000000    # sector_number  @16  4096
  0008000000000000    # nr_sectors     @24  2048
  0000000000000000 0000000000000000 0000000000000000 0000000000000000 0000000000000000  # @32..72
  0000000000000000 0000000000000000 0000000000000000 0000000000000000 0000000000000000  # @72..112
`;

const DISCARD_X86_32 = hex`
  05 01 10ca          # operation @0, flag @1, handle @2
  2a00000000000000    # id             @4
  0010000000000000    # sector_number  @12
  0008000000000000    # nr_sectors     @20
  0000000000000000 0000000000000000 0000000000000000 0000000000000000 0000000000000000  # @28..68
  0000000000000000 0000000000000000 0000000000000000 0000000000000000 0000000000000000  # @68..108
`;

const INDIRECT: BlkifRequest = {
  operation: BLKIF_OP.BLKIF_OP_INDIRECT,
  indirectOp: BLKIF_OP.BLKIF_OP_WRITE,
  nrSegments: 600,
  handle: 51712,
  id: 0x1122334455667788n,
  sectorNumber: 65536n,
  indirectGrefs: [0x100, 0x101],
};

const INDIRECT_X86_64 = hex`
  06                  # operation      @0   BLKIF_OP_INDIRECT
  01                  # indirect_op    @1   BLKIF_OP_WRITE
  5802                # nr_segments    @2   600 = 0x258 (two indirect pages)
  00000000            # pad            @4
  8877665544332211    # id             @8   0x1122334455667788
  0000010000000000    # sector_number  @16  65536 = 0x10000
  00ca                # handle         @24  51712
  0000                # pad            @26
  00010000 01010000   # indirect_grefs @28  0x100, 0x101
  00000000 00000000 00000000 00000000 00000000 00000000  # indirect_grefs[2..7] @36..60
  00000000            # pad            @60, struct ends @64
  0000000000000000 0000000000000000 0000000000000000 0000000000000000 0000000000000000 0000000000000000  # rest of the 112-byte slot
`;

const INDIRECT_X86_32 = hex`
  06 01 5802          # operation @0, indirect_op @1, nr_segments @2
  8877665544332211    # id             @4
  0000010000000000    # sector_number  @12
  00ca 0000           # handle @20, pad @22
  00010000 01010000   # indirect_grefs @24
  00000000 00000000 00000000 00000000 00000000 00000000  # indirect_grefs[2..7] @32..56
  0000000000000000    # pad            @56, struct ends @64
  00000000000000000000000000000000 00000000000000000000000000000000 000000000000000000000000  # rest of the 108-byte slot (44 bytes)
`;

describe('blkif request codec', () => {
  it.each([
    ['WRITE, 2 segments, x86_64', WRITE_2SEG, 'x86_64-abi', WRITE_2SEG_X86_64],
    ['WRITE, 2 segments, x86_32', WRITE_2SEG, 'x86_32-abi', WRITE_2SEG_X86_32],
    ['WRITE, 2 segments, arm (x86_64 layout)', WRITE_2SEG, 'arm-abi', WRITE_2SEG_X86_64],
    ['DISCARD secure, x86_64', DISCARD, 'x86_64-abi', DISCARD_X86_64],
    ['DISCARD secure, x86_32', DISCARD, 'x86_32-abi', DISCARD_X86_32],
    ['INDIRECT WRITE of 600 segments, x86_64', INDIRECT, 'x86_64-abi', INDIRECT_X86_64],
    ['INDIRECT WRITE of 600 segments, x86_32', INDIRECT, 'x86_32-abi', INDIRECT_X86_32],
  ] as const)('%s encodes to the golden bytes and decodes back', (_name, req, protocol, golden) => {
    expect(golden.length).toBe(protocol === 'x86_32-abi' ? 108 : 112);
    expect(encodeRequest(req, protocol)).toEqual(golden);
    expect(decodeRequest(golden, protocol)).toEqual(req);
  });

  it('round-trips READ, FLUSH_DISKCACHE with no segments and WRITE_BARRIER', () => {
    const reqs: BlkifRequest[] = [
      {
        operation: BLKIF_OP.BLKIF_OP_READ,
        nrSegments: 11,
        handle: 2048,
        id: (1n << 64n) - 1n,
        sectorNumber: (1n << 64n) - 8n,
        segments: Array.from({ length: 11 }, (_, i) => ({ gref: 0xffffffff - i, firstSect: i % 8, lastSect: 7 })),
      },
      {
        operation: BLKIF_OP.BLKIF_OP_FLUSH_DISKCACHE,
        nrSegments: 0,
        handle: 51712,
        id: 7n,
        sectorNumber: 0n,
        segments: [],
      },
      {
        operation: BLKIF_OP.BLKIF_OP_WRITE_BARRIER,
        nrSegments: 1,
        handle: 51712,
        id: 8n,
        sectorNumber: 16n,
        segments: [{ gref: 10, firstSect: 1, lastSect: 2 }],
      },
    ];
    for (const protocol of ['x86_64-abi', 'x86_32-abi'] as const) {
      for (const r of reqs) expect(decodeRequest(encodeRequest(r, protocol), protocol)).toEqual(r);
    }
  });

  it('decodes a request it must refuse, so that it can be answered by id', () => {
    const bad = Buffer.from(WRITE_2SEG_X86_64);
    bad[1] = 12; // nr_segments beyond 11
    const r = decodeRequest(bad);
    expect(r.id).toBe(0x0102030405060708n);
    expect(r).toMatchObject({ nrSegments: 12 });
    expect((r as { segments: unknown[] }).segments).toHaveLength(11);
    bad[0] = 4; // BLKIF_OP_RESERVED_1
    expect(decodeRequest(bad)).toMatchObject({ operation: 4, id: 0x0102030405060708n });
  });

  it('refuses too few bytes (EPROTO) and unencodable fields (EINVAL) by name', () => {
    expect(() => decodeRequest(WRITE_2SEG_X86_64.subarray(0, 111))).toThrow(
      /blkif request of 111 bytes, operation 1 needs 112/,
    );
    expect(decodeRequest(DISCARD_X86_64.subarray(0, 32))).toEqual(DISCARD); // a discard struct is 32 bytes
    expect(() => decodeRequest(Buffer.alloc(0))).toThrow(BlkifError);
    const tooMany = {
      ...WRITE_2SEG,
      segments: Array.from({ length: 12 }, () => ({ gref: 1, firstSect: 0, lastSect: 7 })),
    };
    expect(() => encodeRequest(tooMany)).toThrow(/request id 72623859790382856: 12 segments, at most 11 fit/);
    expect(() => encodeRequest({ ...WRITE_2SEG, handle: 0x10000 })).toThrow(/handle: 65536 is not a u16/);
    expect(() => encodeRequest({ ...WRITE_2SEG, id: 1n << 64n })).toThrow(/id: 18446744073709551616 is not a u64/);
    expect(() => encodeRequest({ ...INDIRECT, indirectGrefs: Array.from({ length: 9 }, () => 1) })).toThrow(
      /9 indirect_grefs, at most 8/,
    );
  });
});

describe('blkif response codec', () => {
  const RSP_X86_64 = hex`
    0807060504030201    # id         @0   0x0102030405060708
    01                  # operation  @8   BLKIF_OP_WRITE
    00                  # pad        @9
    ffff                # status     @10  BLKIF_RSP_ERROR (-1)
    00000000            # pad        @12, ends @16
  `;
  const RSP_X86_32 = hex`
    0807060504030201 01 00 feff   # id @0, operation @8, pad @9, status @10 BLKIF_RSP_EOPNOTSUPP (-2); 12 bytes
  `;

  it('encodes and decodes Xen’s layouts', () => {
    const err = { id: 0x0102030405060708n, operation: BLKIF_OP.BLKIF_OP_WRITE, status: BLKIF_RSP.BLKIF_RSP_ERROR };
    expect(encodeResponse(err)).toEqual(RSP_X86_64);
    expect(decodeResponse(RSP_X86_64)).toEqual(err);
    const ns = { ...err, status: BLKIF_RSP.BLKIF_RSP_EOPNOTSUPP };
    expect(encodeResponse(ns, 'x86_32-abi')).toEqual(RSP_X86_32);
    expect(decodeResponse(RSP_X86_32, 'x86_32-abi')).toEqual(ns);
  });

  it('refuses a short response and a status that is not an i16', () => {
    expect(() => decodeResponse(Buffer.alloc(12))).toThrow(/blkif response of 12 bytes, x86_64-abi needs 16/);
    expect(() => encodeResponse({ id: 1n, operation: 0, status: 40000 })).toThrow(/status 40000 is not an i16/);
  });
});

describe('indirect pages', () => {
  it('hold 512 segments each, 8 bytes apiece', () => {
    const segs = Array.from({ length: 513 }, (_, i) => ({ gref: 1000 + i, firstSect: 0, lastSect: 7 }));
    const pages = encodeIndirectSegments(segs);
    expect(pages).toHaveLength(2);
    expect(pages[0].subarray(0, 16)).toEqual(hex`
      e8030000 00 07 0000   # segment 0:   gref 1000, sectors 0..7
      e9030000 00 07 0000   # segment 1:   gref 1001
    `);
    expect(pages[1].subarray(0, 8)).toEqual(hex`e8050000 00 07 0000   # segment 512 opens page 1: gref 1512`);
    expect(decodeIndirectSegments(pages, 513)).toEqual(segs);
    expect(() => decodeIndirectSegments(pages.slice(0, 1), 513)).toThrow(
      /513 indirect segments need 2 indirect pages, got 1/,
    );
  });
});

describe('protocol', () => {
  it('defaults to the native x86_64 ABI and refuses unknown ones', () => {
    expect(parseProtocol(undefined)).toBe('x86_64-abi');
    expect(parseProtocol('x86_32-abi')).toBe('x86_32-abi');
    expect(() => parseProtocol('ppc-abi')).toThrow(/protocol "ppc-abi" is none of x86_32-abi, x86_64-abi, arm-abi/);
  });
});

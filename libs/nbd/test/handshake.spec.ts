// Golden bytes of the fixed newstyle handshake, written by hand from proto.md ("Newstyle negotiation",
// "Fixed newstyle negotiation", "Option types", "Option reply types"). Offsets are within each message.
import { hex } from '@dominion/testing';
import { harness } from './helpers/harness.js';
import { MemoryExport } from './helpers/memory-export.js';

const GREETING = hex`
  4e42444d41474943   # 0: NBDMAGIC (INIT_PASSWD)
  49484156454f5054   # 8: IHAVEOPT
  0003               # 16: handshake flags: FIXED_NEWSTYLE (bit 0) | NO_ZEROES (bit 1)
`;
const CLIENT_FLAGS_BOTH = hex`00000003 # C_FIXED_NEWSTYLE | C_NO_ZEROES`;

function exports(): { disk: MemoryExport; ro: MemoryExport } {
  const disk = new MemoryExport(0x100000);
  disk.description = 'a test disk';
  return { disk, ro: new MemoryExport(0x2000, true) };
}

describe('handshake', () => {
  it('greets with NBDMAGIC, IHAVEOPT and FIXED_NEWSTYLE|NO_ZEROES', () => {
    const h = harness(exports());
    expect(h.take()).toEqual(GREETING);
  });

  it('answers NBD_OPT_LIST with one NBD_REP_SERVER per export, then NBD_REP_ACK', () => {
    const h = harness(exports());
    h.take();
    h.conn.push(CLIENT_FLAGS_BOTH);
    h.conn.push(hex`
      49484156454f5054   # 0: IHAVEOPT
      00000003           # 8: NBD_OPT_LIST
      00000000           # 12: no data
    `);
    expect(h.take()).toEqual(hex`
      0003e889045565a9 00000003 00000002 00000008   # reply magic, NBD_OPT_LIST, NBD_REP_SERVER, length 8
      00000004 6469736b                             # name length 4, "disk"
      0003e889045565a9 00000003 00000002 00000006   # NBD_REP_SERVER, length 6
      00000002 726f                                 # name length 2, "ro"
      0003e889045565a9 00000003 00000001 00000000   # NBD_REP_ACK, no data
    `);
  });

  it('answers NBD_OPT_STRUCTURED_REPLY, NBD_OPT_SET_META_CONTEXT base:allocation and NBD_OPT_GO with infos', () => {
    const h = harness(exports());
    h.take();
    h.conn.push(CLIENT_FLAGS_BOTH);
    h.conn.push(hex`49484156454f5054 00000008 00000000   # NBD_OPT_STRUCTURED_REPLY, no data`);
    expect(h.take()).toEqual(hex`0003e889045565a9 00000008 00000001 00000000   # NBD_REP_ACK`);

    h.conn.push(hex`
      49484156454f5054 0000000a 0000001f   # NBD_OPT_SET_META_CONTEXT, 31 bytes
      00000004 6469736b                    # 16: export name length 4, "disk"
      00000001                             # 24: one query
      0000000f 626173653a616c6c6f636174696f6e  # 28: length 15, "base:allocation"
    `);
    expect(h.take()).toEqual(hex`
      0003e889045565a9 0000000a 00000004 00000013   # NBD_REP_META_CONTEXT, length 19
      00000001                                      # context id (ours: 1)
      626173653a616c6c6f636174696f6e                # "base:allocation"
      0003e889045565a9 0000000a 00000001 00000000   # NBD_REP_ACK
    `);

    h.conn.push(hex`
      49484156454f5054 00000007 00000010   # NBD_OPT_GO, 16 bytes
      00000004 6469736b                    # 16: name length 4, "disk"
      0003 0001 0002 0003                  # 24: 3 requests: NBD_INFO_NAME, NBD_INFO_DESCRIPTION, NBD_INFO_BLOCK_SIZE
    `);
    expect(h.take()).toEqual(hex`
      0003e889045565a9 00000007 00000003 0000000c   # NBD_REP_INFO, length 12
      0000                                          # NBD_INFO_EXPORT
      0000000000100000                              # size 1 MiB
      00ed   # flags: HAS_FLAGS 01|SEND_FLUSH 04|SEND_FUA 08|SEND_TRIM 20|SEND_WRITE_ZEROES 40|SEND_DF 80
      0003e889045565a9 00000007 00000003 00000006   # NBD_REP_INFO, length 6
      0001 6469736b                                 # NBD_INFO_NAME "disk"
      0003e889045565a9 00000007 00000003 0000000d   # NBD_REP_INFO, length 13
      0002 612074657374206469736b                   # NBD_INFO_DESCRIPTION "a test disk"
      0003e889045565a9 00000007 00000003 0000000e   # NBD_REP_INFO, length 14
      0003                                          # NBD_INFO_BLOCK_SIZE
      00000001 00001000 02000000                    # min 1, preferred 4096, max 32 MiB
      0003e889045565a9 00000007 00000001 00000000   # NBD_REP_ACK: transmission starts
    `);

    // In transmission now: a BLOCK_STATUS gets one NBD_REPLY_TYPE_BLOCK_STATUS chunk for context 1.
    h.conn.push(hex`
      25609513 0000 0007        # NBD_REQUEST_MAGIC, no flags, NBD_CMD_BLOCK_STATUS
      0102030405060708          # 8: cookie
      0000000000000000 00002000 # 16: offset 0, 24: length 8 KiB
    `);
    return h.settle().then(() =>
      expect(h.take()).toEqual(hex`
        668e33ef 0001 0005        # NBD_STRUCTURED_REPLY_MAGIC, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_BLOCK_STATUS
        0102030405060708 0000000c # cookie, length 12
        00000001                  # context id 1
        00002000 00000003         # 8 KiB: NBD_STATE_HOLE | NBD_STATE_ZERO
      `),
    );
  });

  it('ends NBD_OPT_EXPORT_NAME with size, flags and 124 zeroes unless NO_ZEROES was agreed', () => {
    const withZeroes = harness(exports());
    withZeroes.take();
    withZeroes.conn.push(hex`00000001 # C_FIXED_NEWSTYLE only`);
    withZeroes.conn.push(hex`49484156454f5054 00000001 00000002 726f  # NBD_OPT_EXPORT_NAME "ro"`);
    expect(withZeroes.take()).toEqual(
      Buffer.concat([
        hex`
          0000000000002000   # 0: size 8 KiB
          000f               # 8: HAS_FLAGS 01|READ_ONLY 02|SEND_FLUSH 04|SEND_FUA 08 (no trim/zeroes when read-only)
        `,
        Buffer.alloc(124), // 10: the reserved zeroes
      ]),
    );

    const noZeroes = harness(exports());
    noZeroes.take();
    noZeroes.conn.push(CLIENT_FLAGS_BOTH);
    noZeroes.conn.push(hex`49484156454f5054 00000001 00000004 6469736b  # NBD_OPT_EXPORT_NAME "disk"`);
    expect(noZeroes.take()).toEqual(hex`
      0000000000100000   # size 1 MiB
      006d               # HAS_FLAGS 01|SEND_FLUSH 04|SEND_FUA 08|SEND_TRIM 20|SEND_WRITE_ZEROES 40; no DF without structured replies
    `);
  });

  it('answers an unknown option with NBD_REP_ERR_UNSUP and keeps haggling', () => {
    const h = harness(exports());
    h.take();
    h.conn.push(CLIENT_FLAGS_BOTH);
    h.conn.push(hex`49484156454f5054 00000042 00000003 616263   # option 0x42 with 3 bytes of data "abc"`);
    const r = h.take();
    expect(r.subarray(0, 16)).toEqual(hex`0003e889045565a9 00000042 80000001   # NBD_REP_ERR_UNSUP`);
    expect(r.readUInt32BE(16)).toBe(r.length - 20);
    expect(r.subarray(20).toString()).toMatch(/NBD_OPT\(66\) is not supported/);
    h.conn.push(hex`49484156454f5054 00000003 00000000   # NBD_OPT_LIST`);
    expect(h.take().subarray(0, 16)).toEqual(hex`0003e889045565a9 00000003 00000002   # NBD_REP_SERVER`);
    expect(h.ended()).toBe(false);
  });

  it('answers malformed NBD_OPT_GO and NBD_OPT_LIST with NBD_REP_ERR_INVALID, then serves a well-formed one', () => {
    const h = harness(exports());
    h.take();
    h.conn.push(CLIENT_FLAGS_BOTH);
    h.conn.push(hex`
      49484156454f5054 00000007 00000006   # NBD_OPT_GO, 6 bytes
      00000100 0000                        # name length 256: more than the 0 bytes left
    `);
    const bad = h.take();
    expect(bad.subarray(0, 16)).toEqual(hex`0003e889045565a9 00000007 80000003   # NBD_REP_ERR_INVALID`);
    expect(bad.subarray(20).toString()).toMatch(/name length 256 exceeds option data length 6/);

    h.conn.push(hex`49484156454f5054 00000003 00000001 00   # NBD_OPT_LIST with a stray byte`);
    expect(h.take().subarray(0, 16)).toEqual(hex`0003e889045565a9 00000003 80000003   # NBD_REP_ERR_INVALID`);

    h.conn.push(hex`49484156454f5054 00000006 00000008 00000002 726f 0000   # NBD_OPT_INFO "ro", no requests`);
    expect(h.take()).toEqual(hex`
      0003e889045565a9 00000006 00000003 0000000c   # NBD_REP_INFO, length 12
      0000 0000000000002000 000f                    # NBD_INFO_EXPORT, 8 KiB, HAS_FLAGS|READ_ONLY|SEND_FLUSH|SEND_FUA
      0003e889045565a9 00000006 00000003 0000000e   # NBD_REP_INFO, length 14
      0003 00000001 00001000 02000000               # NBD_INFO_BLOCK_SIZE 1 / 4096 / 32 MiB
      0003e889045565a9 00000006 00000001 00000000   # NBD_REP_ACK (still haggling: this was INFO)
    `);
  });

  it('answers an unknown export name in NBD_OPT_GO with NBD_REP_ERR_UNKNOWN; NBD_OPT_EXPORT_NAME can only hang up', () => {
    const h = harness(exports());
    h.take();
    h.conn.push(CLIENT_FLAGS_BOTH);
    h.conn.push(hex`49484156454f5054 00000007 00000009 00000003 6e6f70 0000   # NBD_OPT_GO "nop"`);
    const r = h.take();
    expect(r.subarray(0, 16)).toEqual(hex`0003e889045565a9 00000007 80000006   # NBD_REP_ERR_UNKNOWN`);
    expect(r.subarray(20).toString()).toMatch(/no export named 'nop'/);
    h.conn.push(hex`49484156454f5054 00000007 0000000a 00000004 6469736b 0000   # NBD_OPT_GO "disk"`);
    expect(h.take().subarray(-20)).toEqual(hex`0003e889045565a9 00000007 00000001 00000000   # NBD_REP_ACK`);

    const x = harness(exports());
    x.take();
    x.conn.push(CLIENT_FLAGS_BOTH);
    x.conn.push(hex`49484156454f5054 00000001 00000003 6e6f70   # NBD_OPT_EXPORT_NAME "nop"`);
    expect(x.take()).toEqual(Buffer.alloc(0));
    expect(x.ended()).toBe(true);
  });

  it('lists base:allocation for an empty or "base:" query and selects nothing for other namespaces', () => {
    const h = harness(exports());
    h.take();
    h.conn.push(CLIENT_FLAGS_BOTH);
    h.conn.push(
      hex`49484156454f5054 00000009 0000000c 00000004 6469736b 00000000   # LIST_META_CONTEXT "disk", 0 queries`,
    );
    expect(h.take()).toEqual(hex`
      0003e889045565a9 00000009 00000004 00000013 00000000 626173653a616c6c6f636174696f6e  # META_CONTEXT id 0 "base:allocation"
      0003e889045565a9 00000009 00000001 00000000                                          # NBD_REP_ACK
    `);
    h.conn.push(hex`49484156454f5054 00000008 00000000   # NBD_OPT_STRUCTURED_REPLY`);
    h.take();
    h.conn.push(hex`
      49484156454f5054 0000000a 0000001a   # SET_META_CONTEXT, 26 bytes
      00000004 6469736b 00000001           # "disk", one query
      0000000a 71656d753a6469727479         # length 10, "qemu:dirty" (unknown here: ignored)
    `);
    expect(h.take()).toEqual(hex`0003e889045565a9 0000000a 00000001 00000000   # only NBD_REP_ACK`);
  });

  it('refuses NBD_OPT_SET_META_CONTEXT before structured replies', () => {
    const h = harness(exports());
    h.take();
    h.conn.push(CLIENT_FLAGS_BOTH);
    h.conn.push(hex`
      49484156454f5054 0000000a 0000001f 00000004 6469736b 00000001
      0000000f 626173653a616c6c6f636174696f6e
    `);
    expect(h.take().subarray(0, 16)).toEqual(hex`0003e889045565a9 0000000a 80000003   # NBD_REP_ERR_INVALID`);
  });

  it('acknowledges NBD_OPT_ABORT and ends the connection', () => {
    const h = harness(exports());
    h.take();
    h.conn.push(CLIENT_FLAGS_BOTH);
    h.conn.push(hex`49484156454f5054 00000002 00000000   # NBD_OPT_ABORT`);
    expect(h.take()).toEqual(hex`0003e889045565a9 00000002 00000001 00000000   # NBD_REP_ACK`);
    expect(h.ended()).toBe(true);
  });

  it('hangs up on unknown client flags and on a bad option magic, answering nothing', () => {
    const a = harness(exports());
    a.take();
    a.conn.push(hex`00000004 # bit 2: not offered`);
    expect(a.ended()).toBe(true);

    const b = harness(exports());
    b.take();
    b.conn.push(CLIENT_FLAGS_BOTH);
    b.conn.push(hex`49484156454f5055 00000003 00000000   # IHAVEOPU: one bit off`);
    expect(b.take()).toEqual(Buffer.alloc(0));
    expect(b.ended()).toBe(true);

    const c = harness(exports());
    c.take();
    c.conn.push(CLIENT_FLAGS_BOTH);
    c.conn.push(hex`49484156454f5054 00000003 00000000`);
    expect(c.ended()).toBe(false);
  });

  it('reassembles options split at any byte', () => {
    const h = harness(exports());
    h.take();
    const all = Buffer.concat([CLIENT_FLAGS_BOTH, hex`49484156454f5054 00000003 00000000`]);
    for (const byte of all) h.conn.push(Buffer.from([byte]));
    expect(h.take().subarray(-20)).toEqual(hex`0003e889045565a9 00000003 00000001 00000000   # NBD_REP_ACK`);
  });
});

// Golden bytes: hand-written from the 9P2000.L layouts (diod protocol.md, Linux include/net/9p/9p.h),
// each field annotated with its offset; the Rreaddir entries are bytes captured from a real diod server
// (the sample session in diod's protocol.md). Every case is decoded AND encoded against the same bytes.
import { hex } from '@dominion/testing';
import {
  P9Error,
  P9Message,
  P9_MESSAGES,
  P9MessageName,
  decodeDirents,
  decodeMessage,
  encodeDirents,
  encodeMessage,
} from '../src/index.js';

const q = (type: number, path: bigint) => ({ type, version: 0, path });

const golden: { name: string; bytes: Buffer; msg: P9Message }[] = [
  {
    name: 'Tversion',
    bytes: hex`
      15 00 00 00              # 0  size[4] = 21
      64                       # 4  type[1] = 100 Tversion
      ff ff                    # 5  tag[2] = NOTAG
      00 20 00 00              # 7  msize[4] = 8192
      08 00                    # 11 version[s] length = 8
      39 50 32 30 30 30 2e 4c  # 13 "9P2000.L"
    `,
    msg: { type: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' },
  },
  {
    name: 'Rversion unknown',
    bytes: hex`
      14 00 00 00              # 0  size = 20
      65                       # 4  type = 101 Rversion
      ff ff                    # 5  tag
      00 20 00 00              # 7  msize = 8192
      07 00 75 6e 6b 6e 6f 77 6e  # 11 "unknown"
    `,
    msg: { type: 'Rversion', tag: 0xffff, msize: 8192, version: 'unknown' },
  },
  {
    name: 'Tattach',
    bytes: hex`
      21 00 00 00              # 0  size = 33
      68                       # 4  type = 104 Tattach
      01 00                    # 5  tag = 1
      00 00 00 00              # 7  fid = 0
      ff ff ff ff              # 11 afid = NOFID
      04 00 72 6f 6f 74        # 15 uname = "root"
      06 00 2f 74 6d 70 2f 39  # 21 aname = "/tmp/9"
      ff ff ff ff              # 29 n_uname = NONUNAME
    `,
    msg: { type: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: 'root', aname: '/tmp/9', n_uname: 0xffffffff },
  },
  {
    name: 'Rattach',
    bytes: hex`
      14 00 00 00                # 0  size = 20
      69                         # 4  type = 105 Rattach
      01 00                      # 5  tag
      80                         # 7  qid.type = QTDIR
      00 00 00 00                # 8  qid.version
      ac 1f 2c 00 00 00 00 00    # 12 qid.path = 0x2c1fac
    `,
    msg: { type: 'Rattach', tag: 1, qid: q(0x80, 0x2c1facn) },
  },
  {
    name: 'Twalk',
    bytes: hex`
      1b 00 00 00      # 0  size = 27
      6e               # 4  type = 110 Twalk
      01 00            # 5  tag
      01 00 00 00      # 7  fid = 1
      02 00 00 00      # 11 newfid = 2
      02 00            # 15 nwname = 2
      03 00 75 73 72   # 17 "usr"
      03 00 62 69 6e   # 22 "bin"
    `,
    msg: { type: 'Twalk', tag: 1, fid: 1, newfid: 2, wnames: ['usr', 'bin'] },
  },
  {
    name: 'Rwalk',
    bytes: hex`
      23 00 00 00                             # 0  size = 35
      6f                                      # 4  type = 111 Rwalk
      01 00                                   # 5  tag
      02 00                                   # 7  nwqid = 2
      80 00 00 00 00 10 00 00 00 00 00 00 00  # 9  qid dir path 0x10
      00 07 00 00 00 11 00 00 00 00 00 00 00  # 22 qid file version 7 path 0x11
    `,
    msg: { type: 'Rwalk', tag: 1, wqids: [q(0x80, 0x10n), { type: 0, version: 7, path: 0x11n }] },
  },
  {
    name: 'Tlopen',
    bytes: hex`
      0f 00 00 00    # 0  size = 15
      0c             # 4  type = 12 Tlopen
      01 00          # 5  tag
      02 00 00 00    # 7  fid = 2
      00 80 00 00    # 11 flags = 0100000 (O_LARGEFILE)
    `,
    msg: { type: 'Tlopen', tag: 1, fid: 2, flags: 0o100000 },
  },
  {
    name: 'Rlopen',
    bytes: hex`
      18 00 00 00                             # 0  size = 24
      0d                                      # 4  type = 13 Rlopen
      01 00                                   # 5  tag
      00 00 00 00 00 e4 1d 2c 00 00 00 00 00  # 7  qid file path 0x2c1de4
      e8 1f 00 00                             # 20 iounit = 8168
    `,
    msg: { type: 'Rlopen', tag: 1, qid: q(0, 0x2c1de4n), iounit: 8168 },
  },
  {
    name: 'Tlcreate',
    bytes: hex`
      1c 00 00 00    # 0  size = 28
      0e             # 4  type = 14 Tlcreate
      01 00          # 5  tag
      02 00 00 00    # 7  fid = 2
      03 00 66 6f 6f # 11 name = "foo"
      41 82 00 00    # 16 flags = 0x8241
      a4 81 00 00    # 20 mode = 0100644
      f4 01 00 00    # 24 gid = 500
    `,
    msg: { type: 'Tlcreate', tag: 1, fid: 2, name: 'foo', flags: 0x8241, mode: 0o100644, gid: 500 },
  },
  {
    name: 'Tread',
    bytes: hex`
      17 00 00 00               # 0  size = 23
      74                        # 4  type = 116 Tread
      01 00                     # 5  tag
      05 00 00 00               # 7  fid = 5
      06 00 00 00 00 00 00 00   # 11 offset = 6
      00 80 00 00               # 19 count = 32768
    `,
    msg: { type: 'Tread', tag: 1, fid: 5, offset: 6n, count: 32768 },
  },
  {
    name: 'Rread',
    bytes: hex`
      11 00 00 00         # 0  size = 17
      75                  # 4  type = 117 Rread
      01 00               # 5  tag
      06 00 00 00         # 7  count = 6
      68 65 6c 6c 6f 0a   # 11 "hello\n"
    `,
    msg: { type: 'Rread', tag: 1, data: Buffer.from('hello\n') },
  },
  {
    name: 'Twrite',
    bytes: hex`
      1d 00 00 00               # 0  size = 29
      76                        # 4  type = 118 Twrite
      01 00                     # 5  tag
      02 00 00 00               # 7  fid = 2
      00 00 00 00 00 00 00 00   # 11 offset = 0
      06 00 00 00               # 19 count = 6
      68 65 6c 6c 6f 0a         # 23 data
    `,
    msg: { type: 'Twrite', tag: 1, fid: 2, offset: 0n, data: Buffer.from('hello\n') },
  },
  {
    name: 'Rwrite',
    bytes: hex`0b 00 00 00  77  01 00  06 00 00 00   # size 11, Rwrite 119, tag 1, count 6`,
    msg: { type: 'Rwrite', tag: 1, count: 6 },
  },
  {
    name: 'Tgetattr',
    bytes: hex`
      13 00 00 00               # 0  size = 19
      18                        # 4  type = 24 Tgetattr
      01 00                     # 5  tag
      00 00 00 00               # 7  fid = 0
      ff 07 00 00 00 00 00 00   # 11 request_mask = P9_GETATTR_BASIC
    `,
    msg: { type: 'Tgetattr', tag: 1, fid: 0, request_mask: 0x7ffn },
  },
  {
    name: 'Rgetattr',
    bytes: hex`
      a0 00 00 00                             # 0   size = 160
      19                                      # 4   type = 25 Rgetattr
      01 00                                   # 5   tag
      ff 07 00 00 00 00 00 00                 # 7   valid = 0x7ff
      80 00 00 00 00 ac 1f 2c 00 00 00 00 00  # 15  qid
      ed 41 00 00                             # 28  mode = 040755
      f4 01 00 00                             # 32  uid = 500
      f4 01 00 00                             # 36  gid = 500
      38 00 00 00 00 00 00 00                 # 40  nlink = 56
      00 00 00 00 00 00 00 00                 # 48  rdev
      00 10 00 00 00 00 00 00                 # 56  size = 4096
      00 10 00 00 00 00 00 00                 # 64  blksize = 4096
      68 0a 00 00 00 00 00 00                 # 72  blocks = 2664
      00 10 5e 5f 00 00 00 00                 # 80  atime_sec = 0x5f5e1000
      00 65 cd 1d 00 00 00 00                 # 88  atime_nsec = 500000000
      01 10 5e 5f 00 00 00 00                 # 96  mtime_sec
      01 00 00 00 00 00 00 00                 # 104 mtime_nsec = 1
      02 10 5e 5f 00 00 00 00                 # 112 ctime_sec
      ff c9 9a 3b 00 00 00 00                 # 120 ctime_nsec = 999999999
      00 00 00 00 00 00 00 00                 # 128 btime_sec
      00 00 00 00 00 00 00 00                 # 136 btime_nsec
      00 00 00 00 00 00 00 00                 # 144 gen
      09 00 00 00 00 00 00 00                 # 152 data_version = 9
    `,
    msg: {
      type: 'Rgetattr',
      tag: 1,
      valid: 0x7ffn,
      qid: q(0x80, 0x2c1facn),
      mode: 0o40755,
      uid: 500,
      gid: 500,
      nlink: 56n,
      rdev: 0n,
      size: 4096n,
      blksize: 4096n,
      blocks: 2664n,
      atime_sec: 0x5f5e1000n,
      atime_nsec: 500000000n,
      mtime_sec: 0x5f5e1001n,
      mtime_nsec: 1n,
      ctime_sec: 0x5f5e1002n,
      ctime_nsec: 999999999n,
      btime_sec: 0n,
      btime_nsec: 0n,
      gen: 0n,
      data_version: 9n,
    },
  },
  {
    name: 'Tsetattr',
    bytes: hex`
      43 00 00 00               # 0  size = 67
      1a                        # 4  type = 26 Tsetattr
      01 00                     # 5  tag
      02 00 00 00               # 7  fid = 2
      41 00 00 00               # 11 valid = MODE|CTIME
      00 40 00 00               # 15 mode = 040000
      00 00 00 00               # 19 uid
      00 00 00 00               # 23 gid
      00 00 00 00 00 00 00 00   # 27 size
      00 00 00 00 00 00 00 00   # 35 atime_sec
      00 00 00 00 00 00 00 00   # 43 atime_nsec
      00 00 00 00 00 00 00 00   # 51 mtime_sec
      00 00 00 00 00 00 00 00   # 59 mtime_nsec
    `,
    msg: {
      type: 'Tsetattr',
      tag: 1,
      fid: 2,
      valid: 0x41,
      mode: 0o40000,
      uid: 0,
      gid: 0,
      size: 0n,
      atime_sec: 0n,
      atime_nsec: 0n,
      mtime_sec: 0n,
      mtime_nsec: 0n,
    },
  },
  {
    name: 'Treaddir',
    bytes: hex`
      17 00 00 00               # 0  size = 23
      28                        # 4  type = 40 Treaddir
      01 00                     # 5  tag
      02 00 00 00               # 7  fid = 2
      ff ff ff 7f 00 00 00 00   # 11 offset = 2147483647
      d0 ff 00 00               # 19 count = 65488
    `,
    msg: { type: 'Treaddir', tag: 1, fid: 2, offset: 2147483647n, count: 65488 },
  },
  {
    name: 'Rlerror',
    bytes: hex`0b 00 00 00  07  01 00  02 00 00 00   # size 11, Rlerror 7, tag 1, ecode ENOENT`,
    msg: { type: 'Rlerror', tag: 1, ecode: 2 },
  },
  {
    name: 'Tstatfs',
    bytes: hex`0b 00 00 00  08  03 00  01 00 00 00   # size 11, Tstatfs 8, tag 3, fid 1`,
    msg: { type: 'Tstatfs', tag: 3, fid: 1 },
  },
  {
    name: 'Rstatfs',
    bytes: hex`
      43 00 00 00               # 0  size = 67
      09                        # 4  type = 9 Rstatfs
      03 00                     # 5  tag
      94 19 02 01               # 7  type = 0x01021994 (tmpfs)
      00 10 00 00               # 11 bsize = 4096
      00 00 04 00 00 00 00 00   # 15 blocks = 0x40000
      00 ff 03 00 00 00 00 00   # 23 bfree = 0x3ff00
      00 ff 03 00 00 00 00 00   # 31 bavail
      40 42 0f 00 00 00 00 00   # 39 files = 1000000
      36 42 0f 00 00 00 00 00   # 47 ffree = 999990
      00 00 00 00 00 00 00 00   # 55 fsid
      ff 00 00 00               # 63 namelen = 255
    `,
    msg: {
      type: 'Rstatfs',
      tag: 3,
      fstype: 0x01021994,
      bsize: 4096,
      blocks: 0x40000n,
      bfree: 0x3ff00n,
      bavail: 0x3ff00n,
      files: 1000000n,
      ffree: 999990n,
      fsid: 0n,
      namelen: 255,
    },
  },
  {
    name: 'Tlock',
    bytes: hex`
      2b 00 00 00               # 0  size = 43
      34                        # 4  type = 52 Tlock
      01 00                     # 5  tag
      03 00 00 00               # 7  fid = 3
      01                        # 11 type = WRLCK
      01 00 00 00               # 12 flags = BLOCK
      00 00 00 00 00 00 00 00   # 16 start = 0
      00 00 00 00 00 00 00 00   # 24 length = 0 (to EOF)
      d2 04 00 00               # 32 proc_id = 1234
      05 00 67 75 65 73 74      # 36 client_id = "guest"
    `,
    msg: {
      type: 'Tlock',
      tag: 1,
      fid: 3,
      locktype: 1,
      flags: 1,
      start: 0n,
      length: 0n,
      proc_id: 1234,
      client_id: 'guest',
    },
  },
  {
    name: 'Rgetlock',
    bytes: hex`
      1f 00 00 00               # 0  size = 31
      37                        # 4  type = 55 Rgetlock
      01 00                     # 5  tag
      01                        # 7  type = WRLCK
      64 00 00 00 00 00 00 00   # 8  start = 100
      32 00 00 00 00 00 00 00   # 16 length = 50
      07 00 00 00               # 24 proc_id = 7
      01 00 68                  # 28 client_id = "h"
    `,
    msg: { type: 'Rgetlock', tag: 1, locktype: 1, start: 100n, length: 50n, proc_id: 7, client_id: 'h' },
  },
  {
    name: 'Trenameat',
    bytes: hex`
      16 00 00 00    # 0  size = 22
      4a             # 4  type = 74 Trenameat
      01 00          # 5  tag
      01 00 00 00    # 7  olddirfid = 1
      01 00 61       # 11 oldname = "a"
      02 00 00 00    # 14 newdirfid = 2
      02 00 62 62    # 18 newname = "bb"
    `,
    msg: { type: 'Trenameat', tag: 1, olddirfid: 1, oldname: 'a', newdirfid: 2, newname: 'bb' },
  },
  {
    name: 'Tunlinkat',
    bytes: hex`
      12 00 00 00    # 0  size = 18
      4c             # 4  type = 76 Tunlinkat
      01 00          # 5  tag
      01 00 00 00    # 7  dirfid = 1
      01 00 64       # 11 name = "d"
      00 02 00 00    # 14 flags = AT_REMOVEDIR (0x200)
    `,
    msg: { type: 'Tunlinkat', tag: 1, dirfid: 1, name: 'd', flags: 0x200 },
  },
  {
    name: 'Tmknod',
    bytes: hex`
      1e 00 00 00    # 0  size = 30
      12             # 4  type = 18 Tmknod
      01 00          # 5  tag
      01 00 00 00    # 7  dfid = 1
      01 00 70       # 11 name = "p"
      a4 11 00 00    # 14 mode = 010644 (S_IFIFO|0644)
      00 00 00 00    # 18 major
      00 00 00 00    # 22 minor
      00 00 00 00    # 26 gid
    `,
    msg: { type: 'Tmknod', tag: 1, dfid: 1, name: 'p', mode: 0o10644, major: 0, minor: 0, gid: 0 },
  },
  {
    name: 'Txattrwalk',
    bytes: hex`
      11 00 00 00    # 0  size = 17
      1e             # 4  type = 30 Txattrwalk
      01 00          # 5  tag
      01 00 00 00    # 7  fid = 1
      05 00 00 00    # 11 newfid = 5
      00 00          # 15 name = "" (list)
    `,
    msg: { type: 'Txattrwalk', tag: 1, fid: 1, newfid: 5, name: '' },
  },
  {
    name: 'Txattrcreate',
    bytes: hex`
      1f 00 00 00                 # 0  size = 31
      20                          # 4  type = 32 Txattrcreate
      01 00                       # 5  tag
      04 00 00 00                 # 7  fid = 4
      06 00 75 73 65 72 2e 6b     # 11 name = "user.k"
      03 00 00 00 00 00 00 00     # 19 attr_size = 3
      01 00 00 00                 # 27 flags = XATTR_CREATE
    `,
    msg: { type: 'Txattrcreate', tag: 1, fid: 4, name: 'user.k', attr_size: 3n, flags: 1 },
  },
  {
    name: 'Tflush',
    bytes: hex`09 00 00 00  6c  02 00  01 00   # size 9, Tflush 108, tag 2, oldtag 1`,
    msg: { type: 'Tflush', tag: 2, oldtag: 1 },
  },
  {
    name: 'Rflush',
    bytes: hex`07 00 00 00  6d  02 00          # size 7, Rflush 109, tag 2`,
    msg: { type: 'Rflush', tag: 2 },
  },
];

describe('9P2000.L codec golden bytes', () => {
  it.each(golden)('$name decodes and encodes byte for byte', ({ bytes, msg }) => {
    expect(decodeMessage(bytes)).toEqual(msg);
    expect(encodeMessage(msg).equals(bytes)).toBe(true);
  });

  it('Rreaddir entries captured from diod decode and re-encode', () => {
    // First two entries of P9_RREADDIR in diod's protocol.md sample session: '.' and '..'.
    const data = hex`
      80 00 00 00 00 ac 1f 2c 00 00 00 00 00   # qid dir path 0x2c1fac
      01 00 00 00 00 00 00 00                  # offset 1
      04                                       # DT_DIR
      01 00 2e                                 # "."
      80 00 00 00 00 00 ff ff 25 00 00 00 00   # qid dir path 0x25ffff00
      00 26 58 ea 00 00 00 00                  # offset 0xea582600
      04                                       # DT_DIR
      02 00 2e 2e                              # ".."
    `;
    const entries = [
      { qid: q(0x80, 0x2c1facn), offset: 1n, type: 4, name: '.' },
      { qid: q(0x80, 0x25ffff00n), offset: 0xea582600n, type: 4, name: '..' },
    ];
    expect(decodeDirents(data)).toEqual(entries);
    expect(encodeDirents(entries).equals(data)).toBe(true);
  });

  it('message ids are those of Linux include/net/9p/9p.h', () => {
    const linux: Record<string, number> = {
      Rlerror: 7,
      Tstatfs: 8,
      Tlopen: 12,
      Tlcreate: 14,
      Tsymlink: 16,
      Tmknod: 18,
      Trename: 20,
      Treadlink: 22,
      Tgetattr: 24,
      Tsetattr: 26,
      Txattrwalk: 30,
      Txattrcreate: 32,
      Treaddir: 40,
      Tfsync: 50,
      Tlock: 52,
      Tgetlock: 54,
      Tlink: 70,
      Tmkdir: 72,
      Trenameat: 74,
      Tunlinkat: 76,
      Tversion: 100,
      Tauth: 102,
      Tattach: 104,
      Tflush: 108,
      Twalk: 110,
      Tread: 116,
      Twrite: 118,
      Tclunk: 120,
      Tremove: 122,
    };
    for (const [name, id] of Object.entries(linux)) {
      expect(P9_MESSAGES[name as P9MessageName].id).toBe(id);
      if (name.startsWith('T')) expect(P9_MESSAGES[`R${name.slice(1)}` as P9MessageName].id).toBe(id + 1);
    }
    // Every .L request and its reply: 28 T-messages, 28 R-messages, Rlerror.
    expect(Object.keys(P9_MESSAGES)).toHaveLength(57);
  });

  it('every message round-trips with its size field right', () => {
    for (const name of Object.keys(P9_MESSAGES) as P9MessageName[]) {
      const m: Record<string, unknown> = { type: name, tag: 42 };
      for (const [field, kind] of P9_MESSAGES[name].fields) {
        m[field] = {
          u8: 7,
          u16: 0x1234,
          u32: 0xdeadbeef,
          u64: 0x0102030405060708n,
          str: 'näme',
          qid: q(2, 99n),
          data: Buffer.from([1, 2, 3]),
          strs: ['a', 'bc'],
          qids: [q(0x80, 1n)],
        }[kind];
      }
      const bytes = encodeMessage(m as P9Message);
      expect(bytes.readUInt32LE(0)).toBe(bytes.length);
      expect(bytes[4]).toBe(P9_MESSAGES[name].id);
      expect(decodeMessage(bytes)).toEqual(m);
    }
  });
});

describe('9P2000.L codec refuses malformed messages', () => {
  const tclunk = hex`0b 00 00 00  78  05 00  01 00 00 00   # Tclunk tag 5 fid 1`;

  it('decodes a well-formed Tclunk beside the broken ones', () => {
    expect(decodeMessage(tclunk)).toEqual({ type: 'Tclunk', tag: 5, fid: 1 });
  });

  it.each([
    ['a short body', hex`0a 00 00 00  78  05 00  01 00 00`, 'EINVAL', /fid runs past the end/],
    ['trailing bytes', hex`0c 00 00 00  78  05 00  01 00 00 00 ff`, 'EINVAL', /1 trailing bytes/],
    ['a size field that disagrees', hex`0c 00 00 00  78  05 00  01 00 00 00`, 'EINVAL', /size field 12 but 11/],
    ['an unknown type', hex`0b 00 00 00  70  05 00  01 00 00 00`, 'EOPNOTSUPP', /type 112/],
    [
      'a string past the end',
      hex`0c 00 00 00  17  05 00  05 00 61 62 63   # Rreadlink "abc" claims 5`,
      'EINVAL',
      /target runs past/,
    ],
  ])('%s', (_what, bytes, kind, message) => {
    let err: unknown;
    try {
      decodeMessage(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(P9Error);
    expect((err as P9Error).errno).toBe(kind);
    expect((err as P9Error).message).toMatch(message);
  });

  it('refuses a walk of 17 names and accepts 16', () => {
    // size[4] Twalk tag[2] fid[4] newfid[4] nwname[2] then n × "x".
    const walk = (n: number) =>
      Buffer.concat([
        Buffer.from([0, 0, 0, 0, 110, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, n, 0]),
        ...Array.from({ length: n }, () => Buffer.from([1, 0, 0x78])),
      ]);
    const fix = (b: Buffer) => (b.writeUInt32LE(b.length, 0), b);
    expect(decodeMessage(fix(walk(16)))).toMatchObject({ type: 'Twalk', wnames: Array(16).fill('x') });
    expect(() => decodeMessage(fix(walk(17)))).toThrow(/17 names, more than 16/);
  });
});

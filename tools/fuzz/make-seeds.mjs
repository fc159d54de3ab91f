// Writes the committed seed inputs (corpus/<target>/seed-*). Seeds only start the mutator off inside the
// protocol; they judge nothing, so building them with the libraries' own encoders is fine.
// Run after a protocol change: node tools/fuzz/make-seeds.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeRequest, encodeResponse } from '@dominion/blkif';
import { encodeTxSlot } from '@dominion/netif';
import { encodeMessage } from '@dominion/p9';
import { encodeXsMessage } from '@dominion/xenstore';

const root = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
const seeds = {};
const put = (target, name, bytes) => ((seeds[target] ??= {})[name] = Buffer.from(bytes));

// xs_wire: first byte is the chunk size the stream is cut into.
const xs = (type, reqId, txId, payload) =>
  encodeXsMessage({ type, reqId, txId, payload: Buffer.from(payload, 'latin1') });
put('xs_wire', 'read', xs(2, 1, 0, '/local/domain/1/name\0'));
put('xs_wire', 'write', xs(11, 2, 0, '/local/domain/1/data/x\0value'));
put('xs_wire', 'set-perms', xs(4, 3, 0, '/local/domain/1/data\0n1\0r0\0'));
put('xs_wire', 'stream', Buffer.concat([Buffer.from([5]), xs(4, 4, 0, 'a\0tok\0'), xs(1, 5, 7, '/x\0')]));

put(
  'xlcfg',
  'pv',
  `name = "guest1"\ntype = "pvh"\nmemory = 256\nvcpus = 2\nkernel = "/boot/vmlinuz"\nextra = "console=hvc0"\n` +
    `disk = [ "format=raw, vdev=xvda, access=rw, target=/var/disk.img" ]\n` +
    `vif = [ "mac=00:16:3e:00:00:01,bridge=xenbr0,rate=10Mb/s" ]\n` +
    `p9 = [ "tag=share,path=/srv,security_model=none,backend=0" ]\non_crash = "preserve"\n`,
);
put('xlcfg', 'lists', `a = [ 1, 0x10, "s", [ "n" ] ]\nb = 'x' # comment\nc = 1.5\n`);

// blkif: byte 0 picks ABI and device features, byte 1 the device size; then one ring slot.
const blk = (flags, size, slot) => Buffer.concat([Buffer.from([flags, size]), slot]);
const seg = { gref: 8, firstSect: 0, lastSect: 7 };
put(
  'blkif',
  'read',
  blk(0, 64, encodeRequest({ operation: 0, nrSegments: 1, handle: 51712, id: 1n, sectorNumber: 8n, segments: [seg] })),
);
put(
  'blkif',
  'write-32',
  blk(
    1,
    64,
    encodeRequest(
      { operation: 1, nrSegments: 2, handle: 51712, id: 2n, sectorNumber: 0n, segments: [seg, seg] },
      'x86_32-abi',
    ),
  ),
);
put(
  'blkif',
  'discard',
  blk(8, 64, encodeRequest({ operation: 5, flag: 0, handle: 51712, id: 3n, sectorNumber: 0n, nrSectors: 16n })),
);
put(
  'blkif',
  'indirect',
  blk(
    128,
    64,
    encodeRequest({
      operation: 6,
      indirectOp: 0,
      nrSegments: 3,
      handle: 51712,
      id: 4n,
      sectorNumber: 0n,
      indirectGrefs: [9],
    }),
  ),
);
put('blkif', 'response', blk(0, 0, encodeResponse({ id: 1n, operation: 0, status: 0 })));

// netif: whole tx slots; grefs 0-3 are granted.
const tx = (gref, offset, flags, id, size) =>
  encodeTxSlot({ kind: 'request', request: { gref, offset, flags, id, size } });
put('netif', 'one', Buffer.concat([tx(0, 0, 0, 1, 60)]));
put('netif', 'chain', Buffer.concat([tx(0, 0, 4, 1, 1500), tx(1, 0, 4, 2, 1000), tx(2, 0, 0, 3, 500)]));
put(
  'netif',
  'extra',
  Buffer.concat([
    tx(0, 0, 8, 1, 60),
    encodeTxSlot({ kind: 'extra', extra: { type: 1, flags: 0, gso: { size: 1448, type: 1, pad: 0, features: 0 } } }),
  ]),
);

// nbd: first byte is the chunk size; then client flags, NBD_OPT_GO for the default export, requests.
const be = (n, bytes) => {
  const b = Buffer.alloc(bytes);
  if (bytes === 8) b.writeBigUInt64BE(BigInt(n));
  else if (bytes === 4) b.writeUInt32BE(n);
  else b.writeUInt16BE(n);
  return b;
};
const IHAVEOPT = 0x49484156454f5054n;
const opt = (option, data) => Buffer.concat([be(IHAVEOPT, 8), be(option, 4), be(data.length, 4), data]);
const req = (type, cookie, offset, length, flags = 0) =>
  Buffer.concat([be(0x25609513, 4), be(flags, 2), be(type, 2), be(cookie, 8), be(offset, 8), be(length, 4)]);
const go = opt(7, Buffer.concat([be(0, 4), be(0, 2)]));
const structured = opt(8, Buffer.alloc(0));
const meta = opt(
  10,
  Buffer.concat([be(4, 4), Buffer.from('disk'), be(1, 4), be(15, 4), Buffer.from('base:allocation')]),
);
put(
  'nbd',
  'read-write',
  Buffer.concat([
    Buffer.from([63]),
    be(3, 4),
    go,
    req(0, 1, 0, 512),
    req(1, 2, 4096, 8),
    Buffer.alloc(8, 0xab),
    req(3, 3, 0, 0),
    req(2, 4, 0, 0),
  ]),
);
put(
  'nbd',
  'structured',
  Buffer.concat([
    Buffer.from([40]),
    be(3, 4),
    structured,
    meta,
    go,
    req(0, 1, 0, 4096, 4),
    req(7, 2, 0, 65536),
    req(6, 3, 0, 4096, 2),
    req(4, 4, 0, 512),
  ]),
);
put(
  'nbd',
  'options',
  Buffer.concat([
    Buffer.from([7]),
    be(1, 4),
    opt(3, Buffer.alloc(0)),
    opt(6, Buffer.concat([be(4, 4), Buffer.from('disk'), be(0, 2)])),
    opt(1, Buffer.from('disk')),
  ]),
);

// p9: first byte 0x80 feeds frame by frame as a client waiting for replies; then a session: version, attach, create, write, read, readdir, clunk.
const p9 = (m) => encodeMessage(m);
put(
  'p9',
  'session',
  Buffer.concat([
    Buffer.from([0x80]),
    p9({ type: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' }),
    p9({ type: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: 'root', aname: '', n_uname: 0 }),
    p9({ type: 'Twalk', tag: 2, fid: 0, newfid: 1, wnames: [] }),
    p9({ type: 'Tlcreate', tag: 3, fid: 1, name: 'f', flags: 2, mode: 0o644, gid: 0 }),
    p9({ type: 'Twrite', tag: 4, fid: 1, offset: 0n, data: Buffer.from('hello') }),
    p9({ type: 'Tread', tag: 5, fid: 1, offset: 0n, count: 100 }),
    p9({ type: 'Tmkdir', tag: 6, dfid: 0, name: 'd', mode: 0o755, gid: 0 }),
    p9({ type: 'Twalk', tag: 7, fid: 0, newfid: 2, wnames: ['d'] }),
    p9({ type: 'Tlopen', tag: 8, fid: 2, flags: 0 }),
    p9({ type: 'Treaddir', tag: 9, fid: 2, offset: 0n, count: 1000 }),
    p9({ type: 'Tgetattr', tag: 10, fid: 0, request_mask: 0x3fffn }),
    p9({ type: 'Tclunk', tag: 11, fid: 1 }),
  ]),
);

for (const [target, files] of Object.entries(seeds)) {
  mkdirSync(join(root, target), { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(root, target, `seed-${name}`), bytes);
}
console.log('seeds written under', root);

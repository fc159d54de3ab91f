// The server core driven with encoded T-messages, as a client would send them.
import { hex, waitFor } from '@dominion/testing';
import {
  MemFilesystem,
  P9Handle,
  P9Message,
  P9Server,
  P9_O,
  P9_IOHDRSZ,
  decodeDirents,
  decodeMessage,
  encodeMessage,
} from '../src/index.js';
import { TestClient } from './client.js';

const E = { EPERM: 1, ENOENT: 2, EBADF: 9, EEXIST: 17, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENOTEMPTY: 39 };
const E2 = { ENODATA: 61, EPROTO: 71, EOPNOTSUPP: 95 };
const RDWR = P9_O.RDWR;
const CREATE_FLAGS = P9_O.RDWR | P9_O.CREAT;

async function mounted(fs = new MemFilesystem(), msize = 8192) {
  const server = new P9Server({ exports: fs, maxMsize: 65536 });
  const c = new TestClient(server);
  await c.version(msize);
  await c.attach(0);
  return { fs, server, c };
}

describe('version and attach', () => {
  it('negotiates msize down to the server maximum and answers 9P2000.L', async () => {
    const server = new P9Server({ exports: new MemFilesystem(), maxMsize: 16384 });
    const c = new TestClient(server);
    expect(await c.version(1 << 20)).toMatchObject({ msize: 16384, version: '9P2000.L' });
    expect(await c.version(4096)).toMatchObject({ msize: 4096, version: '9P2000.L' });
  });

  it('answers "unknown" to another version and serves nothing until 9P2000.L', async () => {
    const c = new TestClient(new P9Server({ exports: new MemFilesystem() }));
    expect(await c.call({ type: 'Tversion', msize: 8192, version: '9P2000.u' }, 'Rversion')).toMatchObject({
      version: 'unknown',
    });
    expect(await c.fails({ type: 'Tattach', fid: 0, afid: 0xffffffff, uname: 'root', aname: '', n_uname: 0 })).toBe(
      E2.EPROTO,
    );
    await c.version();
    await c.attach(0);
  });

  it('refuses an msize below 2048 and accepts 2048', async () => {
    const c = new TestClient(new P9Server({ exports: new MemFilesystem() }));
    expect(await c.fails({ type: 'Tversion', msize: 2047, version: '9P2000.L' })).toBe(E.EINVAL);
    expect(await c.version(2048)).toMatchObject({ msize: 2048 });
  });

  it('attaches by aname, refuses an unknown aname, and says auth is not required', async () => {
    const home = new MemFilesystem();
    const c = new TestClient(new P9Server({ exports: new Map([['home', home]]) }));
    await c.version();
    expect(await c.fails({ type: 'Tattach', fid: 0, afid: 0xffffffff, uname: '', aname: 'work', n_uname: 0 })).toBe(
      E.ENOENT,
    );
    expect(await c.attach(0, 'home')).toMatchObject({ qid: { type: 0x80, path: BigInt(home.rootIno) } });
    expect(await c.fails({ type: 'Tauth', afid: 7, uname: '', aname: 'home', n_uname: 0 })).toBe(E.ENOENT);
    // A fid in use cannot be attached again.
    expect(await c.fails({ type: 'Tattach', fid: 0, afid: 0xffffffff, uname: '', aname: 'home', n_uname: 0 })).toBe(
      E.EEXIST,
    );
  });

  it('messages behind a Tversion in one chunk wait for it; a malformed Tversion fails alone', async () => {
    const { c } = await mounted();
    await c.create(0, 1, 'f');
    const replies = [c.reply(1000), c.reply(1001)];
    c.raw(
      Buffer.concat([
        encodeMessage({ type: 'Tversion', tag: 1000, msize: 8192, version: '9P2000.L' }),
        // fid 1 is the open file until Tversion clunks it: the attach succeeds only if it waits.
        encodeMessage({ type: 'Tattach', tag: 1001, fid: 1, afid: 0xffffffff, uname: '', aname: '', n_uname: 0 }),
      ]),
    );
    const [v, a] = await Promise.all(replies);
    expect([v.type, a.type]).toEqual(['Rversion', 'Rattach']);
    expect((await c.getattr(1)).mode).toBe(0o40755);
    const bad = c.reply(7);
    c.raw(hex`0c 00 00 00  64  07 00  00 20 00 00  08   # Tversion, version string cut short`);
    expect(await bad).toEqual({ type: 'Rlerror', tag: 7, ecode: E.EINVAL });
    expect((await c.getattr(1)).mode).toBe(0o40755);
  });

  it('a new Tversion clunks every fid', async () => {
    const { c, fs } = await mounted();
    await c.create(0, 1, 'f');
    await c.version();
    expect(await c.fails({ type: 'Tgetattr', fid: 1, request_mask: 0x7ffn })).toBe(E.EBADF);
    expect(c.session.fidCount).toBe(0);
    expect(fs.inodeCount).toBe(2);
  });
});

describe('walk and the fid table', () => {
  it('walks 16 names, refuses 17, returns the partial qids of a broken walk without making newfid', async () => {
    const { c } = await mounted();
    let dir = 0;
    const names: string[] = [];
    for (let i = 0; i < 17; i++) {
      names.push(`d${i}`);
      await c.call({ type: 'Tmkdir', dfid: dir, name: `d${i}`, mode: 0o755, gid: 0 }, 'Rmkdir');
      await c.walk(dir, 100 + i, `d${i}`);
      dir = 100 + i;
    }
    expect((await c.walk(0, 1, ...names.slice(0, 16))).wqids).toHaveLength(16);
    expect(await c.fails({ type: 'Twalk', fid: 0, newfid: 2, wnames: names })).toBe(E.EINVAL);
    const partial = await c.walk(0, 3, 'd0', 'd1', 'nope', 'd3');
    expect(partial.wqids).toHaveLength(2);
    expect(await c.fails({ type: 'Tgetattr', fid: 3, request_mask: 1n })).toBe(E.EBADF);
    expect(await c.fails({ type: 'Twalk', fid: 0, newfid: 3, wnames: ['nope'] })).toBe(E.ENOENT);
  });

  it('clones a fid, refuses a newfid in use, walks a fid onto itself, and knows unknown fids', async () => {
    const { c } = await mounted();
    await c.call({ type: 'Tmkdir', dfid: 0, name: 'a', mode: 0o755, gid: 0 }, 'Rmkdir');
    expect((await c.walk(0, 1)).wqids).toEqual([]);
    expect(await c.fails({ type: 'Twalk', fid: 0, newfid: 1, wnames: [] })).toBe(E.EEXIST);
    await c.walk(1, 1, 'a');
    expect((await c.getattr(1)).mode).toBe(0o40755);
    expect((await c.getattr(0)).mode).toBe(0o40755);
    expect(await c.fails({ type: 'Twalk', fid: 9, newfid: 10, wnames: [] })).toBe(E.EBADF);
    expect(await c.fails({ type: 'Twalk', fid: 0, newfid: 4, wnames: ['a/b'] })).toBe(E.EINVAL);
    await c.walk(1, 5, '..');
    expect((await c.getattr(5)).qid).toEqual((await c.getattr(0)).qid);
    await c.clunk(1);
    expect(await c.fails({ type: 'Tclunk', fid: 1 })).toBe(E.EBADF);
  });
});

describe('open, read, write', () => {
  it('creates, writes, reads back, and bounds a read by msize - IOHDRSZ', async () => {
    const { c } = await mounted(new MemFilesystem(), 4096);
    await c.walk(0, 1);
    const created = await c.call(
      { type: 'Tlcreate', fid: 1, name: 'f', flags: CREATE_FLAGS, mode: 0o640, gid: 7 },
      'Rlcreate',
    );
    expect(created.iounit).toBe(4096 - P9_IOHDRSZ);
    const big = Buffer.alloc(10000, 0x61);
    for (let off = 0; off < big.length; off += created.iounit) {
      await c.write(1, off, big.subarray(off, off + created.iounit));
    }
    const r = await c.read(1, 0, 1 << 20);
    expect(r.length).toBe(4096 - P9_IOHDRSZ);
    expect(await c.read(1, 9990, 100)).toEqual(Buffer.alloc(10, 0x61));
    expect(await c.read(1, 10000, 100)).toEqual(Buffer.alloc(0));
    const a = await c.getattr(1);
    expect(a).toMatchObject({ mode: 0o100640, uid: 1000, gid: 7, size: 10000n, nlink: 1n });
    // A message of more than msize ends the connection; the framing cannot be trusted after it.
    expect(c.closedWith).toBe('open');
    c.raw(encodeMessage({ type: 'Twrite', tag: 99, fid: 1, offset: 0n, data: Buffer.alloc(4096) }));
    expect(c.closedWith).toMatchObject({ errno: 'EPROTO' });
  });

  it('honours the access mode, O_TRUNC, O_APPEND and O_DIRECTORY', async () => {
    const { c } = await mounted();
    await c.create(0, 1, 'f');
    await c.write(1, 0, 'hello world');
    await c.open(0, 2, P9_O.RDONLY, 'f');
    expect(await c.fails({ type: 'Twrite', fid: 2, offset: 0n, data: Buffer.from('x') })).toBe(E.EBADF);
    await c.open(0, 3, P9_O.WRONLY | P9_O.APPEND, 'f');
    expect(await c.fails({ type: 'Tread', fid: 3, offset: 0n, count: 10 })).toBe(E.EBADF);
    await c.write(3, 0, '!');
    expect((await c.read(2, 0, 100)).toString()).toBe('hello world!');
    await c.open(0, 4, P9_O.WRONLY | P9_O.TRUNC, 'f');
    expect(await c.read(2, 0, 100)).toEqual(Buffer.alloc(0));
    await c.walk(0, 5, 'f');
    expect(await c.fails({ type: 'Tlopen', fid: 5, flags: P9_O.DIRECTORY })).toBe(E.ENOTDIR);
    await c.walk(0, 6);
    expect(await c.fails({ type: 'Tlopen', fid: 6, flags: P9_O.RDWR })).toBe(E.EISDIR);
    await c.call({ type: 'Tlopen', fid: 6, flags: P9_O.RDONLY | P9_O.DIRECTORY }, 'Rlopen');
    expect(await c.fails({ type: 'Tlopen', fid: 6, flags: 0 })).toBe(E.EBADF);
    expect(await c.fails({ type: 'Tread', fid: 6, offset: 0n, count: 10 })).toBe(E.EISDIR);
  });

  it('reads holes of a sparse file as zeros and truncates both ways', async () => {
    const { c } = await mounted();
    await c.create(0, 1, 'sparse');
    await c.write(1, 1 << 20, 'tail');
    let a = await c.getattr(1);
    expect(a.size).toBe((1n << 20n) + 4n);
    expect(a.blocks).toBe(8n);
    expect(await c.read(1, 4096, 8)).toEqual(Buffer.alloc(8));
    const setSize = (size: number) =>
      c.call(
        {
          type: 'Tsetattr',
          fid: 1,
          valid: 0x8,
          mode: 0,
          uid: 0,
          gid: 0,
          size: BigInt(size),
          atime_sec: 0n,
          atime_nsec: 0n,
          mtime_sec: 0n,
          mtime_nsec: 0n,
        },
        'Rsetattr',
      );
    await setSize((1 << 20) + 2);
    expect((await c.read(1, 1 << 20, 10)).toString()).toBe('ta');
    await setSize((1 << 20) + 6);
    expect(await c.read(1, 1 << 20, 10)).toEqual(Buffer.from([0x74, 0x61, 0, 0, 0, 0]));
    await setSize(0);
    a = await c.getattr(1);
    expect([a.size, a.blocks]).toEqual([0n, 0n]);
  });
});

describe('getattr and setattr', () => {
  it('stamps times with nanoseconds from the wall clock', async () => {
    const { c } = await mounted();
    const stamps = new Set<bigint>();
    for (let i = 0; i < 5; i++) {
      await c.create(0, 10 + i, `t${i}`);
      const a = await c.getattr(10 + i);
      expect(Math.abs(Number(a.mtime_sec) - Date.now() / 1000)).toBeLessThan(5);
      stamps.add(a.mtime_nsec);
    }
    // Millisecond stamps would all end in 000000.
    expect([...stamps].some((ns) => ns % 1_000_000n !== 0n)).toBe(true);
  });

  it('sets mode, owner and nanosecond times; a time without its SET bit is the server clock', async () => {
    let clock = { sec: 1_700_000_000, nsec: 5 };
    const { c } = await mounted(new MemFilesystem({ now: () => clock }));
    await c.create(0, 1, 'f');
    await c.call(
      {
        type: 'Tsetattr',
        fid: 1,
        valid: 0x1 | 0x2 | 0x4 | 0x10 | 0x20 | 0x80 | 0x100,
        mode: 0o100600,
        uid: 42,
        gid: 43,
        size: 0n,
        atime_sec: 1234n,
        atime_nsec: 999999999n,
        mtime_sec: 5678n,
        mtime_nsec: 1n,
      },
      'Rsetattr',
    );
    let a = await c.getattr(1);
    expect(a).toMatchObject({
      mode: 0o100600,
      uid: 42,
      gid: 43,
      atime_sec: 1234n,
      atime_nsec: 999999999n,
      mtime_sec: 5678n,
      mtime_nsec: 1n,
      ctime_sec: 1_700_000_000n,
      ctime_nsec: 5n,
    });
    expect(a.valid & 0x7ffn).toBe(0x7ffn);
    clock = { sec: 1_800_000_000, nsec: 7 };
    await c.call(
      {
        type: 'Tsetattr',
        fid: 1,
        valid: 0x20,
        mode: 0,
        uid: 0,
        gid: 0,
        size: 0n,
        atime_sec: 0n,
        atime_nsec: 0n,
        mtime_sec: 1n,
        mtime_nsec: 1n,
      },
      'Rsetattr',
    );
    a = await c.getattr(1);
    expect([a.mtime_sec, a.mtime_nsec, a.atime_sec]).toEqual([1_800_000_000n, 7n, 1234n]);
    expect(
      await c.fails({
        type: 'Tsetattr',
        fid: 1,
        valid: 0x30 | 0x80,
        mode: 0,
        uid: 0,
        gid: 0,
        size: 0n,
        atime_sec: 0n,
        atime_nsec: 1_000_000_000n,
        mtime_sec: 0n,
        mtime_nsec: 0n,
      }),
    ).toBe(E.EINVAL);
  });
});

describe('readdir', () => {
  it('lists . .. and entries with their types', async () => {
    const { c } = await mounted();
    await c.create(0, 1, 'file');
    await c.call({ type: 'Tmkdir', dfid: 0, name: 'dir', mode: 0o755, gid: 0 }, 'Rmkdir');
    await c.call({ type: 'Tsymlink', fid: 0, name: 'ln', symtgt: 'file', gid: 0 }, 'Rsymlink');
    await c.open(0, 2, P9_O.DIRECTORY);
    const r = await c.call({ type: 'Treaddir', fid: 2, offset: 0n, count: 8192 }, 'Rreaddir');
    expect(decodeDirents(r.data).map((e) => [e.name, e.type])).toEqual([
      ['.', 4],
      ['..', 4],
      ['file', 8],
      ['dir', 4],
      ['ln', 10],
    ]);
    await c.walk(0, 3);
    expect(await c.fails({ type: 'Treaddir', fid: 3, offset: 0n, count: 8192 })).toBe(E.EBADF);
  });

  it('offsets survive entries added and removed between calls: nothing repeated, no survivor skipped', async () => {
    const { c } = await mounted();
    for (let i = 0; i < 60; i++) await c.create(0, 100 + i, `f${i}`);
    await c.open(0, 2, P9_O.DIRECTORY);
    const seen: string[] = [];
    let offset = 0n;
    let round = 0;
    const removed = new Set<string>();
    for (;;) {
      // About five entries per reply.
      const r = await c.call({ type: 'Treaddir', fid: 2, offset, count: 150 }, 'Rreaddir');
      if (r.data.length === 0) break;
      const ents = decodeDirents(r.data);
      seen.push(...ents.map((e) => e.name));
      offset = ents[ents.length - 1].offset;
      // Between calls: remove one entry already seen and one not yet seen, add one, rename one ahead.
      round++;
      const gone = [`f${round - 1}`, `f${59 - round}`];
      for (const g of gone) {
        if (!removed.has(g) && round < 20) {
          await c.call({ type: 'Tunlinkat', dirfid: 0, name: g, flags: 0 }, 'Runlinkat');
          removed.add(g);
        }
      }
      if (round < 5) await c.create(0, 300 + round, `new${round}`);
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (let i = 0; i < 60; i++) {
      if (!removed.has(`f${i}`)) expect(seen).toContain(`f${i}`);
    }
    expect(seen.slice(0, 2)).toEqual(['.', '..']);
  });

  it('fails a count too small for the next entry instead of reporting the end', async () => {
    const { c } = await mounted();
    await c.open(0, 2, P9_O.DIRECTORY);
    expect(await c.fails({ type: 'Treaddir', fid: 2, offset: 0n, count: 10 })).toBe(E.EINVAL);
    expect(
      decodeDirents((await c.call({ type: 'Treaddir', fid: 2, offset: 0n, count: 25 }, 'Rreaddir')).data),
    ).toHaveLength(1);
  });
});

describe('namespace operations', () => {
  it('renameat replaces an existing target atomically; rename follows the fid', async () => {
    const { c } = await mounted();
    await c.create(0, 1, 'a');
    await c.write(1, 0, 'new');
    await c.create(0, 2, 'b');
    await c.write(2, 0, 'old');
    await c.call({ type: 'Trenameat', olddirfid: 0, oldname: 'a', newdirfid: 0, newname: 'b' }, 'Rrenameat');
    await c.open(0, 3, 0, 'b');
    expect((await c.read(3, 0, 10)).toString()).toBe('new');
    // The replaced file is still readable through its open fid.
    expect((await c.read(2, 0, 10)).toString()).toBe('old');
    expect(await c.fails({ type: 'Twalk', fid: 0, newfid: 4, wnames: ['a'] })).toBe(E.ENOENT);
    await c.call({ type: 'Tmkdir', dfid: 0, name: 'd', mode: 0o755, gid: 0 }, 'Rmkdir');
    await c.walk(0, 5, 'd');
    await c.walk(0, 6, 'b');
    await c.walk(0, 16, 'b');
    await c.call({ type: 'Trename', fid: 6, dfid: 5, name: 'moved' }, 'Rrename');
    // Another fid of the same entry follows the rename too: renaming it again works.
    await c.call({ type: 'Trename', fid: 16, dfid: 5, name: 'moved2' }, 'Rrename');
    await c.walk(5, 17, 'moved2');
    await c.clunk(17);
    await c.call({ type: 'Tremove', fid: 6 }, 'Rremove');
    expect(await c.fails({ type: 'Twalk', fid: 5, newfid: 7, wnames: ['moved2'] })).toBe(E.ENOENT);
    // Directories: not into themselves, only over empty directories.
    await c.call({ type: 'Tmkdir', dfid: 5, name: 'sub', mode: 0o755, gid: 0 }, 'Rmkdir');
    expect(await c.fails({ type: 'Trenameat', olddirfid: 0, oldname: 'd', newdirfid: 5, newname: 'x' })).toBe(E.EINVAL);
    await c.call({ type: 'Tmkdir', dfid: 0, name: 'e', mode: 0o755, gid: 0 }, 'Rmkdir');
    expect(await c.fails({ type: 'Trenameat', olddirfid: 0, oldname: 'e', newdirfid: 0, newname: 'd' })).toBe(
      E.ENOTEMPTY,
    );
    await c.call({ type: 'Trenameat', olddirfid: 0, oldname: 'd', newdirfid: 0, newname: 'e' }, 'Rrenameat');
    await c.walk(0, 8, 'e', 'sub');
  });

  it('an unlinked open file stays readable and writable until its last clunk', async () => {
    const { c, fs } = await mounted();
    await c.create(0, 1, 'tmp');
    await c.write(1, 0, 'still here');
    const before = fs.inodeCount;
    await c.call({ type: 'Tunlinkat', dirfid: 0, name: 'tmp', flags: 0 }, 'Runlinkat');
    expect(await c.fails({ type: 'Twalk', fid: 0, newfid: 2, wnames: ['tmp'] })).toBe(E.ENOENT);
    expect((await c.read(1, 0, 100)).toString()).toBe('still here');
    await c.write(1, 10, '!');
    expect((await c.getattr(1)).nlink).toBe(0n);
    expect(fs.inodeCount).toBe(before);
    await c.clunk(1);
    expect(fs.inodeCount).toBe(before - 1);
  });

  it('unlinkat and rmdir refuse the wrong kind and non-empty directories', async () => {
    const { c } = await mounted();
    await c.call({ type: 'Tmkdir', dfid: 0, name: 'd', mode: 0o755, gid: 0 }, 'Rmkdir');
    await c.walk(0, 1, 'd');
    await c.create(1, 2, 'f');
    expect(await c.fails({ type: 'Tunlinkat', dirfid: 0, name: 'd', flags: 0 })).toBe(E.EISDIR);
    expect(await c.fails({ type: 'Tunlinkat', dirfid: 0, name: 'd', flags: 0x200 })).toBe(E.ENOTEMPTY);
    expect(await c.fails({ type: 'Tunlinkat', dirfid: 1, name: 'f', flags: 0x200 })).toBe(E.ENOTDIR);
    await c.call({ type: 'Tunlinkat', dirfid: 1, name: 'f', flags: 0 }, 'Runlinkat');
    await c.call({ type: 'Tunlinkat', dirfid: 0, name: 'd', flags: 0x200 }, 'Runlinkat');
    expect(await c.fails({ type: 'Tremove', fid: 0 })).toBe(16 /* EBUSY: the root */);
  });

  it('symlinks, hard links, mknod of a fifo (devices refused), statfs and fsync', async () => {
    const { c } = await mounted();
    await c.create(0, 1, 'f');
    await c.write(1, 0, 'data');
    await c.call({ type: 'Tsymlink', fid: 0, name: 's', symtgt: '../elsewhere/f', gid: 5 }, 'Rsymlink');
    await c.walk(0, 2, 's');
    expect((await c.call({ type: 'Treadlink', fid: 2 }, 'Rreadlink')).target).toBe('../elsewhere/f');
    expect(await c.fails({ type: 'Treadlink', fid: 1 })).toBe(E.EINVAL);
    await c.call({ type: 'Tlink', dfid: 0, fid: 1, name: 'hard' }, 'Rlink');
    expect((await c.getattr(1)).nlink).toBe(2n);
    await c.open(0, 3, 0, 'hard');
    expect((await c.read(3, 0, 10)).toString()).toBe('data');
    await c.walk(0, 4);
    expect(await c.fails({ type: 'Tlink', dfid: 0, fid: 4, name: 'dirlink' })).toBe(E.EPERM);
    expect(await c.fails({ type: 'Tlink', dfid: 0, fid: 1, name: 's' })).toBe(E.EEXIST);
    const fifo = await c.call(
      { type: 'Tmknod', dfid: 0, name: 'p', mode: 0o10644, major: 0, minor: 0, gid: 0 },
      'Rmknod',
    );
    await c.walk(0, 5, 'p');
    expect((await c.getattr(5)).qid).toEqual(fifo.qid);
    expect((await c.getattr(5)).mode).toBe(0o10644);
    expect(await c.fails({ type: 'Tmknod', dfid: 0, name: 'null', mode: 0o20666, major: 1, minor: 3, gid: 0 })).toBe(
      E.EPERM,
    );
    const st = await c.call({ type: 'Tstatfs', fid: 0 }, 'Rstatfs');
    expect(st).toMatchObject({ bsize: 4096, namelen: 255 });
    expect(st.bfree).toBe(st.blocks - 1n);
    await c.call({ type: 'Tfsync', fid: 1, datasync: 0 }, 'Rfsync');
    expect(await c.fails({ type: 'Tfsync', fid: 5, datasync: 1 })).toBe(E.EBADF);
  });

  it('allows device nodes where the filesystem does', async () => {
    const { c } = await mounted(new MemFilesystem({ allowDeviceNodes: true }));
    await c.call({ type: 'Tmknod', dfid: 0, name: 'null', mode: 0o20666, major: 1, minor: 3, gid: 0 }, 'Rmknod');
    await c.walk(0, 1, 'null');
    expect((await c.getattr(1)).rdev).toBe(0x103n);
  });
});

describe('xattrs', () => {
  it('sets through xattrcreate + write + clunk, lists and reads through xattrwalk, removes', async () => {
    const { c } = await mounted();
    await c.create(0, 1, 'f');
    await c.walk(0, 2, 'f');
    await c.call({ type: 'Txattrcreate', fid: 2, name: 'user.colour', attr_size: 4n, flags: 0 }, 'Rxattrcreate');
    await c.write(2, 0, 'bl');
    await c.write(2, 2, 'ue');
    await c.clunk(2);
    const got = await c.call({ type: 'Txattrwalk', fid: 1, newfid: 3, name: 'user.colour' }, 'Rxattrwalk');
    expect(got.size).toBe(4n);
    expect((await c.read(3, 0, 100)).toString()).toBe('blue');
    const list = await c.call({ type: 'Txattrwalk', fid: 1, newfid: 4, name: '' }, 'Rxattrwalk');
    expect((await c.read(4, 0, Number(list.size))).toString()).toBe('user.colour\0');
    expect(await c.fails({ type: 'Txattrwalk', fid: 1, newfid: 5, name: 'user.none' })).toBe(E2.ENODATA);
    // XATTR_CREATE on an existing name fails at clunk; a short write fails too.
    await c.walk(0, 6, 'f');
    await c.call({ type: 'Txattrcreate', fid: 6, name: 'user.colour', attr_size: 1n, flags: 1 }, 'Rxattrcreate');
    await c.write(6, 0, 'x');
    expect(await c.fails({ type: 'Tclunk', fid: 6 })).toBe(E.EEXIST);
    await c.walk(0, 7, 'f');
    await c.call({ type: 'Txattrcreate', fid: 7, name: 'user.short', attr_size: 3n, flags: 0 }, 'Rxattrcreate');
    await c.write(7, 0, 'x');
    expect(await c.fails({ type: 'Tclunk', fid: 7 })).toBe(E.EINVAL);
    // Removal is size 0 with XATTR_REPLACE.
    await c.walk(0, 8, 'f');
    await c.call({ type: 'Txattrcreate', fid: 8, name: 'user.colour', attr_size: 0n, flags: 2 }, 'Rxattrcreate');
    await c.clunk(8);
    expect(await c.fails({ type: 'Txattrwalk', fid: 1, newfid: 9, name: 'user.colour' })).toBe(E2.ENODATA);
    expect(c.session.fidCount).toBe(4);
  });
});

describe('locks', () => {
  const lock = (fid: number, locktype: number, start = 0n, length = 0n) => ({
    type: 'Tlock' as const,
    fid,
    locktype,
    flags: 0,
    start,
    length,
    proc_id: 100 + fid,
    client_id: 'guest',
  });
  it('conflict between two opens, across sessions, and release on clunk', async () => {
    const { c, server } = await mounted();
    await c.create(0, 1, 'f');
    await c.open(0, 2, RDWR, 'f');
    expect((await c.call(lock(1, 1, 0n, 100n), 'Rlock')).status).toBe(0);
    expect((await c.call(lock(2, 0, 50n, 10n), 'Rlock')).status).toBe(1);
    expect((await c.call(lock(2, 0, 100n, 10n), 'Rlock')).status).toBe(0);
    const probe = await c.call(
      { type: 'Tgetlock', fid: 2, locktype: 1, start: 0n, length: 0n, proc_id: 1, client_id: 'x' },
      'Rgetlock',
    );
    expect(probe).toMatchObject({ locktype: 1, start: 0n, length: 100n, proc_id: 101, client_id: 'guest' });
    // Another session (another guest) sees the same locks.
    const other = new TestClient(server);
    await other.version();
    await other.attach(0);
    await other.open(0, 1, RDWR, 'f');
    expect((await other.call(lock(1, 1, 90n, 1n), 'Rlock')).status).toBe(1);
    await c.clunk(1);
    expect((await other.call(lock(1, 1, 90n, 1n), 'Rlock')).status).toBe(0);
    // Unlock splits: fid 2 keeps [100,105) after unlocking [105,110).
    await c.call(lock(2, 2, 105n, 5n), 'Rlock');
    expect((await other.call(lock(1, 1, 107n, 1n), 'Rlock')).status).toBe(0);
    expect((await other.call(lock(1, 1, 104n, 1n), 'Rlock')).status).toBe(1);
    const free = await c.call(
      { type: 'Tgetlock', fid: 2, locktype: 0, start: 200n, length: 5n, proc_id: 1, client_id: 'x' },
      'Rgetlock',
    );
    expect(free.locktype).toBe(2);
  });
});

class GatedFs extends MemFilesystem {
  gate: Promise<void> | undefined;
  override async read(handle: P9Handle, offset: number, count: number): Promise<Buffer> {
    if (this.gate) await this.gate;
    return super.read(handle, offset, count);
  }
  override async lookup(dir: number, name: string) {
    if (this.gate) await this.gate;
    return super.lookup(dir, name);
  }
}

describe('flush and concurrency', () => {
  it('a flushed request gets no reply, and Rflush follows its completion', async () => {
    const fs = new GatedFs();
    const { c } = await mounted(fs);
    await c.create(0, 1, 'f');
    await c.write(1, 0, 'x');
    let open!: () => void;
    fs.gate = new Promise((r) => (open = r));
    const readTag = c.tag();
    void c.send({ type: 'Tread', fid: 1, offset: 0n, count: 1 }, readTag);
    const walkTag = c.tag();
    void c.send({ type: 'Twalk', fid: 0, newfid: 9, wnames: ['f'] }, walkTag);
    const flushRead = c.send({ type: 'Tflush', oldtag: readTag });
    const flushWalk = c.send({ type: 'Tflush', oldtag: walkTag });
    await new Promise((r) => setImmediate(r));
    expect(c.replies.filter((m) => m.type === 'Rflush')).toHaveLength(0);
    fs.gate = undefined;
    open();
    expect((await flushRead).type).toBe('Rflush');
    expect((await flushWalk).type).toBe('Rflush');
    await c.session.idle();
    expect(c.replies.some((m) => m.tag === readTag || m.tag === walkTag)).toBe(false);
    // The flushed walk made no fid; the tag is free again.
    expect(await c.fails({ type: 'Tgetattr', fid: 9, request_mask: 1n })).toBe(E.EBADF);
    expect((await c.send({ type: 'Tread', fid: 1, offset: 0n, count: 1 }, readTag)).type).toBe('Rread');
    // Flushing a tag not in flight is answered at once.
    expect((await c.send({ type: 'Tflush', oldtag: 4242 })).type).toBe('Rflush');
  });

  it('serves requests concurrently: replies carry their tags, a slow one does not hold the others', async () => {
    const fs = new GatedFs();
    const { c } = await mounted(fs);
    await c.create(0, 1, 'f');
    await c.write(1, 0, 'abc');
    let open!: () => void;
    fs.gate = new Promise((r) => (open = r));
    const slow = c.send({ type: 'Tread', fid: 1, offset: 0n, count: 3 }, 500);
    const fast = await c.send({ type: 'Tgetattr', fid: 1, request_mask: 0x7ffn }, 501);
    expect(fast).toMatchObject({ type: 'Rgetattr', tag: 501, size: 3n });
    fs.gate = undefined;
    open();
    expect(await slow).toMatchObject({ type: 'Rread', tag: 500, data: Buffer.from('abc') });
  });
});

describe('malformed messages fail alone', () => {
  it('answers Rlerror EINVAL for the tag of a malformed body, and the session goes on', async () => {
    const { c } = await mounted();
    const bad = c.reply(77);
    // Tgetattr tag 77 with a 2-byte request_mask instead of 8.
    c.raw(hex`0d 00 00 00  18  4d 00  00 00 00 00  ff 07`);
    expect(await bad).toEqual({ type: 'Rlerror', tag: 77, ecode: E.EINVAL });
    const unknown = c.reply(78);
    c.raw(hex`0b 00 00 00  70  4e 00  00 00 00 00   # Topen (9P2000) tag 78`);
    expect(await unknown).toEqual({ type: 'Rlerror', tag: 78, ecode: E2.EOPNOTSUPP });
    expect((await c.getattr(0)).mode).toBe(0o40755);
    expect(c.closedWith).toBe('open');
  });

  it('one client broken does not disturb another on the same server', async () => {
    const { c, server } = await mounted();
    const other = new TestClient(server);
    await other.version();
    await other.attach(0);
    c.raw(hex`ff ff ff 7f  64  00 00   # a size far beyond msize`);
    expect(c.closedWith).toMatchObject({ errno: 'EPROTO' });
    expect(server.sessions).toBe(1);
    await other.create(0, 1, 'ok');
    expect(await other.write(1, 0, 'fine')).toBe(4);
  });
});

describe('several channels into one session (a 9pfs device with several rings)', () => {
  it('shares the fids, answers on the channel of the request, and flushes across channels', async () => {
    const fs = new GatedFs();
    const server = new P9Server({ exports: fs });
    const ring0: P9Message[] = [];
    const ring1: P9Message[] = [];
    const session = server.connect({ send: (b) => ring0.push(decodeMessage(b)), close: () => undefined });
    const second = session.channel((b) => ring1.push(decodeMessage(b)));
    const on = (ring: { receive(b: Buffer): void }, m: P9Message) => ring.receive(encodeMessage(m));
    on(session, { type: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' });
    await waitFor(() => ring0.length === 1);
    on(second, { type: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: '', aname: '', n_uname: 0 });
    await waitFor(() => ring1.length === 1);
    on(session, { type: 'Tgetattr', tag: 2, fid: 0, request_mask: 0x7ffn });
    await waitFor(() => ring0.length === 2);
    expect(ring0[1]).toMatchObject({ type: 'Rgetattr', tag: 2, mode: 0o40755 });
    let open!: () => void;
    fs.gate = new Promise((r) => (open = r));
    on(session, { type: 'Twalk', tag: 3, fid: 0, newfid: 1, wnames: ['.'] });
    on(second, { type: 'Tflush', tag: 4, oldtag: 3 });
    fs.gate = undefined;
    open();
    await waitFor(() => ring1.length === 2);
    await session.idle();
    expect(ring1[1]).toEqual({ type: 'Rflush', tag: 4 });
    expect(ring0).toHaveLength(2);
    // A message beyond msize on one ring ends the whole device session.
    second.receive(Buffer.from([0xff, 0xff, 0, 0]));
    on(session, { type: 'Tgetattr', tag: 5, fid: 0, request_mask: 0x7ffn });
    await new Promise((r) => setImmediate(r));
    expect(ring0).toHaveLength(2);
  });
});

describe('limits', () => {
  it('refuses a fid beyond maxFids and an open beyond maxOpenFiles with EMFILE, and frees them on clunk', async () => {
    const server = new P9Server({ exports: new MemFilesystem(), maxFids: 3, maxOpenFiles: 1 });
    const c = new TestClient(server);
    await c.version();
    await c.attach(0);
    await c.create(0, 1, 'a');
    await c.walk(0, 2);
    expect(await c.fails({ type: 'Tlopen', fid: 2, flags: 0 })).toBe(24);
    expect(await c.fails({ type: 'Twalk', fid: 0, newfid: 3, wnames: [] })).toBe(24);
    await c.clunk(1);
    await c.call({ type: 'Tlopen', fid: 2, flags: 0 }, 'Rlopen');
    await c.walk(0, 3);
  });
});

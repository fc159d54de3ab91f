// ZfsP9Filesystem driven through libs/p9's server with encoded T-messages, over a ZFS pool in a real file.
import { NodeFileIO } from '@dominion/fsio';
import {
  P9Server,
  P9_AT_REMOVEDIR,
  P9_O,
  P9_SETATTR,
  P9_XATTR_CREATE,
  decodeDirents,
  type P9Dirent,
} from '@dominion/p9';
import { tempDir } from '@dominion/testing';
import { Pool } from '@dominion/zfs';
import { ZfsP9Filesystem } from '../src/index.js';
import { WireClient } from './client.js';

const MiB = 1024 * 1024;
const E = { ENOENT: 2, EEXIST: 17, EISDIR: 21, EROFS: 30, ENOTEMPTY: 39, ENODATA: 61, EDQUOT: 122 };
const NOFID = 0xffffffff;

interface Mounted {
  pool: Pool;
  fs: ZfsP9Filesystem;
  c: WireClient;
  nextFid: () => number;
  done: () => Promise<void>;
}

async function mount(props: Record<string, string> = {}): Promise<Mounted> {
  const dir = tempDir('xenfs-');
  const pool = await Pool.create(new NodeFileIO(), {
    name: 'tank',
    vdevs: [{ path: `${dir.path}/v0`, size: 64 * MiB }],
  });
  await pool.createFilesystem('tank/home', { props });
  const fs = new ZfsP9Filesystem(pool, 'tank/home');
  const c = new WireClient(new P9Server({ exports: fs, maxMsize: 65536 }));
  await c.ok({ type: 'Tversion', msize: 65536, version: '9P2000.L' }, 'Rversion');
  await c.ok({ type: 'Tattach', fid: 0, afid: NOFID, uname: '', aname: '', n_uname: 1000 }, 'Rattach');
  let fid = 1;
  return {
    pool,
    fs,
    c,
    nextFid: () => fid++,
    done: async () => {
      await c.close();
      await pool.close();
      dir.remove();
    },
  };
}

/** Walks from the root to `path` on a new fid. */
async function walk(m: Mounted, ...names: string[]): Promise<number> {
  const fid = m.nextFid();
  await m.c.ok({ type: 'Twalk', fid: 0, newfid: fid, wnames: names }, 'Rwalk');
  return fid;
}

/** Creates and opens `name` in the directory at `dir` (a path from the root); returns the open fid. */
async function create(m: Mounted, name: string, dir: string[] = [], flags = P9_O.RDWR): Promise<number> {
  const fid = await walk(m, ...dir);
  await m.c.ok({ type: 'Tlcreate', fid, name, flags, mode: 0o644, gid: 100 }, 'Rlcreate');
  return fid;
}

async function open(m: Mounted, flags: number, ...path: string[]): Promise<number> {
  const fid = await walk(m, ...path);
  await m.c.ok({ type: 'Tlopen', fid, flags }, 'Rlopen');
  return fid;
}

async function write(m: Mounted, fid: number, offset: number, data: string | Buffer): Promise<number> {
  const r = await m.c.ok({ type: 'Twrite', fid, offset: BigInt(offset), data: Buffer.from(data) }, 'Rwrite');
  return r.count;
}

async function read(m: Mounted, fid: number, offset: number, count: number): Promise<Buffer> {
  return (await m.c.ok({ type: 'Tread', fid, offset: BigInt(offset), count }, 'Rread')).data;
}

async function clunk(m: Mounted, fid: number): Promise<void> {
  await m.c.ok({ type: 'Tclunk', fid }, 'Rclunk');
}

/** Every entry of a directory, in as many Treaddir calls of `count` bytes as it takes. */
async function readdir(m: Mounted, path: string[], count = 8192): Promise<P9Dirent[]> {
  const fid = await open(m, P9_O.RDONLY | P9_O.DIRECTORY, ...path);
  const out: P9Dirent[] = [];
  for (let offset = 0n; ;) {
    const r = await m.c.ok({ type: 'Treaddir', fid, offset, count }, 'Rreaddir');
    const batch = decodeDirents(r.data);
    if (batch.length === 0) break;
    out.push(...batch);
    offset = batch[batch.length - 1].offset;
  }
  await clunk(m, fid);
  return out;
}

const names = (d: P9Dirent[]) => d.map((e) => e.name).sort();

describe('ZfsP9Filesystem over 9P2000.L messages', () => {
  let m: Mounted;
  afterEach(async () => {
    await m.done();
  });

  it('creates, writes, reads, lists, links, renames over, symlinks, and keeps xattrs', async () => {
    m = await mount();
    const { c } = m;
    const mk = await walk(m);
    await c.ok({ type: 'Tmkdir', dfid: mk, name: 'docs', mode: 0o750, gid: 100 }, 'Rmkdir');
    // mknod is refused cleanly (the dataset holds no device nodes), beside the mkdir that worked.
    expect(await c.errno({ type: 'Tmknod', dfid: mk, name: 'null', mode: 0o20666, major: 1, minor: 3, gid: 0 })).toBe(
      95,
    );
    const f = await create(m, 'a.txt', ['docs']);
    expect(await write(m, f, 0, 'hello world')).toBe(11);
    // Sparse: a write far out leaves a hole that reads as zeros.
    await write(m, f, 100_000, 'end');
    expect((await read(m, f, 0, 11)).toString()).toBe('hello world');
    expect((await read(m, f, 50_000, 4)).equals(Buffer.alloc(4))).toBe(true);
    const attr = await c.ok({ type: 'Tgetattr', fid: f, request_mask: 0x3fffn }, 'Rgetattr');
    expect(attr).toMatchObject({ size: 100_003n, uid: 1000, gid: 100, mode: 0o100644, nlink: 1n });
    expect(attr.mtime_nsec).toBeLessThan(1_000_000_000n);
    await c.ok({ type: 'Tfsync', fid: f, datasync: 0 }, 'Rfsync');
    await clunk(m, f);

    // Hard link: two names, one qid path, nlink 2.
    const docs = await walk(m, 'docs');
    const target = await walk(m, 'docs', 'a.txt');
    await c.ok({ type: 'Tlink', dfid: docs, fid: target, name: 'b.txt' }, 'Rlink');
    const a = await c.ok({ type: 'Twalk', fid: 0, newfid: m.nextFid(), wnames: ['docs', 'a.txt'] }, 'Rwalk');
    const b = await c.ok({ type: 'Twalk', fid: 0, newfid: m.nextFid(), wnames: ['docs', 'b.txt'] }, 'Rwalk');
    expect(b.wqids[1].path).toBe(a.wqids[1].path);
    expect((await c.ok({ type: 'Tgetattr', fid: target, request_mask: 0x3fffn }, 'Rgetattr')).nlink).toBe(2n);

    // Rename over an existing target: the target's name now holds the moved file, atomically.
    const c2 = await create(m, 'c.txt', ['docs']);
    await write(m, c2, 0, 'new contents');
    await clunk(m, c2);
    await c.ok(
      { type: 'Trenameat', olddirfid: docs, oldname: 'c.txt', newdirfid: docs, newname: 'a.txt' },
      'Rrenameat',
    );
    const ra = await open(m, P9_O.RDONLY, 'docs', 'a.txt');
    expect((await read(m, ra, 0, 100)).toString()).toBe('new contents');
    expect(names(await readdir(m, ['docs']))).toEqual(['.', '..', 'a.txt', 'b.txt']);
    // The replaced file lives on under its other name.
    expect((await c.ok({ type: 'Tgetattr', fid: target, request_mask: 0x3fffn }, 'Rgetattr')).nlink).toBe(1n);

    // Symlinks.
    await c.ok({ type: 'Tsymlink', fid: docs, name: 'ln', symtgt: 'b.txt', gid: 100 }, 'Rsymlink');
    const ln = await walk(m, 'docs', 'ln');
    expect((await c.ok({ type: 'Treadlink', fid: ln }, 'Rreadlink')).target).toBe('b.txt');
    expect((await c.ok({ type: 'Tgetattr', fid: ln, request_mask: 0x3fffn }, 'Rgetattr')).mode).toBe(0o120777);

    // xattrs: create, read back through xattrwalk, refuse a second create, list.
    const xf = await walk(m, 'docs', 'b.txt');
    await c.ok(
      { type: 'Txattrcreate', fid: xf, name: 'user.color', attr_size: 4n, flags: P9_XATTR_CREATE },
      'Rxattrcreate',
    );
    await write(m, xf, 0, 'blue');
    await clunk(m, xf);
    const xw = m.nextFid();
    expect((await c.ok({ type: 'Txattrwalk', fid: target, newfid: xw, name: 'user.color' }, 'Rxattrwalk')).size).toBe(
      4n,
    );
    expect((await read(m, xw, 0, 4)).toString()).toBe('blue');
    await clunk(m, xw);
    // A second XATTR_CREATE of the name fails when the value is committed (at clunk).
    const again = await walk(m, 'docs', 'b.txt');
    await c.ok(
      { type: 'Txattrcreate', fid: again, name: 'user.color', attr_size: 1n, flags: P9_XATTR_CREATE },
      'Rxattrcreate',
    );
    await write(m, again, 0, 'x');
    expect(await c.errno({ type: 'Tclunk', fid: again })).toBe(E.EEXIST);
    expect(await c.errno({ type: 'Txattrwalk', fid: target, newfid: m.nextFid(), name: 'user.none' })).toBe(E.ENODATA);

    // setattr: chmod, and exact times with nanoseconds.
    await c.ok(
      {
        type: 'Tsetattr',
        fid: target,
        valid: P9_SETATTR.MODE | P9_SETATTR.MTIME | P9_SETATTR.MTIME_SET,
        mode: 0o600,
        uid: 0,
        gid: 0,
        size: 0n,
        atime_sec: 0n,
        atime_nsec: 0n,
        mtime_sec: 1_700_000_000n,
        mtime_nsec: 123_456_789n,
      },
      'Rsetattr',
    );
    expect(await c.ok({ type: 'Tgetattr', fid: target, request_mask: 0x3fffn }, 'Rgetattr')).toMatchObject({
      mode: 0o100600,
      mtime_sec: 1_700_000_000n,
      mtime_nsec: 123_456_789n,
    });

    // rmdir of a non-empty directory is refused; unlinking its files then lets it go.
    expect(await c.errno({ type: 'Tunlinkat', dirfid: 0, name: 'docs', flags: P9_AT_REMOVEDIR })).toBe(E.ENOTEMPTY);
    for (const n of ['a.txt', 'b.txt', 'ln'])
      await c.ok({ type: 'Tunlinkat', dirfid: docs, name: n, flags: 0 }, 'Runlinkat');
    await c.ok({ type: 'Tunlinkat', dirfid: 0, name: 'docs', flags: P9_AT_REMOVEDIR }, 'Runlinkat');
    expect(names(await readdir(m, []))).toEqual(['.', '..']);

    const st = await c.ok({ type: 'Tstatfs', fid: 0 }, 'Rstatfs');
    expect(st).toMatchObject({ fstype: 0x2fc12fc1, bsize: 4096 });
    expect(st.bavail).toBeGreaterThan(0n);
  });

  it('keeps an unlinked open file readable until its last fid goes, and O_APPEND appends', async () => {
    m = await mount();
    const { c } = m;
    const f = await create(m, 'log');
    await write(m, f, 0, 'one\n');
    await clunk(m, f);
    const ap = await open(m, P9_O.WRONLY | P9_O.APPEND, 'log');
    // O_APPEND: the offset sent is ignored, the bytes land at the end.
    await write(m, ap, 0, 'two\n');
    const rd = await open(m, P9_O.RDONLY, 'log');
    expect((await read(m, rd, 0, 100)).toString()).toBe('one\ntwo\n');
    await c.ok({ type: 'Tunlinkat', dirfid: 0, name: 'log', flags: 0 }, 'Runlinkat');
    expect(await c.errno({ type: 'Twalk', fid: 0, newfid: m.nextFid(), wnames: ['log'] })).toBe(E.ENOENT);
    // A txg in between: the orphan is kept on disk too while held.
    await m.pool.sync();
    await write(m, ap, 0, 'three\n');
    expect((await read(m, rd, 0, 100)).toString()).toBe('one\ntwo\nthree\n');
    expect((await c.ok({ type: 'Tgetattr', fid: rd, request_mask: 0x3fffn }, 'Rgetattr')).nlink).toBe(0n);
    const before = m.pool.get('tank/home').referenced;
    await clunk(m, ap);
    await clunk(m, rd);
    await m.pool.sync();
    expect(m.pool.get('tank/home').referenced).toBeLessThan(before);
  });

  it('answers EDQUOT over the quota with no half-written file, beside a write that fits', async () => {
    m = await mount({ quota: '2M' });
    const f = await create(m, 'big');
    const chunk = Buffer.alloc(60_000, 7);
    await write(m, f, 0, chunk);
    let at = chunk.length;
    let errno = 0;
    for (let i = 0; i < 64 && errno === 0; i++) {
      const r = await m.c.send({ type: 'Twrite', fid: f, offset: BigInt(at), data: chunk });
      if (r.type === 'Rlerror') errno = r.ecode;
      else at += chunk.length;
    }
    expect(errno).toBe(E.EDQUOT);
    const size = (await m.c.ok({ type: 'Tgetattr', fid: f, request_mask: 0x3fffn }, 'Rgetattr')).size;
    expect(size).toBe(BigInt(at));
  });

  it('browses .zfs/snapshot read-only (EROFS) while the live dataset takes writes', async () => {
    m = await mount();
    const { c } = m;
    const f = await create(m, 'data');
    await write(m, f, 0, 'generation 1');
    await clunk(m, f);
    await m.pool.snapshot('tank/home@monday');
    const g = await open(m, P9_O.WRONLY | P9_O.TRUNC, 'data');
    await write(m, g, 0, 'generation 2');
    await clunk(m, g);

    // Hidden from the root's listing, but walkable.
    expect(names(await readdir(m, []))).toEqual(['.', '..', 'data']);
    expect(names(await readdir(m, ['.zfs', 'snapshot']))).toEqual(['.', '..', 'monday']);
    const old = await open(m, P9_O.RDONLY, '.zfs', 'snapshot', 'monday', 'data');
    expect((await read(m, old, 0, 100)).toString()).toBe('generation 1');
    const cur = await open(m, P9_O.RDONLY, 'data');
    expect((await read(m, cur, 0, 100)).toString()).toBe('generation 2');

    // Writes into the snapshot: EROFS; the same into the live dataset succeeds.
    const snapRoot = await walk(m, '.zfs', 'snapshot', 'monday');
    expect(await c.errno({ type: 'Tlcreate', fid: snapRoot, name: 'x', flags: P9_O.RDWR, mode: 0o644, gid: 0 })).toBe(
      E.EROFS,
    );
    const snapFile = await walk(m, '.zfs', 'snapshot', 'monday', 'data');
    expect(await c.errno({ type: 'Tlopen', fid: snapFile, flags: P9_O.WRONLY })).toBe(E.EROFS);
    const sd = await walk(m, '.zfs', 'snapshot', 'monday');
    expect(await c.errno({ type: 'Tunlinkat', dirfid: sd, name: 'data', flags: 0 })).toBe(E.EROFS);
    // '.zfs' is taken at the root: a create of that name is EEXIST, beside one of another name that works.
    const r = await walk(m);
    expect(await c.errno({ type: 'Tmkdir', dfid: r, name: '.zfs', mode: 0o755, gid: 0 })).toBe(E.EEXIST);
    const live = await create(m, 'x');
    expect(await write(m, live, 0, 'ok')).toBe(2);

    // Qid paths of a snapshot's files differ from the live ones.
    const w1 = await c.ok({ type: 'Twalk', fid: 0, newfid: m.nextFid(), wnames: ['data'] }, 'Rwalk');
    const w2 = await c.ok(
      { type: 'Twalk', fid: 0, newfid: m.nextFid(), wnames: ['.zfs', 'snapshot', 'monday', 'data'] },
      'Rwalk',
    );
    expect(w2.wqids[3].path).not.toBe(w1.wqids[0].path);

    // snapdir=visible lists .zfs at the root; it cannot be removed or renamed over, unlike a file.
    await m.pool.setProperty('tank/home', 'snapdir', 'visible');
    expect(names(await readdir(m, []))).toEqual(['.', '..', '.zfs', 'data', 'x']);
    expect(await c.errno({ type: 'Tunlinkat', dirfid: 0, name: '.zfs', flags: P9_AT_REMOVEDIR })).toBe(E.EROFS);
    expect(await c.errno({ type: 'Trenameat', olddirfid: 0, oldname: 'x', newdirfid: 0, newname: '.zfs' })).toBe(
      E.EROFS,
    );
    await c.ok({ type: 'Trenameat', olddirfid: 0, oldname: 'x', newdirfid: 0, newname: 'y' }, 'Rrenameat');
    // A snapshot destroyed is gone from .zfs/snapshot.
    await m.pool.destroySnapshot('tank/home@monday');
    expect(names(await readdir(m, ['.zfs', 'snapshot']))).toEqual(['.', '..']);
    expect(await c.errno({ type: 'Tread', fid: old, offset: 0n, count: 10 })).toBe(E.ENOENT);
  });

  it('keeps readdir cookies stable while the directory changes between calls', async () => {
    m = await mount();
    const { c } = m;
    for (let i = 0; i < 40; i++) await clunk(m, await create(m, `f${String(i).padStart(2, '0')}`));
    const fid = await open(m, P9_O.RDONLY | P9_O.DIRECTORY);
    const seen: string[] = [];
    let offset = 0n;
    for (let round = 0; ; round++) {
      const r = await c.ok({ type: 'Treaddir', fid, offset, count: 200 }, 'Rreaddir');
      const batch = decodeDirents(r.data);
      if (batch.length === 0) break;
      seen.push(...batch.map((e) => e.name));
      offset = batch[batch.length - 1].offset;
      // Between calls: add a file and remove one not yet seen... or already seen.
      await clunk(m, await create(m, `new${round}`));
      const victim = `f${String(39 - round).padStart(2, '0')}`;
      if (round < 10 && !seen.includes(victim))
        await c.ok({ type: 'Tunlinkat', dirfid: 0, name: victim, flags: 0 }, 'Runlinkat');
    }
    // No name twice, and every file that stayed throughout was listed.
    expect(new Set(seen).size).toBe(seen.length);
    const remaining = names(await readdir(m, [])).filter((n) => n.startsWith('f'));
    for (const n of remaining) expect(seen).toContain(n);
  });

  it('takes snapshots while a client writes: every file in each is wholly one generation', async () => {
    m = await mount();
    const files = ['a', 'b', 'c'];
    const fids = new Map<string, number>();
    for (const n of files) fids.set(n, await create(m, n));
    // Each generation rewrites a whole file in one Twrite spanning four 16 KiB records.
    const gen = (g: number, n: string) => Buffer.alloc(60_000, (g * 7 + n.charCodeAt(0)) & 0xff);
    const writer = (async () => {
      for (let g = 1; g <= 24; g++) for (const n of files) await write(m, fids.get(n)!, 0, gen(g, n));
    })();
    const snaps: string[] = [];
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setImmediate(r));
      await m.pool.snapshot(`tank/home@s${i}`);
      snaps.push(`s${i}`);
    }
    await writer;
    const seen = new Set<number>();
    for (const snap of snaps) {
      const fs = m.pool.openFilesystem(`tank/home@${snap}`);
      for (const n of files) {
        const data = await fs.read(`/${n}`, 0, 60_000);
        if (data.length === 0) continue;
        expect(data.length).toBe(60_000);
        // Wholly one byte value, which is one generation's.
        expect(data.every((b) => b === data[0])).toBe(true);
        seen.add(data[0]);
      }
    }
    expect(seen.size).toBeGreaterThan(1);
  });
});

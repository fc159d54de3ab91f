// The crash harness for the POSIX operations of filesystem datasets: hard links, symlinks, O_APPEND writes,
// setattr (mode, owner, exact nanosecond mtime, truncate), rename over an existing name, xattrs, and fsync
// (recordsize 4K, 16K or 128K by seed), unlinks of held files among them, through the object-number API
// on CrashSimFileIO with a power cut after a random number of I/O calls. After import the tree must equal
// the model at a point no older than the last acknowledged fsync: every operation whole or not at all,
// nothing fsync'd lost; verify is clean after the unlinked set (files unlinked while held) is drained.
import { createHash } from 'node:crypto';
import { CrashSimFileIO, type CrashMode } from '@dominion/fsio';
import { Pool, ROOT_OBJECT, type Filesystem } from '../src/index.js';
import { between, KiB, MiB, pattern, rng, type Rng } from './helpers.js';

const SEEDS = Math.max(1, Math.floor(Number(process.env.ZFS_CRASH_ITERATIONS ?? 200) / 10));
const MODES: CrashMode[] = ['drop-all', 'random-subset', 'reorder-prefix'];
const OPS = 40;

interface Obj {
  data: Buffer;
  mode: number;
  uid: number;
  mtime?: { sec: number; nsec: number };
  xattrs: Map<string, Buffer>;
  symlink?: string;
}

interface Model {
  names: Map<string, number>;
  objects: Map<number, Obj>;
}

const clone = (m: Model): Model => ({
  names: new Map(m.names),
  objects: new Map([...m.objects].map(([k, o]) => [k, { ...o, data: Buffer.from(o.data), xattrs: new Map(o.xattrs) }])),
});

const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 16);

/** The model as one comparable string: per name, its object's contents and its other names. */
function describe_(m: Model): string {
  const out: string[] = [];
  for (const [name, id] of [...m.names].sort()) {
    const o = m.objects.get(id)!;
    const group = [...m.names].filter(([, x]) => x === id).map(([n]) => n);
    const x = [...o.xattrs].sort().map(([k, v]) => `${k}=${v.toString('hex')}`);
    out.push(
      `${name}:${o.symlink ?? digest(o.data)}:${(o.mode & 0o7777).toString(8)}:${o.uid}:${group.sort().join('+')}:` +
        `${o.mtime ? `${o.mtime.sec}.${o.mtime.nsec}` : '-'}:${x.join(',')}`,
    );
  }
  return out.join('\n');
}

/** The model of what a filesystem holds (every object with its mtime), or a string naming a bad nlink. */
async function observe(fs: Filesystem): Promise<Model | string> {
  const entries = await fs.list(ROOT_OBJECT);
  const objects = new Map<number, Obj>();
  const names = new Map<string, number>();
  for (const e of entries) {
    names.set(e.name, e.object);
    if (objects.has(e.object)) continue;
    const st = await fs.getattr(e.object);
    const xattrs = new Map<string, Buffer>();
    for (const k of await fs.listxattr(e.object)) xattrs.set(k, await fs.getxattr(e.object, k));
    const o: Obj = {
      data: e.type === 'file' ? await fs.read(`/${e.name}`, 0, st.size) : Buffer.alloc(0),
      mode: st.mode,
      uid: st.uid,
      xattrs,
      mtime: st.mtimeNs,
      ...(e.type === 'symlink' && { symlink: await fs.readlink(e.object) }),
    };
    const linked = entries.filter((x) => x.object === e.object).length;
    if (st.nlink !== linked) return `object ${e.object}: nlink ${st.nlink} but ${linked} names`;
    objects.set(e.object, o);
  }
  return { names, objects };
}

/** What was seen, rendered against a point of the model: mtimes compared only where it set them exactly. */
function render(seen: Model | string, point: Model): string {
  if (typeof seen === 'string') return seen;
  const m = clone(seen);
  const byName = new Map([...point.names].map(([n, id]) => [n, point.objects.get(id)]));
  for (const [n, id] of m.names) if (byName.get(n)?.mtime === undefined) m.objects.get(id)!.mtime = undefined;
  return describe_(m);
}

async function step(r: Rng, fs: Filesystem, m: Model, n: number): Promise<'fsync' | undefined> {
  const files = [...m.names].filter(([, id]) => m.objects.get(id)!.symlink === undefined);
  const pick = <T>(list: T[]): T => list[between(r, 0, list.length - 1)];
  const x = r();
  if (x < 0.12 || files.length === 0) {
    const name = `f${n}`;
    const id = await fs.createAt(ROOT_OBJECT, name, 'file', { mode: 0o640, uid: 7 });
    m.names.set(name, id);
    m.objects.set(id, { data: Buffer.alloc(0), mode: 0o640, uid: 7, xattrs: new Map() });
    return undefined;
  }
  const [name, id] = pick(files);
  const o = m.objects.get(id)!;
  if (x < 0.35) {
    const append = r() < 0.4;
    const data = pattern(between(r, 1, 1e9), between(r, 1, 36 * KiB));
    const offset = append ? o.data.length : between(r, 0, 40 * KiB);
    const next = Buffer.alloc(Math.max(o.data.length, offset + data.length));
    o.data.copy(next);
    data.copy(next, offset);
    o.data = next;
    o.mtime = undefined;
    expect(await fs.writeObject(id, append ? 0 : offset, data, append)).toBe(offset);
  } else if (x < 0.45) {
    const size = between(r, 0, 50 * KiB);
    const mtime = { sec: between(r, 1, 2e9), nsec: between(r, 0, 999_999_999) };
    const next = Buffer.alloc(size);
    o.data.copy(next, 0, 0, Math.min(size, o.data.length));
    Object.assign(o, { data: next, mode: 0o600, uid: n, mtime });
    await fs.setattr(id, { size, mode: 0o600, uid: n, mtime });
  } else if (x < 0.53) {
    const to = `l${n}`;
    m.names.set(to, id);
    await fs.linkAt(ROOT_OBJECT, to, id);
  } else if (x < 0.6) {
    const target = `t${between(r, 0, 1e6)}`;
    const sid = await fs.symlinkAt(ROOT_OBJECT, `s${n}`, target);
    m.names.set(`s${n}`, sid);
    m.objects.set(sid, { data: Buffer.alloc(0), mode: 0o777, uid: 0, xattrs: new Map(), symlink: target });
  } else if (x < 0.7) {
    m.names.delete(name);
    // Half of the time still held (an open file) when it goes: it lives on in the unlinked set.
    if (r() < 0.5) await fs.hold(id);
    await fs.unlinkAt(ROOT_OBJECT, name, false);
  } else if (x < 0.8) {
    // Over an existing name half of the time.
    const to = r() < 0.5 ? pick(files)[0] : `r${n}`;
    if (to !== name && m.names.get(to) !== id) {
      m.names.set(to, id);
      m.names.delete(name);
    }
    await fs.renameAt(ROOT_OBJECT, name, ROOT_OBJECT, to);
  } else if (x < 0.9) {
    const key = `user.k${between(r, 0, 3)}`;
    if (o.xattrs.has(key) && r() < 0.3) {
      o.xattrs.delete(key);
      await fs.removexattr(id, key);
    } else {
      const v = pattern(n, between(r, 0, 200));
      o.xattrs.set(key, v);
      await fs.setxattr(id, key, v);
    }
  } else {
    await fs.sync();
    return 'fsync';
  }
  for (const [oid] of m.objects) if (![...m.names.values()].includes(oid)) m.objects.delete(oid);
  return undefined;
}

async function crashRun(seed: number): Promise<{ matched: number; durable: number; cut: boolean }> {
  const r = rng(seed);
  const io = new CrashSimFileIO();
  const pool = await Pool.create(io, {
    name: 'tank',
    vdevs: [{ path: '/v0', size: 8 * MiB }],
    dirtyMaxBytes: 128 * KiB,
  });
  const fs = await pool.createFilesystem('tank/fs', { props: { recordsize: ['4K', '16K', '128K'][seed % 3] } });
  const m: Model = { names: new Map(), objects: new Map() };
  const points: Model[] = [clone(m)];
  let durable = 0;
  io.powerCutAfter(between(r, 0, 150));
  for (let n = 0; n < OPS; n++) {
    const before = clone(m);
    try {
      const was = await step(r, fs, m, n);
      points.push(clone(m));
      if (was === 'fsync') durable = points.length - 1;
    } catch (e) {
      if (!io.dead) throw e;
      // The op in flight: applied to the model already, or not at all.
      points.push(before, clone(m));
      break;
    }
  }
  const disk = io.crash({ seed, mode: MODES[seed % MODES.length] });
  const after = await Pool.import(disk, { paths: ['/v0'] });
  const seen = await observe(after.openFilesystem('tank/fs'));
  let matched = -1;
  for (let k = points.length - 1; k >= durable && matched < 0; k--)
    if (render(seen, points[k]) === describe_(points[k])) matched = k;
  if (matched < 0)
    throw new Error(`seed ${seed}: imported tree is no state from the last fsync (${durable}) on:\n${render(seen, m)}`);
  const report = await after.verify();
  if (!report.ok) throw new Error(`seed ${seed}: verify: ${report.problems.slice(0, 5).join('; ')}`);
  await after.close();
  return { matched, durable, cut: io.dead };
}

describe('filesystem POSIX operations across power cuts', () => {
  it(`import at a state no older than the last fsync after ${SEEDS} random power cuts`, async () => {
    let durable = 0;
    let cut = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const res = await crashRun(seed);
      if (res.durable > 0) durable++;
      if (res.cut) cut++;
    }
    // Power cuts landed mid-run, and after fsyncs.
    expect(cut).toBeGreaterThan(SEEDS / 2);
    expect(durable).toBeGreaterThan(0);
  }, 300_000);
});

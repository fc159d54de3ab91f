// The crash harness for filesystem datasets: random creates, writes, truncates, renames, unlinks, mkdirs
// and syncs on CrashSimFileIO, a power cut after a random number of I/O calls, then import and check that
// the tree equals the model at a sync point no older than the last acknowledged sync (filesystem changes
// are durable at txg syncs only), that verify is clean, and that the pool keeps working.
// Runs ZFS_CRASH_ITERATIONS / 5 seeds (default 40).
import { CrashSimFileIO, type CrashMode } from '@dominion/fsio';
import { Pool, type Filesystem } from '../src/index.js';
import { between, KiB, MiB, pattern, rng, type Rng } from './helpers.js';

const ITERATIONS = Math.max(1, Math.floor(Number(process.env.ZFS_CRASH_ITERATIONS ?? 200) / 5));
const FIRST_SEED = Number(process.env.ZFS_CRASH_SEED ?? 1);
const MODES: CrashMode[] = ['drop-all', 'random-subset', 'reorder-prefix'];
const OPS = 50;

/** Path to file contents, or 'dir'. */
type Tree = Map<string, Buffer | 'dir'>;

async function observe(fs: Filesystem, dir = '/', out: Tree = new Map()): Promise<Tree> {
  for (const e of await fs.readdir(dir)) {
    const path = (dir === '/' ? '' : dir) + '/' + e.name;
    if (e.type === 'dir') {
      out.set(path, 'dir');
      await observe(fs, path, out);
    } else {
      out.set(path, await fs.read(path, 0, (await fs.stat(path)).size));
    }
  }
  return out;
}

function same(a: Tree, b: Tree): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined || (v === 'dir' ? w !== 'dir' : w === 'dir' || !v.equals(w))) return false;
  }
  return true;
}

/**
 * Picks an operation, applies it to the model first (so that a crash during it can be judged against the
 * tree with it done: a write that fills the dirty limit syncs a txg before it returns) and runs it.
 * Returns whether it was a sync.
 */
async function step(r: Rng, fs: Filesystem, pool: Pool, tree: Tree, n: number): Promise<boolean> {
  const dirs = ['/', ...[...tree].filter(([, v]) => v === 'dir').map(([k]) => k)];
  const files = [...tree].filter(([, v]) => v !== 'dir').map(([k]) => k);
  const x = r();
  const pick = <T>(list: T[]): T => list[between(r, 0, list.length - 1)];
  const under = (dir: string, name: string): string => `${dir === '/' ? '' : dir}/${name}`;
  if (x < 0.15 || files.length === 0) {
    const path = under(pick(dirs), `f${n}`);
    tree.set(path, Buffer.alloc(0));
    await fs.create(path);
  } else if (x < 0.5) {
    const path = pick(files);
    const data = pattern(between(r, 1, 1e9), between(r, 1, 40 * KiB));
    const offset = between(r, 0, 48 * KiB);
    const old = tree.get(path) as Buffer;
    const next = Buffer.alloc(Math.max(old.length, offset + data.length));
    old.copy(next);
    data.copy(next, offset);
    tree.set(path, next);
    await fs.writeFile(path, offset, data);
  } else if (x < 0.58) {
    const path = pick(files);
    const size = between(r, 0, 40 * KiB);
    const old = tree.get(path) as Buffer;
    const next = Buffer.alloc(size);
    old.copy(next, 0, 0, Math.min(size, old.length));
    tree.set(path, next);
    await fs.truncate(path, size);
  } else if (x < 0.66) {
    const path = pick(files);
    tree.delete(path);
    await fs.unlink(path);
  } else if (x < 0.72) {
    const path = `/d${n}`;
    tree.set(path, 'dir');
    await fs.mkdir(path);
  } else if (x < 0.8) {
    const from = pick(files);
    const to = under(pick(dirs), `r${n}`);
    tree.set(to, tree.get(from)!);
    tree.delete(from);
    await fs.rename(from, to);
  } else {
    await pool.sync();
    return true;
  }
  return false;
}

async function crashRun(seed: number): Promise<{ matched: number; synced: number; points: number }> {
  const r = rng(seed);
  const io = new CrashSimFileIO();
  const pool = await Pool.create(io, {
    name: 'tank',
    vdevs: [{ path: '/v0', size: 8 * MiB }],
    logSize: 256 * KiB,
    dirtyMaxBytes: 128 * KiB,
  });
  const fs = await pool.createFilesystem('tank/fs', seed % 2 === 0 ? { props: { compression: 'lz4' } } : {});
  const tree: Tree = new Map();
  // The tree at every point a txg may have made durable: each sync, and every op (a full dirty limit syncs).
  const points: Tree[] = [new Map()];
  let synced = 0;
  io.powerCutAfter(between(r, 0, 200));
  for (let n = 0; n < OPS; n++) {
    try {
      const isSync = await step(r, fs, pool, tree, n);
      points.push(new Map(tree));
      if (isSync) synced = points.length - 1;
    } catch (e) {
      if (!io.dead) throw e;
      points.push(new Map(tree)); // the op in flight, done (the model applied it before running it)
      break;
    }
  }
  const disk = io.crash({ seed, mode: MODES[seed % MODES.length] });
  const after = await Pool.import(disk, { paths: ['/v0'] });
  const seen = await observe(after.openFilesystem('tank/fs'));
  let matched = -1;
  for (let k = points.length - 1; k >= synced; k--) {
    if (same(seen, points[k])) {
      matched = k;
      break;
    }
  }
  if (matched < 0 && process.env.ZFS_CRASH_DEBUG) {
    console.log(
      'any match',
      points.findIndex((p) => same(seen, p)),
      'of',
      points.length,
    );
    for (const k of [synced, points.length - 1]) {
      const p = points[k];
      const diff = [...new Set([...p.keys(), ...seen.keys()])].filter((x) => {
        const a = p.get(x);
        const b = seen.get(x);
        return a === undefined || b === undefined || (a === 'dir' ? b !== 'dir' : b === 'dir' || !a.equals(b));
      });
      console.log(
        k,
        diff.map(
          (x) =>
            `${x}: model ${String((p.get(x) as Buffer | undefined)?.length ?? p.get(x))} seen ${String((seen.get(x) as Buffer | undefined)?.length ?? seen.get(x))}`,
        ),
      );
    }
  }
  if (matched < 0)
    throw new Error(`seed ${seed}: imported tree (${[...seen.keys()].join(' ')}) is no state from ${synced} on`);
  const report = await after.verify();
  if (!report.ok) throw new Error(`seed ${seed}: verify: ${report.problems.slice(0, 5).join('; ')}`);
  const f = after.openFilesystem('tank/fs');
  await f.create('/after');
  await f.writeFile('/after', 0, pattern(seed, 20 * KiB));
  await after.sync();
  if (!(await after.verify()).ok) throw new Error(`seed ${seed}: verify after more work`);
  await after.close();
  return { matched, synced, points: points.length };
}

describe('filesystem crash consistency', () => {
  it(`imports at a synced tree after ${ITERATIONS} random power cuts`, async () => {
    let pastSync = 0;
    let synced = 0;
    for (let seed = FIRST_SEED; seed < FIRST_SEED + ITERATIONS; seed++) {
      const res = await crashRun(seed);
      if (res.synced > 0) synced++;
      if (res.matched > res.synced) pastSync++;
      if (process.env.ZFS_CRASH_DEBUG) console.log(JSON.stringify({ seed, ...res }));
    }
    expect(synced).toBeGreaterThan(ITERATIONS / 4);
    expect(pastSync).toBeGreaterThan(0);
  }, 600_000);
});

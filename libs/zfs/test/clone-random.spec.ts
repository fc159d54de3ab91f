// Random histories of writes, flushes, snapshots, clones, promotes, rollbacks and destroys over a family of
// volumes, checked against a model of every head's and snapshot's contents, with verify() (deadlists
// exactly as the birth-time rule puts them, no leak, accounting) along the way and after export and import.
// Half the runs lose power after a random number of I/O calls: the pool must then import as the model
// stood after some operation no earlier than the last one acknowledged durable (each of these operations
// is one txg, or a flush), and verify clean.
// ZFS_CRASH_ITERATIONS / 10 histories (default 20).
import { CrashSimFileIO } from '@dominion/fsio';
import { Pool, type ZfsError } from '../src/index.js';
import { between, KiB, MiB, pattern, rng } from './helpers.js';

const SEEDS = Math.max(1, Math.floor(Number(process.env.ZFS_CRASH_ITERATIONS ?? 200) / 10));
const BS = 4 * KiB;
const VOLSIZE = 64 * BS;
const OPS = 40;

/** Every head and snapshot by name. */
type Model = Map<string, Buffer>;

async function observe(pool: Pool): Promise<Model> {
  const out: Model = new Map();
  for (const d of pool.list()) if (d.name !== 't') out.set(d.name, await pool.openVolume(d.name).read(0, VOLSIZE));
  return out;
}

function same(a: Model, b: Model): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k)?.equals(v) === true);
}

async function run(seed: number): Promise<{ promotes: number; clones: number; crashed: boolean }> {
  const r = rng(seed);
  const io = new CrashSimFileIO();
  const pool = await Pool.create(io, { name: 't', vdevs: [{ path: '/v0', size: 16 * MiB }], logSize: 256 * KiB });
  await pool.createVolume('t/v0', { volsize: VOLSIZE, volblocksize: BS, sparse: true });
  const model: Model = new Map([['t/v0', Buffer.alloc(VOLSIZE)]]);
  const history: Model[] = [new Map(model)];
  let durable = 0;
  const crashes = seed % 2 === 0;
  if (crashes) io.powerCutAfter(between(r, 20, 400));
  let promotes = 0;
  let clones = 0;
  const pick = <T>(list: T[]): T => list[between(r, 0, list.length - 1)];
  const heads = (): string[] => [...model.keys()].filter((k) => !k.includes('@'));
  const snapshotsOf = (ds: string): string[] =>
    pool
      .list()
      .filter((d) => d.type === 'snapshot' && d.name.startsWith(`${ds}@`))
      .sort((a, b) => a.createTxg - b.createTxg)
      .map((d) => d.name);
  for (let n = 0; n < OPS && !io.dead; n++) {
    const x = r();
    const ds = pick(heads());
    const snaps = [...model.keys()].filter((k) => k.includes('@'));
    // The op: what it does to the model (applied before it runs, so that a crash inside it can be judged
    // with it done), whether its success makes everything durable, and the call.
    let change: (() => void) | undefined;
    let op: (() => Promise<unknown>) | undefined;
    let syncs = true;
    let refusalOk = (): boolean => false;
    if (x < 0.3) {
      const blocks = between(r, 1, 6);
      const at = between(r, 0, 64 - blocks) * BS;
      const data = pattern(seed * 1000 + n, blocks * BS);
      change = () => {
        const next = Buffer.from(model.get(ds)!);
        data.copy(next, at);
        model.set(ds, next);
      };
      op = () => pool.openVolume(ds).write(at, data);
      syncs = false;
    } else if (x < 0.38) {
      op = () => pool.openVolume(ds).flush();
    } else if (x < 0.55) {
      change = () => model.set(`${ds}@s${n}`, model.get(ds)!);
      op = () => pool.snapshot(`${ds}@s${n}`);
    } else if (x < 0.67 && snaps.length > 0) {
      const s = pick(snaps);
      change = () => model.set(`t/c${n}`, model.get(s)!);
      op = () => pool.clone(s, `t/c${n}`);
      clones++;
    } else if (x < 0.77) {
      const origin = pool.get(ds).origin;
      if (origin === undefined) continue;
      const from = origin.slice(0, origin.indexOf('@'));
      const cut = pool.get(origin).createTxg;
      const moving = snapshotsOf(from).filter((s) => pool.get(s).createTxg <= cut);
      if (moving.some((s) => model.has(`${ds}@${s.split('@')[1]}`))) continue;
      change = () => {
        for (const s of moving) {
          model.set(`${ds}@${s.split('@')[1]}`, model.get(s)!);
          model.delete(s);
        }
      };
      op = () => pool.promote(ds);
      promotes++;
    } else if (x < 0.85) {
      const latest = snapshotsOf(ds).pop();
      if (latest === undefined) continue;
      change = () => model.set(ds, model.get(latest)!);
      op = () => pool.rollback(latest);
    } else if (x < 0.95 && snaps.length > 0) {
      const s = pick(snaps);
      const hasClones = pool.list().some((d) => d.origin === s);
      if (!hasClones) change = () => model.delete(s);
      op = () => pool.destroySnapshot(s);
      refusalOk = () => hasClones;
    } else if (heads().length > 1) {
      const busy = snapshotsOf(ds).length > 0;
      if (!busy) change = () => model.delete(ds);
      op = () => pool.destroy(ds);
      refusalOk = () => busy;
    }
    if (op === undefined) continue;
    change?.();
    history.push(new Map(model));
    try {
      await op();
      if (refusalOk()) throw new Error(`seed ${seed} op ${n}: a refused operation succeeded`);
      if (syncs) durable = history.length - 1;
    } catch (e) {
      if (io.dead) break;
      if (refusalOk() && (e as ZfsError).kind === 'EBUSY') continue; // refused whole: the state pushed is the same

      throw new Error(`seed ${seed} op ${n}: ${(e as Error).message}`, { cause: e });
    }
    if (n % 8 === 7 && !crashes) {
      const report = await pool.verify();
      if (!report.ok) throw new Error(`seed ${seed} op ${n}: ${report.problems.slice(0, 4).join('; ')}`);
    }
  }
  let after: Pool;
  if (io.dead || crashes) {
    after = await Pool.import(io.crash({ seed, mode: seed % 4 === 0 ? 'drop-all' : 'reorder-prefix' }), {
      paths: ['/v0'],
    });
  } else {
    await pool.export();
    after = await Pool.import(io, { paths: ['/v0'] });
  }
  const seen = await observe(after);
  const first = io.dead || crashes ? durable : history.length - 1;
  if (!history.slice(first).some((h) => same(seen, h)))
    throw new Error(`seed ${seed}: imported ${[...seen.keys()].join(' ')} is no state from op ${first} on`);
  const report = await after.verify();
  if (!report.ok) throw new Error(`seed ${seed} after import: ${report.problems.slice(0, 4).join('; ')}`);
  await after.close();
  return { promotes, clones, crashed: io.dead };
}

describe('clones and promote, at random', () => {
  it(`keep every head and snapshot intact and verify clean over ${SEEDS} random histories`, async () => {
    let promotes = 0;
    let clones = 0;
    let crashed = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const res = await run(seed);
      promotes += res.promotes;
      clones += res.clones;
      if (res.crashed) crashed++;
    }
    expect(clones).toBeGreaterThan(SEEDS);
    expect(promotes).toBeGreaterThan(SEEDS / 4);
    expect(crashed).toBeGreaterThan(0);
  }, 300_000);
});

// The crash-consistency harness. Each run drives random writes, discards, flushes, txg syncs, snapshots,
// rollbacks and snapshot destroys on a CrashSimFileIO, cuts the power after a random number of I/O calls,
// takes the disk as the crash leaves it (un-synced writes dropped, reordered or torn, per mode), imports it
// and checks:
//  - the pool imports;
//  - its contents and snapshots equal the model after some prefix of the operations, no shorter than the
//    last acknowledged flush or sync (nothing acknowledged is lost, nothing half-applied appears);
//  - the space maps agree with the trees (verify: no leak, nothing referenced is free, no overlap,
//    deadlists exact, accounting exact);
//  - the imported pool keeps working (more writes, a snapshot, a destroy, verify again).
// Some runs crash a second time during the import's own recovery.
// ZFS_CRASH_ITERATIONS=n runs n seeds (default 200); ZFS_CRASH_SEED=s starts at seed s.
import { CrashSimFileIO, type CrashMode } from '@dominion/fsio';
import { Pool, type VdevSpec, type Volume, type ZfsError } from '../src/index.js';
import { between, KiB, MiB, pattern, rng, type Rng } from './helpers.js';

const ITERATIONS = Number(process.env.ZFS_CRASH_ITERATIONS ?? 200);
const FIRST_SEED = Number(process.env.ZFS_CRASH_SEED ?? 1);
const MODES: CrashMode[] = ['drop-all', 'random-subset', 'reorder-prefix'];
const PATH = '/vdev0';
/** Every fifth run has a second top-level vdev; every fifth another is a two-way mirror. */
const pathsOf = (seed: number): string[] => (seed % 5 === 1 || seed % 5 === 3 ? [PATH, '/vdev1'] : [PATH]);
const vdevsOf = (seed: number): VdevSpec[] =>
  seed % 5 === 3
    ? [{ type: 'mirror', paths: pathsOf(seed), size: 4 * MiB }]
    : pathsOf(seed).map((path) => ({ path, size: 4 * MiB }));
/** Data lz4 compresses (runs of a few byte values), for the runs with compression on. */
function compressible(seed: number, n: number): Buffer {
  const out = Buffer.alloc(n);
  const r = rng(seed);
  for (let at = 0; at < n;) {
    const run = between(r, 8, 256);
    out.fill(between(r, 0, 3), at, Math.min(n, at + run));
    at += run;
  }
  return out;
}
const VOLSIZE = 512 * KiB;
const OPS = 60;

interface State {
  readonly content: Buffer;
  readonly snaps: ReadonlyMap<string, Buffer>;
}

type Op =
  | { kind: 'write'; offset: number; data: Buffer }
  | { kind: 'discard'; offset: number; length: number }
  | { kind: 'flush' }
  | { kind: 'sync' }
  | { kind: 'snapshot'; name: string }
  | { kind: 'rollback'; name: string }
  | { kind: 'destroy'; name: string };

function pickOp(r: Rng, state: State, n: number, bs: number, maxBlocks: number): Op {
  const x = r();
  const snaps = [...state.snaps.keys()];
  if (x < 0.45) {
    const length = between(r, 1, maxBlocks * bs);
    const offset = between(r, 0, VOLSIZE - length);
    const seed = Math.floor(r() * 1e9);
    return { kind: 'write', offset, data: r() < 0.5 ? compressible(seed, length) : pattern(seed, length) };
  }
  if (x < 0.53) {
    const length = between(r, 1, 4 * bs);
    return { kind: 'discard', offset: between(r, 0, VOLSIZE - length), length };
  }
  if (x < 0.7) return { kind: 'flush' };
  if (x < 0.78) return { kind: 'sync' };
  if (x < 0.86 && snaps.length < 3) return { kind: 'snapshot', name: `s${n}` };
  if (x < 0.92 && snaps.length > 0) return { kind: 'rollback', name: snaps[snaps.length - 1] };
  if (snaps.length > 0) return { kind: 'destroy', name: snaps[between(r, 0, snaps.length - 1)] };
  return { kind: 'flush' };
}

/** The model's state after `op`, and whether the op's success makes everything so far durable. */
function apply(state: State, op: Op): { next: State; durable: boolean } {
  const content = op.kind === 'write' || op.kind === 'discard' ? Buffer.from(state.content) : state.content;
  const snaps = new Map(state.snaps);
  switch (op.kind) {
    case 'write':
      op.data.copy(content, op.offset);
      return { next: { content, snaps }, durable: false };
    case 'discard':
      content.fill(0, op.offset, op.offset + op.length);
      return { next: { content, snaps }, durable: false };
    case 'flush':
    case 'sync':
      return { next: state, durable: true };
    case 'snapshot':
      snaps.set(op.name, content);
      return { next: { content, snaps }, durable: true };
    case 'rollback':
      return { next: { content: Buffer.from(snaps.get(op.name)!), snaps }, durable: true };
    case 'destroy':
      snaps.delete(op.name);
      return { next: { content, snaps }, durable: true };
  }
}

async function run(pool: Pool, vol: Volume, op: Op): Promise<void> {
  switch (op.kind) {
    case 'write':
      return vol.write(op.offset, op.data);
    case 'discard':
      return vol.discard(op.offset, op.length);
    case 'flush':
      return vol.flush();
    case 'sync':
      await pool.sync();
      return;
    case 'snapshot':
      return pool.snapshot(`tank/v@${op.name}`);
    case 'rollback':
      return pool.rollback(`tank/v@${op.name}`);
    case 'destroy':
      return pool.destroySnapshot(`tank/v@${op.name}`);
  }
}

async function observed(pool: Pool): Promise<State> {
  const content = await pool.openVolume('tank/v').read(0, VOLSIZE);
  const snaps = new Map<string, Buffer>();
  for (const d of pool.list()) {
    if (d.type === 'snapshot') snaps.set(d.name.split('@')[1], await pool.openVolume(d.name).read(0, VOLSIZE));
  }
  return { content, snaps };
}

function sameState(a: State, b: State): boolean {
  if (!a.content.equals(b.content) || a.snaps.size !== b.snaps.size) return false;
  for (const [name, data] of a.snaps) if (!b.snaps.get(name)?.equals(data)) return false;
  return true;
}

async function crashRun(seed: number): Promise<{
  cutAt: number;
  ops: number;
  matched: number;
  durable: number;
  enospc: number;
  secondVdev: boolean;
  compressed: boolean;
}> {
  const r = rng(seed);
  const mode = MODES[seed % MODES.length];
  const bs = [4 * KiB, 8 * KiB][seed % 2];
  const io = new CrashSimFileIO();
  const pool = await Pool.create(io, {
    name: 'tank',
    vdevs: vdevsOf(seed),
    logSize: 256 * KiB,
    dirtyMaxBytes: 96 * KiB,
    condenseMargin: seed % 2 === 0 ? 16 : 256,
  });
  const vol = await pool.createVolume('tank/v', {
    volsize: VOLSIZE,
    volblocksize: bs,
    checksum: ['on', 'sha256', 'blake3'][seed % 3],
    compression: seed % 4 === 3 ? 'lz4' : 'off',
  });
  const history: State[] = [{ content: Buffer.alloc(VOLSIZE), snaps: new Map() }];
  let durable = 0;
  let enospc = 0;
  const cutAt = between(r, 0, 160);
  io.powerCutAfter(cutAt);
  for (let n = 0; n < OPS; n++) {
    // Runs with two vdevs write more, so that allocation moves on to the second one (every 512 KiB).
    const op = pickOp(r, history[history.length - 1], n, bs, pathsOf(seed).length > 1 ? 16 : 3);
    const { next, durable: makesDurable } = apply(history[history.length - 1], op);
    history.push(next);
    try {
      await run(pool, vol, op);
    } catch (e) {
      if (!io.dead && (e as ZfsError).kind === 'ENOSPC') {
        // Refused whole: the model stays as it was.
        history[history.length - 1] = history[history.length - 2];
        enospc++;
        continue;
      }
      if (!io.dead) throw e;
      break;
    }
    if (makesDurable) durable = history.length - 1;
  }

  if (process.env.ZFS_CRASH_DEBUG) console.log(`ops used ${io.opCount} dead ${io.dead}`);
  let disk = io.crash({ seed, mode });
  if (seed % 4 === 0) {
    // Lose power again while the import replays the log and syncs.
    disk.powerCutAfter(between(r, 0, 200));
    try {
      const p = await Pool.import(disk, { paths: pathsOf(seed), condenseMargin: 16, dirtyMaxBytes: 96 * KiB });
      await p.sync();
    } catch (e) {
      if (!disk.dead) throw e;
    }
    disk = disk.crash({ seed: seed + 1, mode: MODES[(seed + 1) % MODES.length] });
  }

  const after = await Pool.import(disk, { paths: pathsOf(seed), condenseMargin: 16, dirtyMaxBytes: 96 * KiB });
  const seen = await observed(after);
  let matched = -1;
  for (let k = history.length - 1; k >= durable; k--) {
    if (sameState(seen, history[k])) {
      matched = k;
      break;
    }
  }
  if (matched < 0) {
    const prefix = history.findIndex((h) => sameState(seen, h));
    throw new Error(
      `seed ${seed} (${mode}, cut after ${cutAt}): imported state is not any state from ${durable} to ${history.length - 1} (matches ${prefix})`,
    );
  }
  const report = await after.verify();
  if (!report.ok)
    throw new Error(`seed ${seed} (${mode}): verify after import: ${report.problems.slice(0, 5).join('; ')}`);

  // The pool keeps working after recovery.
  const v = after.openVolume('tank/v');
  await v.write(between(r, 0, VOLSIZE - 3 * bs), pattern(seed, 3 * bs));
  await after.snapshot('tank/v@after');
  await v.discard(0, VOLSIZE / 2);
  await after.destroySnapshot('tank/v@after');
  await after.sync();
  const again = await after.verify();
  if (!again.ok)
    throw new Error(`seed ${seed} (${mode}): verify after more work: ${again.problems.slice(0, 5).join('; ')}`);
  const map = await after.blockMap();
  const secondVdev = map.some((e) => e.vdev === 1);
  const compressed = map.some((e) => e.compression === 'lz4');
  // Every other mirror run also checks each child alone (it copies the disk three times).
  if (seed % 10 === 3) {
    await after.export();
    await checkMirrorCopies(disk, seed);
  }
  return { cutAt, ops: history.length - 1, matched, durable, enospc, secondVdev, compressed };
}

/**
 * After recovery and more work, each child of the mirror alone holds the whole pool: the power cut may
 * have left them different, but every block the pool references was written and synced on both, or
 * repaired from the other by a read. A scrub first, so that copies a crash left stale are repaired.
 */
async function checkMirrorCopies(disk: CrashSimFileIO, seed: number): Promise<void> {
  const both = await Pool.import(disk, { paths: pathsOf(seed) });
  const scrub = await both.scrub();
  if (scrub.unrecoverable > 0) throw new Error(`seed ${seed}: scrub found ${scrub.unrecoverable} unrecoverable`);
  const content = await both.openVolume('tank/v').read(0, VOLSIZE);
  await both.export();
  for (const path of pathsOf(seed)) {
    const one = disk.crash({ seed, mode: 'drop-all' });
    await one.unlink(path === PATH ? '/vdev1' : PATH);
    const alone = await Pool.import(one, { paths: pathsOf(seed) });
    if (alone.status().health !== 'DEGRADED') throw new Error(`seed ${seed}: ${path} alone is not DEGRADED`);
    if (!(await alone.openVolume('tank/v').read(0, VOLSIZE)).equals(content))
      throw new Error(`seed ${seed}: ${path} alone does not hold the volume`);
    await alone.close();
  }
}

describe('crash consistency', () => {
  it(`imports at the last txg plus the intent log after ${ITERATIONS} random power cuts`, async () => {
    let replayedPastDurable = 0;
    let reachedDurable = 0;
    let usedSecondVdev = 0;
    let compressedRuns = 0;
    for (let seed = FIRST_SEED; seed < FIRST_SEED + ITERATIONS; seed++) {
      const started = Date.now();
      const res = await crashRun(seed);
      if (res.matched > res.durable) replayedPastDurable++;
      if (res.durable > 0) reachedDurable++;
      if (res.secondVdev) usedSecondVdev++;
      if (res.compressed) compressedRuns++;
      if (process.env.ZFS_CRASH_DEBUG) console.log(JSON.stringify({ seed, ms: Date.now() - started, ...res }));
    }
    // The harness must exercise both outcomes, or it proves little.
    expect(reachedDurable).toBeGreaterThan(ITERATIONS / 4);
    expect(replayedPastDurable).toBeGreaterThan(0);
    expect(usedSecondVdev).toBeGreaterThan(0);
    expect(compressedRuns).toBeGreaterThan(0);
  }, 600_000);
});

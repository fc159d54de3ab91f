// Long-run fuzzer of the parsers that face other domains: `npm run fuzz -- --time 600 [--target xs_wire]`.
// Each target gets an equal share of the time in a worker thread. A crash (any exception but the library's
// own error type), a hang (no progress for --timeout seconds), a heap over --heap-mb or one Buffer over
// --alloc-mb is written to
// tools/fuzz/findings/ with its input and the run exits 1.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const here = dirname(fileURLToPath(import.meta.url));
const TARGETS = ['xs_wire', 'xlcfg', 'blkif', 'netif', 'nbd', 'p9'];
const LIBS = { xs_wire: 'xenstore', xlcfg: 'xlcfg', blkif: 'blkif', netif: 'netif', nbd: 'nbd', p9: 'p9' };

const { values } = parseArgs({
  options: {
    time: { type: 'string', default: '60' },
    target: { type: 'string', multiple: true },
    timeout: { type: 'string', default: '10' },
    'heap-mb': { type: 'string', default: '512' },
    'alloc-mb': { type: 'string', default: '64' },
    seed: { type: 'string' },
  },
});
const targets = values.target ?? TARGETS;
for (const t of targets) {
  if (!TARGETS.includes(t)) {
    console.error(`fuzz: unknown target '${t}' (targets: ${TARGETS.join(', ')})`);
    process.exit(2);
  }
  const dist = join(here, '../../libs', LIBS[t], 'dist/index.js');
  if (!existsSync(dist)) {
    console.error(`fuzz: ${dist} is missing; build the libraries first (npm run build)`);
    process.exit(2);
  }
}
const totalMs = Number(values.time) * 1000;
const hangMs = Number(values.timeout) * 1000;
const heapMb = Number(values['heap-mb']);
const allocMb = Number(values['alloc-mb']);
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 0x7fffffff;
if (!(totalMs > 0) || !(hangMs > 0) || !(heapMb > 0) || !(allocMb > 0) || !Number.isInteger(seed)) {
  console.error('fuzz: --time, --timeout, --heap-mb and --alloc-mb take positive numbers, --seed an integer');
  process.exit(2);
}
const shareMs = Math.floor(totalMs / targets.length);

function saveFinding(target, kind, hex, error) {
  const dir = join(here, 'findings');
  mkdirSync(dir, { recursive: true });
  const bytes = Buffer.from(hex, 'hex');
  const name = `${target}-${kind}-${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}`;
  writeFileSync(join(dir, name), bytes);
  writeFileSync(join(dir, `${name}.txt`), `${error}\n\ninput (${bytes.length} bytes, hex):\n${hex}\n`);
  return join(dir, name);
}

function runTarget(target) {
  return new Promise((resolve) => {
    const shared = new SharedArrayBuffer(8 + 8192);
    const progress = new Int32Array(shared, 0, 2);
    const worker = new Worker(join(here, 'worker.mjs'), {
      workerData: {
        target,
        targetsDir: join(here, 'targets'),
        corpusDir: join(here, 'corpus', target),
        timeMs: shareMs,
        seed,
        shared,
        allocBytes: allocMb * 1024 * 1024,
      },
      resourceLimits: { maxOldGenerationSizeMb: heapMb },
      stdout: false,
    });
    const lastInput = () => Buffer.from(new Uint8Array(shared, 8, Atomics.load(progress, 0))).toString('hex');
    let settled = false;
    const finish = (r) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      resolve(r);
    };
    let seen = -1;
    let since = Date.now();
    const watchdog = setInterval(() => {
      const runs = Atomics.load(progress, 1);
      if (runs !== seen) {
        seen = runs;
        since = Date.now();
      } else if (Date.now() - since > hangMs) {
        const hex = lastInput();
        void worker.terminate();
        finish({ kind: 'hang', input: hex, error: `no progress for ${values.timeout} s on one input` });
      }
    }, 250);
    worker.on('message', (m) => {
      if (m.kind === 'done') finish({ kind: 'ok', runs: m.runs, seeds: m.seeds });
      else finish({ kind: 'crash', input: m.input, error: m.error, shrunk: m.shrunk });
    });
    worker.on('error', (e) => {
      const oom = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
      finish({ kind: oom ? 'oom' : 'crash', input: lastInput(), error: String(e?.stack ?? e) });
    });
    worker.on('exit', () =>
      finish({
        kind: 'crash',
        input: lastInput(),
        error: 'the worker exited without a verdict: a promise that never settles?',
      }),
    );
  });
}

console.log(`fuzz: ${targets.join(', ')}; ${shareMs / 1000} s each, seed ${seed}`);
let failed = 0;
for (const t of targets) {
  const started = Date.now();
  const r = await runTarget(t);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (r.kind === 'ok') {
    console.log(`fuzz: ${t}: ok, ${r.runs} inputs (${r.seeds} seeds replayed) in ${secs} s`);
  } else {
    failed++;
    const file = saveFinding(t, r.kind, r.input, r.error);
    console.log(
      `fuzz: ${t}: ${r.kind.toUpperCase()}${r.shrunk ? ' (shrunk)' : ''} after ${secs} s; input saved to ${file}`,
    );
    console.log(`  ${r.error.split('\n').slice(0, 6).join('\n  ')}`);
    console.log(`  input hex: ${r.input.length > 400 ? `${r.input.slice(0, 400)}...` : r.input}`);
  }
}
process.exit(failed > 0 ? 1 : 0);

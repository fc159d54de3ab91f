// One target's fuzz loop, in a worker thread so the runner can stop a hang (terminate() interrupts even a
// busy loop) and bound its heap (resourceLimits). Before each run the input is copied into shared memory,
// so whatever kills the worker, the runner still holds the input that did it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workerData, parentPort } from 'node:worker_threads';
import fc from 'fast-check';

const { target, targetsDir, corpusDir, timeMs, seed, shared, allocBytes } = workerData;
const MAX_INPUT = 8192;
const lenView = new Int32Array(shared, 0, 2); // [length, runs]
const bytesView = new Uint8Array(shared, 8);

// Buffers live outside the V8 heap that resourceLimits bounds: one allocation beyond the bound is a finding,
// even when the library catches the error (a 9P handler's failure becomes an Rlerror).
let breach;
for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow']) {
  const original = Buffer[name];
  Buffer[name] = function (size, ...rest) {
    if (size > allocBytes) {
      breach ??= new Error(`fuzz bound broken: Buffer.${name}(${size}) over ${allocBytes} bytes`);
      throw breach;
    }
    return original.call(this, size, ...rest);
  };
}

const { fuzz } = await import(join(targetsDir, `${target}.mjs`));

function record(data) {
  const n = Math.min(data.length, bytesView.length);
  bytesView.set(data.subarray(0, n));
  Atomics.store(lenView, 0, n);
  Atomics.add(lenView, 1, 1);
}

async function runOne(data) {
  record(data);
  breach = undefined;
  await fuzz(data);
  if (breach) throw breach;
}

let seeds = [];
try {
  seeds = readdirSync(corpusDir)
    .sort()
    .map((f) => readFileSync(join(corpusDir, f)));
} catch {
  // no corpus yet: random bytes only
}

// Every corpus file runs as is first: a committed seed or a saved finding is a regression check.
for (const s of seeds) {
  try {
    await runOne(s);
  } catch (e) {
    parentPort.postMessage({ kind: 'crash', input: s.toString('hex'), error: String(e?.stack ?? e), shrunk: false });
    process.exit(0);
  }
}

// Mutations of a seed, as a list fast-check can shrink (fewer edits, smaller values) when one fails.
const edit = fc.oneof(
  fc.record({ op: fc.constant('set'), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    op: fc.constant('interesting'),
    at: fc.nat(),
    width: fc.constantFrom(1, 2, 4, 8),
    value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff),
  }),
  fc.record({ op: fc.constant('insert'), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 32 }) }),
  fc.record({ op: fc.constant('delete'), at: fc.nat(), n: fc.integer({ min: 1, max: 64 }) }),
  fc.record({
    op: fc.constant('repeat'),
    at: fc.nat(),
    n: fc.integer({ min: 1, max: 256 }),
    times: fc.integer({ min: 2, max: 8 }),
  }),
  fc.record({ op: fc.constant('truncate'), at: fc.nat() }),
);

function applyEdits(base, edits) {
  let b = Buffer.from(base);
  for (const e of edits) {
    const at = b.length === 0 ? 0 : e.at % (b.length + 1);
    switch (e.op) {
      case 'set':
        if (at < b.length) b[at] = e.byte;
        break;
      case 'interesting':
        for (let i = 0; i < e.width && at + i < b.length; i++) b[at + i] = (e.value / 2 ** (8 * i)) & 0xff;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), e.bytes, b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.n)]);
        break;
      case 'repeat': {
        const piece = b.subarray(at, at + e.n);
        b = Buffer.concat([b.subarray(0, at), ...Array(e.times).fill(piece), b.subarray(at)]);
        break;
      }
      case 'truncate':
        b = b.subarray(0, at);
        break;
    }
  }
  return b.subarray(0, MAX_INPUT);
}

const random = fc.uint8Array({ maxLength: 512 }).map((u) => Buffer.from(u));
const input =
  seeds.length === 0
    ? random
    : fc.oneof(
        { weight: 1, arbitrary: random },
        {
          weight: 4,
          arbitrary: fc
            .tuple(fc.constantFrom(...seeds.keys()), fc.array(edit, { minLength: 1, maxLength: 8 }))
            .map(([i, edits]) => applyEdits(seeds[i], edits)),
        },
      );

const result = await fc.check(
  fc.asyncProperty(input, async (data) => {
    await runOne(data);
  }),
  {
    numRuns: Number.MAX_SAFE_INTEGER,
    interruptAfterTimeLimit: timeMs,
    markInterruptAsFailure: false,
    seed,
    endOnFailure: false,
  },
);
if (result.failed) {
  const [data] = result.counterexample;
  parentPort.postMessage({
    kind: 'crash',
    input: Buffer.from(data).toString('hex'),
    error: String(result.errorInstance?.stack ?? result.errorInstance ?? result.error),
    shrunk: true,
    seed: result.seed,
  });
} else {
  parentPort.postMessage({ kind: 'done', runs: result.numRuns, seeds: seeds.length });
}

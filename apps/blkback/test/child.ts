// blkback as its own process, as dom0's launcher runs it: the app's sources transpiled with swc (as Jest
// does) into out-tsc/child, so no build is needed, and run with node against the libraries' builds.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(app, 'out-tsc', 'child');

interface Swc {
  transformFileSync(path: string, opts: object): { code: string };
}

let built = false;

/** Transpiles src/*.ts once per test process. */
export function buildChild(): string {
  if (built) return join(out, 'main.js');
  const swc = createRequire(import.meta.url)('@swc/core') as Swc;
  mkdirSync(out, { recursive: true });
  for (const f of readdirSync(join(app, 'src'))) {
    if (!f.endsWith('.ts') || f.endsWith('.spec.ts')) continue;
    const { code } = swc.transformFileSync(join(app, 'src', f), {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
        keepClassNames: true,
      },
      module: { type: 'es6' },
    });
    writeFileSync(join(out, f.replace(/\.ts$/, '.js')), code);
  }
  built = true;
  return join(out, 'main.js');
}

export interface BlkbackProcess {
  child: ChildProcess;
  /** Everything it logged (pino JSON lines). */
  log(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnBlkback(env: Record<string, string>): BlkbackProcess {
  let log = '';
  const child = spawn(process.execPath, [buildChild()], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, log: () => log, exited };
}

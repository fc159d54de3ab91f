// Benchmark helpers: latency percentiles and the JSON every bench writes to var/bench/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LatencyStats {
  n: number;
  p50_us: number;
  p99_us: number;
  mean_us: number;
  ops_s: number;
}

/** Stats of latencies in nanoseconds measured over `elapsedNs` of wall time. */
export function latencyStats(latNs: number[], elapsedNs: number): LatencyStats {
  const s = [...latNs].sort((a, b) => a - b);
  const pick = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] / 1000;
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length) / 1000;
  return {
    n: s.length,
    p50_us: round(pick(0.5)),
    p99_us: round(pick(0.99)),
    mean_us: round(mean),
    ops_s: Math.round((s.length * 1e9) / elapsedNs),
  };
}

/** Times `n` sequential calls of `op` after `warmup` unmeasured ones. */
export async function timeSequential(
  op: () => Promise<unknown>,
  n: number,
  warmup = Math.min(500, n),
): Promise<LatencyStats> {
  for (let i = 0; i < warmup; i++) await op();
  const lat: number[] = new Array<number>(n);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    await op();
    lat[i] = Number(process.hrtime.bigint() - s);
  }
  return latencyStats(lat, Number(process.hrtime.bigint() - t0));
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The repository root (libs/testing/src -> ../../..). */
export function repoRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/** Writes var/bench/<name>.json and prints the rows. */
export function writeBenchResult(name: string, rows: Array<Record<string, unknown>>, notes?: string): string {
  const dir = join(repoRoot(), 'var', 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ name, date: new Date().toISOString(), notes, rows }, null, 2) + '\n');
  console.log(`${name}\n` + rows.map((r) => '  ' + JSON.stringify(r)).join('\n'));
  return file;
}

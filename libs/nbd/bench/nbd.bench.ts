// The NBD export under fio's nbd engine (libnbd), next to `nbdkit file` serving the same file, in one run:
// 1 MiB sequential read/write and 4 KiB random read/write at depth 1 and 32. Our server runs as its own
// process (bench/serve.mjs over the built library, as an app runs it: no Jest in it), pinned to CPU 0 like
// nbdkit; fio runs on CPU 1. The two servers alternate job by job so drift in the machine's load hits both.
// fio's JSON for every run is kept under var/bench/nbd/ (the raw samples); the CPU share each server used
// during its runs is read from /proc. Knobs: BENCH_RUNTIME (s per job, 3), BENCH_FILE_MIB (512),
// BENCH_JOBS (a subset, for profiling).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { NodeFileIO } from '@dominion/fsio';
import { freePort, repoRoot, round, tempDir, waitFor, writeBenchResult } from '@dominion/testing';
import { FileNbdExport } from '../src/index.js';

const RUNTIME_S = Number(process.env.BENCH_RUNTIME ?? 3);
const FILE_MIB = Number(process.env.BENCH_FILE_MIB ?? 512);
const SERVER_CPU = '0';
const FIO_CPU = '1';

interface Job {
  name: string;
  rw: 'read' | 'write' | 'randread' | 'randwrite';
  bs: string;
  depth: number;
}

/** BENCH_JOBS=randread-4k-qd32,... runs a subset (profiling); the default is the full set. */
const ONLY = process.env.BENCH_JOBS?.split(',');
const ALL: Job[] = [];
for (const depth of [1, 32]) {
  ALL.push({ name: `seqread-1m-qd${depth}`, rw: 'read', bs: '1m', depth });
  ALL.push({ name: `seqwrite-1m-qd${depth}`, rw: 'write', bs: '1m', depth });
  ALL.push({ name: `randread-4k-qd${depth}`, rw: 'randread', bs: '4k', depth });
  ALL.push({ name: `randwrite-4k-qd${depth}`, rw: 'randwrite', bs: '4k', depth });
}
const JOBS = ONLY ? ALL.filter((j) => ONLY.includes(j.name)) : ALL;

function sh(cmd: string, args: string[], timeoutMs = 120000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: timeoutMs }, (e, out, err) =>
      e ? reject(new Error(`${cmd} ${args.join(' ')}: ${e.message}\n${err}`)) : resolve(out),
    );
  });
}

interface FioSide {
  bw_mib_s: number;
  iops: number;
  clat_mean_us: number;
  clat_p99_us: number;
}

async function fio(uri: string, job: Job, out: string): Promise<FioSide> {
  await sh('taskset', [
    '-c',
    FIO_CPU,
    'fio',
    `--name=${job.name}`,
    '--ioengine=nbd',
    `--uri=${uri}`,
    `--rw=${job.rw}`,
    `--bs=${job.bs}`,
    `--iodepth=${job.depth}`,
    `--size=${FILE_MIB}m`,
    `--runtime=${RUNTIME_S}`,
    '--time_based',
    '--ramp_time=0.5',
    '--output-format=json',
    `--output=${out}`,
  ]);
  const json = JSON.parse(readFileSync(out, 'utf8')) as {
    jobs: Array<
      Record<
        'read' | 'write',
        { bw_bytes: number; iops: number; clat_ns: { mean: number; percentile?: Record<string, number> } }
      >
    >;
  };
  const side = json.jobs[0][job.rw.includes('read') ? 'read' : 'write'];
  return {
    bw_mib_s: round(side.bw_bytes / 1048576),
    iops: Math.round(side.iops),
    clat_mean_us: round(side.clat_ns.mean / 1000),
    clat_p99_us: round((side.clat_ns.percentile?.['99.000000'] ?? 0) / 1000),
  };
}

/** CPU seconds (user + system, all threads) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 (utime, stime) counted from the state field (3): indexes 11 and 12 here.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Runs fio and reports the share of one CPU the server used meanwhile. */
async function measured(pid: number, uri: string, job: Job, out: string): Promise<FioSide & { cpu_pct: number }> {
  const c0 = cpuSeconds(pid);
  const t0 = process.hrtime.bigint();
  const side = await fio(uri, job, out);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  return { ...side, cpu_pct: Math.round(((cpuSeconds(pid) - c0) / wall) * 100) };
}

/** Starts a server pinned to SERVER_CPU and resolves once `ready()` says it serves. */
async function startPinned(argv: string[], ready: () => Promise<boolean>, what: string): Promise<ChildProcess> {
  const child = spawn('taskset', ['-c', SERVER_CPU, ...argv], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(ready, 20000, what);
  return child;
}

async function listening(uri: string): Promise<boolean> {
  try {
    await sh('nbdinfo', ['--size', uri], 5000);
    return true;
  } catch {
    return false;
  }
}

describe('nbd', () => {
  it(`fio over NBD: our server vs nbdkit file, ${JOBS.length} jobs x ${RUNTIME_S} s each`, async () => {
    const project = join(repoRoot(), 'libs', 'nbd');
    const tmp = tempDir('nbd-bench-');
    const rawDir = join(repoRoot(), 'var', 'bench', 'nbd');
    mkdirSync(rawDir, { recursive: true });
    const path = join(tmp.path, 'disk.img');
    // Incompressible data, so reads move real bytes and no side can skip holes.
    const exp = await FileNbdExport.create(new NodeFileIO(), path, FILE_MIB << 20);
    const chunk = randomBytes(1 << 20);
    for (let i = 0; i < FILE_MIB; i++) await exp.write(i * chunk.length, chunk, { fua: false });
    await exp.flush();
    await exp.close();
    // serve.mjs runs the built library (and fsio's): build them first.
    await sh('npx', ['tsc', '-b', join(project, 'tsconfig.lib.json')], 300000);

    const children: ChildProcess[] = [];
    try {
      const ourPort = await freePort();
      const ourUri = `nbd://127.0.0.1:${ourPort}/disk`;
      const ours = await startPinned(
        [process.execPath, join(project, 'bench', 'serve.mjs'), path, String(ourPort)],
        () => listening(ourUri),
        'our server to listen',
      );
      children.push(ours);
      const kitPort = await freePort();
      const kitUri = `nbd://127.0.0.1:${kitPort}/`;
      const kit = await startPinned(
        ['nbdkit', '--exit-with-parent', '-f', '-i', '127.0.0.1', '-p', String(kitPort), 'file', path],
        () => listening(kitUri),
        'nbdkit to listen',
      );
      children.push(kit);

      const rows: Array<Record<string, unknown>> = [];
      for (const job of JOBS) {
        // taskset execs its command in place, so each child's pid is the server's.
        const d = await measured(ours.pid!, ourUri, job, join(rawDir, `dominion-${job.name}.json`));
        const k = await measured(kit.pid!, kitUri, job, join(rawDir, `nbdkit-${job.name}.json`));
        rows.push({
          job: job.name,
          dominion_mib_s: d.bw_mib_s,
          nbdkit_mib_s: k.bw_mib_s,
          dominion_iops: d.iops,
          nbdkit_iops: k.iops,
          ratio: round(d.iops / Math.max(1, k.iops), 2),
          dominion_clat_us: d.clat_mean_us,
          nbdkit_clat_us: k.clat_mean_us,
          dominion_p99_us: d.clat_p99_us,
          nbdkit_p99_us: k.clat_p99_us,
          dominion_cpu_pct: d.cpu_pct,
          nbdkit_cpu_pct: k.cpu_pct,
        });
      }
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
      writeBenchResult(
        'nbd',
        rows,
        `fio ${RUNTIME_S}s time_based (+0.5s ramp) per job, ioengine=nbd over TCP 127.0.0.1, ${FILE_MIB} MiB file of ` +
          `random data (page cache warm); servers on CPU ${SERVER_CPU}, fio on CPU ${FIO_CPU}; ` +
          `${(await sh('nbdkit', ['--version'])).trim()} file plugin; node ${process.version}; load average at end ${load}. ` +
          'ratio = dominion/nbdkit IOPS; cpu_pct = share of one CPU the server used. Raw fio JSON: var/bench/nbd/.',
      );
      expect(rows.length).toBe(JOBS.length);
    } finally {
      for (const c of children) c.kill();
      tmp.remove();
    }
  });
});

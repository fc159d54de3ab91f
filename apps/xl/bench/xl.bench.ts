// Guests from a user's point of view: the built launcher's system (nats-server in operator mode, the
// hypervisor, dom0) and the built xl. Measures `xl create` to running (the xl process from start to exit:
// it returns once the guest is up and unpaused) over 20 guests, the resident memory of an idle guest process
// (VmRSS in /proc/<pid>/status, pids from dom0's toolstack API), and how many idle guests the machine holds:
// creation goes on until DOMINION_BENCH_MAX guests (default 100, Xen's design target), 12 GiB of summed
// guest RSS, or a create p99 over 10 s, whichever comes first. Everything is destroyed afterwards.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busRequest, subjects } from '@dominion/bus';
import { latencyStats, round, writeBenchResult } from '@dominion/testing';
import { startDominion, type Dominion } from '../test/dominion-e2e.js';

const MAX_GUESTS = Number(process.env.DOMINION_BENCH_MAX ?? 100);
const LATENCY_GUESTS = Math.min(20, MAX_GUESTS);
const RSS_LIMIT_KIB = 12 * 1024 * 1024;
const CREATE_P99_LIMIT_MS = 10_000;
/** The p99 that stops the density run is taken over this many most recent creates. */
const P99_WINDOW = 20;
const IDLE_SETTLE_MS = 3000;

const rssKiB = (pid: number): number => {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`/proc/${pid}/status has no VmRSS`);
  return Number(m[1]);
};

const pct = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

describe('xl create, guest RSS and density', () => {
  let dominion: Dominion;

  beforeAll(async () => {
    dominion = await startDominion('dominion-xl-bench-');
  }, 60000);

  afterAll(async () => {
    await dominion?.stop();
  }, 120000);

  it('measures and cleans up', async () => {
    const cfg = join(dominion.home.path, 'idle.cfg');
    writeFileSync(cfg, 'memory = 16\nvcpus = 1\nkernel = "builtin:minios"\n');
    const pids = async (): Promise<number[]> =>
      (
        await busRequest<{ domains: Array<{ pid?: number }> }>(dominion.nc, subjects.toolstack(0, 'list'), {})
      ).domains.flatMap((d) => (d.pid === undefined ? [] : [d.pid]));
    const createMs: number[] = [];
    const create = async (i: number): Promise<number> => {
      const t0 = process.hrtime.bigint();
      const r = await dominion.xl('create', cfg, `name="idle-${i}"`);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.code !== 0) throw new Error(`xl create idle-${i}: exit ${r.code}: ${r.stderr}`);
      createMs.push(ms);
      return ms;
    };
    let created = 0;
    try {
      for (; created < LATENCY_GUESTS; created++) await create(created);
      const latency = latencyStats(
        createMs.map((ms) => ms * 1e6),
        createMs.reduce((a, b) => a + b, 0) * 1e6,
      );

      await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
      const idleRss = (await pids()).map(rssKiB).sort((a, b) => a - b);

      let stop = `${MAX_GUESTS} guests`;
      let sumRss = 0;
      for (; created < MAX_GUESTS; created++) {
        try {
          await create(created);
        } catch (e) {
          stop = (e as Error).message.split('\n')[0];
          break;
        }
        sumRss = (await pids()).map(rssKiB).reduce((a, b) => a + b, 0);
        const recent = createMs.slice(-P99_WINDOW).sort((a, b) => a - b);
        if (sumRss > RSS_LIMIT_KIB) {
          stop = `summed RSS over ${RSS_LIMIT_KIB / 1024 / 1024} GiB`;
          created++;
          break;
        }
        if (recent.length >= P99_WINDOW && pct(recent, 0.99) > CREATE_P99_LIMIT_MS) {
          stop = `create p99 over ${CREATE_P99_LIMIT_MS / 1000} s`;
          created++;
          break;
        }
      }
      if (sumRss === 0) sumRss = (await pids()).map(rssKiB).reduce((a, b) => a + b, 0);
      const last = createMs.slice(-P99_WINDOW).sort((a, b) => a - b);
      const MiB = (kib: number): number => round(kib / 1024);

      writeBenchResult(
        'xl-guests',
        [
          {
            measure: `xl create to running (${latency.n} guests, sequential)`,
            n: latency.n,
            p50_ms: round(latency.p50_us / 1000),
            p99_ms: round(latency.p99_us / 1000),
            mean_ms: round(latency.mean_us / 1000),
          },
          {
            measure: `RSS of an idle guest process (${idleRss.length} guests, ${IDLE_SETTLE_MS / 1000} s after creation)`,
            n: idleRss.length,
            p50_MiB: MiB(pct(idleRss, 0.5)),
            max_MiB: MiB(idleRss[idleRss.length - 1]),
            mean_MiB: MiB(idleRss.reduce((a, b) => a + b, 0) / idleRss.length),
          },
          {
            measure: `density: idle guests held (stopped at: ${stop})`,
            n: created,
            sum_RSS_MiB: MiB(sumRss),
            p50_ms: round(pct(last, 0.5)),
            p99_ms: round(pct(last, 0.99)),
          },
        ],
        `The built launcher's system (nats-server in operator mode, hypervisor, dom0) on this machine; each guest is ` +
          `a minios guest (memory = 16, one Node process). Create times are the built xl process from start to exit. ` +
          `Density p50/p99 are over the last ${P99_WINDOW} creates. Bounds: ${MAX_GUESTS} guests, ` +
          `${RSS_LIMIT_KIB / 1024 / 1024} GiB summed RSS, create p99 ${CREATE_P99_LIMIT_MS / 1000} s.`,
      );
      expect(created).toBeGreaterThan(0);
    } finally {
      // Destroy in parallel, a few at a time: each is one toolstack request.
      const names = Array.from({ length: created + 1 }, (_, i) => `idle-${i}`);
      for (let i = 0; i < names.length; i += 8)
        await Promise.all(names.slice(i, i + 8).map((n) => dominion.xl('destroy', n)));
      expect((await dominion.hv.listDomains()).map((d) => d.name)).toEqual(['Domain-0']);
    }
  }, 900000);
});

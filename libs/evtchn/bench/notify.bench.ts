// Event-channel notify round trip (A notifies B, B's handler notifies A back, A waits) against a raw NATS
// request/reply between the same two connections, in one run. Goal: within 1.2x of raw NATS.
import { timeSequential, writeBenchResult, type LatencyStats } from '@dominion/testing';
import { World } from '../test/world.js';

const N = Number(process.env.BENCH_N ?? 10_000);
const WARMUP = 1000;

describe('evtchn notify', () => {
  let w: World;
  beforeAll(async () => {
    w = await World.start();
  });
  afterAll(() => w.stop());

  it(`round trip p50/p99 vs raw NATS request/reply, ${N} iterations each`, async () => {
    const a = await w.guest('bench-a');
    const b = await w.guest('bench-b');
    const ap = await a.ec.allocUnbound(b.domid);
    const bp = await b.ec.bindInterdomain(a.domid, ap);
    while (a.ec.port(ap)?.state !== 'interdomain') await new Promise((r) => setTimeout(r, 5));

    let wake: (() => void) | undefined;
    a.ec.on(ap, () => wake?.());
    b.ec.on(bp, () => b.ec.notify(bp));
    const evtchnRoundTrip = (): Promise<void> =>
      new Promise<void>((resolve) => {
        wake = resolve;
        a.ec.notify(ap);
      });

    // Raw NATS in the same arrangement: requester on A's connection, responder on B's.
    const subject = `bench.raw.${b.domid}`;
    const sub = b.nc.subscribe(subject, {
      callback: (_e, m) => {
        m.respond(new Uint8Array(0));
      },
    });
    await b.nc.flush();
    const raw = a.nc;
    const natsRoundTrip = (): Promise<unknown> => raw.request(subject, new Uint8Array(0), { timeout: 5000 });

    // Interleave two halves of each so that a load swing on a shared machine hits both alike.
    const half = Math.ceil(N / 2);
    const runs: Record<'evtchn' | 'nats', LatencyStats[]> = { evtchn: [], nats: [] };
    for (let round = 0; round < 2; round++) {
      runs.nats.push(await timeSequential(natsRoundTrip, half, WARMUP));
      runs.evtchn.push(await timeSequential(evtchnRoundTrip, half, WARMUP));
    }
    sub.unsubscribe();
    const merge = (s: LatencyStats[]): LatencyStats => ({
      n: s[0].n + s[1].n,
      p50_us: Math.max(s[0].p50_us, s[1].p50_us),
      p99_us: Math.max(s[0].p99_us, s[1].p99_us),
      mean_us: Math.round(((s[0].mean_us + s[1].mean_us) / 2) * 10) / 10,
      ops_s: Math.round((s[0].ops_s + s[1].ops_s) / 2),
    });
    const ev = merge(runs.evtchn);
    const nats = merge(runs.nats);
    const ratio = (x: number, y: number): number => Math.round((x / y) * 100) / 100;
    writeBenchResult(
      'evtchn-notify',
      [
        { case: 'evtchn notify round trip (A->B, B->A)', ...ev },
        { case: 'raw NATS request/reply (same connections)', ...nats },
        {
          case: 'ratio evtchn / raw NATS',
          p50: ratio(ev.p50_us, nats.p50_us),
          p99: ratio(ev.p99_us, nats.p99_us),
          goal: 1.2,
        },
      ],
      'two NATS connections in one process, one nats-server on loopback; each case run in two interleaved halves after warm-up, p50/p99 = the worse half',
    );
    expect(a.ec.counters.dropped + b.ec.counters.dropped).toBe(0);
    expect(b.ec.counters.accepted).toBe(2 * (half + WARMUP));
  });
});

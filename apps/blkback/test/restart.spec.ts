// blkback as a process (as dom0's launcher runs it) under a guest's write load: a clean SIGTERM answers
// what it took and exits 0; kill -9 while writes are in flight, then the same driver domain started
// again: the frontend re-runs the handshake, dials the new endpoint and re-issues what was in flight.
// The guest sees a stall, never an error, and every acknowledged write reads back intact. The test
// asserts requests were in flight at the kill and were re-issued, so it cannot pass on an idle backend.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { HypervisorClient } from '@dominion/hypervisor';
import { waitFor } from '@dominion/testing';
import { spawnBlkback, buildChild, type BlkbackProcess } from './child.js';
import { FrontVbd, PAGE, addVbd, sha256, startWorld, type World } from './world.js';

const SLOTS = 256;
/** 11 pages per write, the most one direct request carries. */
const SLOT_SECTORS = 88;

/** Keeps `depth` writes outstanding, each to a slot no other outstanding write touches. */
class Load {
  readonly expected: Array<Buffer | undefined> = Array.from({ length: SLOTS }, () => undefined);
  private readonly busy = new Set<number>();
  private readonly outstanding = new Set<Promise<void>>();
  acked = 0;
  failed = 0;
  /** When each acknowledgement came (ms since the epoch), in order. */
  readonly ackTimes: number[] = [];
  private running = true;

  constructor(private readonly f: FrontVbd) {}

  start(depth: number): void {
    for (let i = 0; i < depth; i++) this.next();
  }

  private next(): void {
    if (!this.running) return;
    let slot = Math.floor(Math.random() * SLOTS);
    while (this.busy.has(slot)) slot = (slot + 1) % SLOTS;
    this.busy.add(slot);
    const data = randomBytes(11 * PAGE);
    const p = this.f.write(slot * SLOT_SECTORS, data).then(
      (rsp) => {
        if (rsp.status === 0) {
          this.expected[slot] = data;
          this.acked++;
        } else this.failed++;
        this.ackTimes.push(Date.now());
        this.busy.delete(slot);
        this.outstanding.delete(p);
        this.next();
      },
      () => {
        this.failed++;
        this.busy.delete(slot);
        this.outstanding.delete(p);
      },
    );
    this.outstanding.add(p);
  }

  async stop(): Promise<void> {
    this.running = false;
    while (this.outstanding.size > 0) await Promise.all([...this.outstanding]);
  }
}

let w: World;
let env: Record<string, string>;
let proc: BlkbackProcess | undefined;
let f: FrontVbd;

async function startBlkback(): Promise<BlkbackProcess> {
  const p = spawnBlkback(env);
  proc = p;
  return p;
}

beforeAll(async () => {
  buildChild();
  w = await startWorld(1);
  env = {
    DOMINION_NATS_URL: w.url,
    DOMINION_DOMID: String(w.be.domid),
    DOMINION_DOMAIN_NAME: 'blkback',
    DOMINION_STATE_DIR: join(w.dir, 'blkback'),
    DOMINION_LOG_LEVEL: 'info',
    DOMINION_BLKBACK_MAX_QUEUES: '1',
  };
  await startBlkback();
  const dom = w.guests[0];
  const dirs = await addVbd(w, dom.domid, 51712, { params: 'restart.img', size: '16M' });
  f = new FrontVbd(dom, await w.client(dom.domid), new HypervisorClient(await w.nc(), dom.domid), dirs, w.be.domid);
  await f.connect();
});

afterAll(async () => {
  f?.close();
  if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  await w?.stop();
});

/** Every slot read back through the ring equals what was last acknowledged for it. */
async function verify(load: Load): Promise<number> {
  let checked = 0;
  for (let slot = 0; slot < SLOTS; slot++) {
    const want = load.expected[slot];
    if (!want) continue;
    const r = await f.read(slot * SLOT_SECTORS, 11);
    expect(r.rsp.status).toBe(0);
    expect(sha256(r.data)).toBe(sha256(want));
    checked++;
  }
  return checked;
}

describe('blkback restart', () => {
  it('a clean SIGTERM answers the requests it took, exits 0, and a new instance takes over the rest', async () => {
    const load = new Load(f);
    load.start(48);
    await waitFor(() => load.acked >= 100, 10_000, '100 writes acknowledged');
    const p = proc!;
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.log()).toMatch(/blkback stopping: [0-9]+ request\(s\) in flight answered/);
    await startBlkback();
    const before = load.acked;
    await waitFor(() => load.acked > before + 100, 15_000, 'writes acknowledged by the new instance');
    await load.stop();
    expect(load.failed).toBe(0);
    expect(await verify(load)).toBeGreaterThan(100);
  }, 40_000);

  it('kill -9 with writes in flight: the frontend reconnects to the restarted backend and re-issues them; no acknowledged write is lost', async () => {
    const load = new Load(f);
    load.start(48);
    const base = load.acked;
    await waitFor(() => load.acked >= base + 200, 10_000, '200 writes acknowledged');
    const connectsBefore = f.stream.connects;
    const reissuedBefore = f.ring.reissued;
    const p = proc!;
    p.child.kill('SIGKILL');
    const killedAt = Date.now();
    const inFlightAtKill = f.ring.inFlight;
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(await p.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const ackedAtKill = load.acked;
    await startBlkback();
    await waitFor(() => load.acked > ackedAtKill + 100, 15_000, 'writes acknowledged after the restart');
    // The stall the guest saw: from the kill to the first acknowledgement after the old process was gone.
    const stallMs = load.ackTimes[ackedAtKill] - killedAt;
    await load.stop();
    expect(load.failed).toBe(0);
    expect(f.stream.connects).toBe(connectsBefore + 1);
    expect(f.ring.reissued - reissuedBefore).toBeGreaterThanOrEqual(1);
    expect(await verify(load)).toBeGreaterThan(200);
    process.stdout.write(
      `blkback kill -9: ${inFlightAtKill} in flight, ${f.ring.reissued - reissuedBefore} re-issued, stall ${stallMs} ms (includes starting the process)\n`,
    );
  }, 40_000);
});

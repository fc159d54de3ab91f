import { CrashSimFileIO, NodeFileIO } from '@dominion/fsio';
import { tempDir, waitFor } from '@dominion/testing';
import { XenstoreError } from '../../src/errors.js';
import type { XsMessage } from '../../src/wire/index.js';
import { Xenstored, type XsSession } from '../../src/xenstored/index.js';
import { call, msg, req, show } from './helpers.js';

/** Holds every fsync until released, so a test can look at what is owed while writes are not durable. */
class SyncGate {
  private held = false;
  private waiters: Array<() => void> = [];
  pass = (): Promise<void> =>
    this.held ? new Promise<void>((r) => this.waiters.push(r)) : new Promise<void>((r) => setImmediate(r));
  hold(): void {
    this.held = true;
  }
  release(): void {
    this.held = false;
    for (const w of this.waiters.splice(0)) w();
  }
}

const ticks = async (n = 10): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

const DIR = '/var/xenstore';

function snapshot(m: Map<string, string>): string {
  return JSON.stringify([...m].sort(([a], [b]) => a.localeCompare(b)));
}

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function dom0(xs: Xenstored, onEvent?: (path: string, token: string) => void): XsSession {
  return xs.connect(0, { privileged: true, onEvent });
}

describe('Xenstored: ordering', () => {
  it('holds a read behind an earlier write until that write is durable, and answers in arrival order', async () => {
    const gate = new SyncGate();
    const io = new CrashSimFileIO({ syncDelay: gate.pass });
    const xs = await Xenstored.open({ io, dir: DIR });
    const a = dom0(xs);
    const b = dom0(xs);
    expect(await call(a, req.write('/x', 'old'))).toBe('OK\0');

    // Nothing owed: a read is answered on the spot.
    let early: XsMessage | undefined;
    b.submit(msg(req.read('/x')), (r) => (early = r));
    expect(early && show(early)).toBe('old');

    gate.hold();
    const order: string[] = [];
    a.submit(msg(req.write('/x', 'new')), (r) => order.push(`write ${show(r)}`));
    b.submit(msg(req.read('/x')), (r) => order.push(`read ${show(r)}`));
    await ticks();
    expect(order).toEqual([]); // the write is not durable yet: nobody may see 'new'
    const syncsBefore = io.fsyncCount;
    gate.release();
    await waitFor(() => order.length === 2);
    expect(order).toEqual(['write OK\0', 'read new']);
    expect(io.fsyncCount).toBeGreaterThan(syncsBefore);
    await xs.close();
  });

  it('delivers watch events after the reply that caused them', async () => {
    const io = new CrashSimFileIO();
    const xs = await Xenstored.open({ io, dir: DIR });
    const order: string[] = [];
    const watcher = dom0(xs, (path, token) => order.push(`event ${path} ${token}`));
    const writer = dom0(xs);
    await new Promise<void>((done) =>
      watcher.submit(msg(req.watch('/w', 'tok')), (r) => {
        order.push(`watch ${show(r)}`);
        done();
      }),
    );
    await waitFor(() => order.length === 2);
    await new Promise<void>((done) =>
      writer.submit(msg(req.write('/w/k', 'v')), (r) => {
        order.push(`write ${show(r)}`);
        done();
      }),
    );
    await waitFor(() => order.length === 4);
    expect(order).toEqual(['watch OK\0', 'event /w tok', 'write OK\0', 'event /w/k tok']);
    await xs.close();
  });

  it('close() gives every owed reply before the journal closes', async () => {
    const gate = new SyncGate();
    const xs = await Xenstored.open({ io: new CrashSimFileIO({ syncDelay: gate.pass }), dir: DIR });
    const s = dom0(xs);
    gate.hold();
    const replies: string[] = [];
    s.submit(msg(req.write('/a', '1')), (r) => replies.push(show(r)));
    const closing = xs.close();
    expect(xs.ready).toBe(false);
    gate.release();
    await closing;
    expect(replies).toEqual(['OK\0']);
    expect(s.closed).toBe(true);
  });
});

describe('Xenstored: durability', () => {
  it('keeps what both sessions wrote across a restart on a real disk', async () => {
    const tmp = tempDir('xenstored-');
    try {
      const dir = `${tmp.path}/xenstore`;
      let xs = await Xenstored.open({ io: new NodeFileIO(), dir });
      await call(dom0(xs), req.write('/local/domain/0/name', 'Domain-0'));
      await call(dom0(xs), req.mkdir('/vm'));
      await call(dom0(xs), req.setPerms('/vm', ['n0', 'r5']));
      await xs.close();

      xs = await Xenstored.open({ io: new NodeFileIO(), dir });
      expect(xs.recovery).toMatchObject({ generation: 0, fromSnapshot: false });
      expect(xs.recovery.replayed).toBeGreaterThanOrEqual(3);
      const s = dom0(xs);
      expect(await call(s, req.read('/local/domain/0/name'))).toBe('Domain-0');
      expect(await call(s, req.getPerms('/vm'))).toBe('n0\0r5\0');
      await xs.close();
    } finally {
      tmp.remove();
    }
  });

  it('never loses an acknowledged write to a power cut, and keeps unacknowledged ones only as a prefix', async () => {
    const N = 30;
    let ackedTotal = 0;
    let unackedLost = 0;
    let unackedKept = 0;
    for (let seed = 0; seed < 40; seed++) {
      const io = new CrashSimFileIO();
      const xs = await Xenstored.open({ io, dir: DIR });
      const s = dom0(xs);
      const acked = new Set<number>();
      let sent = 0;
      const crashAfter = 3 + ((seed * 7) % 20);
      // Bursts of writes, some concurrent (group commit), with the power cut somewhere in the middle.
      while (sent < N && acked.size < crashAfter) {
        const burst = 1 + ((seed + sent) % 4);
        for (let j = 0; j < burst && sent < N; j++, sent++) {
          const i = sent;
          s.submit(msg(req.write(`/t/k${i}`, `v${i}`)), (r) => {
            if (show(r) === 'OK\0') acked.add(i);
          });
        }
        await ticks(1 + (seed % 3));
      }
      const ackedAtCrash = new Set(acked);
      const disk = io.crash({ seed, mode: seed % 2 === 0 ? 'random-subset' : 'reorder-prefix' });

      const back = await Xenstored.open({ io: disk, dir: DIR });
      const r = dom0(back);
      const present: number[] = [];
      for (let i = 0; i < sent; i++) {
        const v = await call(r, req.read(`/t/k${i}`));
        if (v !== 'error ENOENT') {
          expect(v).toBe(`v${i}`);
          present.push(i);
        }
      }
      for (const i of ackedAtCrash) expect(present).toContain(i);
      // The journal is a log: what survived is exactly the first m writes.
      expect(present).toEqual([...Array(present.length).keys()]);
      ackedTotal += ackedAtCrash.size;
      unackedLost += sent - present.length;
      unackedKept += present.length - ackedAtCrash.size;
      await back.close();
    }
    // The seeds really crashed with writes in flight, and the simulated disk both kept and lost some.
    expect(ackedTotal).toBeGreaterThan(100);
    expect(unackedLost).toBeGreaterThan(0);
    expect(unackedKept).toBeGreaterThan(0);
  });

  it('recovers the state after some prefix of the requests, never one before the last acknowledged', async () => {
    let kept = 0;
    let lost = 0;
    for (let seed = 100; seed < 130; seed++) {
      const rnd = seeded(seed);
      const io = new CrashSimFileIO();
      const xs = await Xenstored.open({ io, dir: DIR });
      const s = dom0(xs);
      await call(s, req.mkdir('/t'));
      // states[k]: the tree under /t after the first k requests of the run.
      const model = new Map<string, string>();
      const states: string[] = [snapshot(model)];
      let ackedUpTo = 0;
      const ack = (k: number) => (r: XsMessage) => {
        if (show(r) === 'OK\0') ackedUpTo = Math.max(ackedUpTo, k + 1);
      };
      const ops = 5 + Math.floor(rnd() * 25);
      for (let k = 0; k < ops; k++) {
        const key = `k${Math.floor(rnd() * 6)}`;
        const choice = rnd();
        if (choice < 0.5) {
          s.submit(msg(req.write(`/t/${key}`, `v${k}`)), ack(k));
          model.set(key, `v${k}`);
        } else if (choice < 0.75) {
          s.submit(msg(req.rm(`/t/${key}`)), ack(k));
          model.delete(key);
        } else {
          // A transaction commits as one journal record: all of it or none of it.
          const tx = Number(await call(s, req.transactionStart()).then((v) => v.replace('\0', '')));
          const other = `k${Math.floor(rnd() * 6)}`;
          s.submit(msg(req.write(`/t/${key}`, `t${k}`), tx), () => undefined);
          s.submit(msg(req.write(`/t/${other}`, `u${k}`), tx), () => undefined);
          s.submit(msg(req.transactionEnd(true), tx), ack(k));
          model.set(key, `t${k}`);
          model.set(other, `u${k}`);
        }
        states.push(snapshot(model));
        if (rnd() < 0.3) await ticks(1 + Math.floor(rnd() * 3));
      }
      const acked = ackedUpTo;
      const disk = io.crash({ seed, mode: seed % 2 === 0 ? 'random-subset' : 'reorder-prefix' });

      const back = await Xenstored.open({ io: disk, dir: DIR });
      const r = dom0(back);
      const got = new Map<string, string>();
      for (const child of (await call(r, req.directory('/t'))).split('\0').filter((c) => c !== '')) {
        got.set(child, await call(r, req.read(`/t/${child}`)));
      }
      const m = states.lastIndexOf(snapshot(got));
      expect({ seed, matchesSomePrefix: m >= 0 }).toEqual({ seed, matchesSomePrefix: true });
      expect(m).toBeGreaterThanOrEqual(acked);
      if (m > acked) kept++;
      if (m < states.length - 1) lost++;
      await back.close();
    }
    expect(kept).toBeGreaterThan(0);
    expect(lost).toBeGreaterThan(0);
  });

  it('discards a torn tail at recovery, reports it, and appends after the cut', async () => {
    const io = new CrashSimFileIO();
    let xs = await Xenstored.open({ io, dir: DIR });
    await call(dom0(xs), req.write('/a', '1'));
    await xs.close();
    // A record header promising 100 bytes, followed by 10: what a power cut mid-append leaves.
    const fh = await io.open(`${DIR}/log.0`);
    const torn = Buffer.alloc(18);
    torn.writeUInt32LE(100, 0);
    await fh.append(torn);
    await fh.sync();
    await fh.close();

    const warnings: string[] = [];
    xs = await Xenstored.open({ io, dir: DIR, log: (level, m) => level === 'warn' && warnings.push(m) });
    expect(xs.recovery.discarded).toMatchObject({ bytes: 18, reason: 'short-payload', file: `${DIR}/log.0` });
    expect(warnings.join('\n')).toMatch(/discarded 18 bytes of torn log tail/);
    expect(await call(dom0(xs), req.read('/a'))).toBe('1');
    await call(dom0(xs), req.write('/b', '2'));
    await xs.close();

    xs = await Xenstored.open({ io, dir: DIR });
    expect(xs.recovery.discarded).toBeUndefined();
    expect(await call(dom0(xs), req.read('/b'))).toBe('2');
    await xs.close();
  });

  it('compacts the journal into a snapshot once it passes the size, and recovers from it', async () => {
    const io = new CrashSimFileIO();
    let xs = await Xenstored.open({ io, dir: DIR, compactAfterBytes: 4096 });
    const s = dom0(xs);
    for (let i = 0; i < 100; i++) await call(s, req.write(`/c/k${i}`, `value-${i}`));
    await waitFor(async () => (await io.readdir(DIR)).some((f) => /^snapshot\.\d+$/.test(f)), 5000, 'a snapshot');
    await xs.close();
    expect(xs.journalBytes).toBeLessThan(4096 + 200);

    xs = await Xenstored.open({ io, dir: DIR });
    expect(xs.recovery.fromSnapshot).toBe(true);
    expect(xs.recovery.generation).toBeGreaterThan(0);
    const r = dom0(xs);
    for (let i = 0; i < 100; i++) expect(await call(r, req.read(`/c/k${i}`))).toBe(`value-${i}`);
    await xs.close();
  });

  it('stops acknowledging anything once the journal cannot be written (fail-stop)', async () => {
    const io = new CrashSimFileIO();
    const errors: string[] = [];
    const xs = await Xenstored.open({ io, dir: DIR, log: (level, m) => level === 'error' && errors.push(m) });
    const s = dom0(xs);
    expect(await call(s, req.write('/ok', '1'))).toBe('OK\0');
    io.powerCutAfter(0);
    expect(await call(s, req.write('/lost', '2'))).toBe('error EIO');
    expect(await call(s, req.read('/ok'))).toBe('error EIO');
    expect(xs.ready).toBe(false);
    expect(errors.join('\n')).toMatch(/journal failed/);
    expect(() => dom0(xs)).toThrow(/journal failed/);
  });
});

describe('Xenstored: domains and sessions', () => {
  it('lets an unprivileged domain connect only once introduced, and ends its sessions when released', async () => {
    const xs = await Xenstored.open({ io: new CrashSimFileIO(), dir: DIR });
    expect(() => xs.connect(5)).toThrow(XenstoreError);
    expect(() => xs.connect(5)).toThrow('domain 5 is not introduced to xenstored');

    const events: string[] = [];
    const d0 = dom0(xs, (p) => events.push(p));
    await call(d0, req.watch('@introduceDomain', 'i'));
    await call(d0, req.watch('@releaseDomain', 'r'));
    await xs.introduceDomain(5);
    expect(xs.isIntroduced(5)).toBe(true);
    const closed: string[] = [];
    const guest = xs.connect(5, { onClose: (why) => closed.push(why) });
    expect(await call(guest, req.getDomainPath(5))).toBe('/local/domain/5\0');

    await xs.releaseDomain(5);
    expect(closed).toEqual(['domain 5 was released']);
    await expect(xs.releaseDomain(5)).rejects.toMatchObject({ name: 'XenstoreError', kind: 'ENOENT' });
    expect(guest.closed).toBe(true);
    expect(await call(guest, req.read('/'))).toBe('error EIO');
    expect(() => xs.connect(5)).toThrow(/not introduced/);
    await waitFor(() => events.includes('@releaseDomain'));
    expect(events).toEqual(['@introduceDomain', '@releaseDomain', '@introduceDomain', '@releaseDomain']);
    await xs.close();
  });

  it('ends the sessions of a domain released with XS_RELEASE by dom0', async () => {
    const xs = await Xenstored.open({ io: new CrashSimFileIO(), dir: DIR });
    const d0 = dom0(xs);
    expect(await call(d0, req.introduce(7, 0, 1))).toBe('OK\0');
    const guest = xs.connect(7);
    expect(xs.sessionCount).toBe(2);
    expect(await call(d0, req.release(7))).toBe('OK\0');
    expect(guest.closed).toBe(true);
    expect(xs.sessionCount).toBe(1);
    await xs.close();
  });
});

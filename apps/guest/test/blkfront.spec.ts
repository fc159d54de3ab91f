// blkfront against a real block backend (libs/xenbus + libs/vbd + libs/ringstream, see blkfront-harness.ts)
// over a real nats-server, hypervisor engine and xenstored: the handshake's keys, I/O through granted
// guest pages (direct, indirect, multi-queue), flush, discard, a read-only disk's refusal, hot-plug,
// detach, and a backend killed with requests in flight.
import { createHash, randomBytes } from 'node:crypto';
import { openSync, readSync, closeSync, truncateSync, writeFileSync } from 'node:fs';
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { subjects } from '@dominion/bus';
import { domainHomeWrites } from '@dominion/toolstack';
import { BLKIF_OP } from '@dominion/blkif';
import { EventChannels } from '@dominion/evtchn';
import { HypervisorClient } from '@dominion/hypervisor';
import { waitFor } from '@dominion/testing';
import { Blkfront, dd, sha256sum, type BlkfrontDevice } from '../src/blkfront/index.js';
import { GuestModule } from '../src/guest.module.js';
import { GuestMemory } from '../src/memory.js';
import { MINIOS_PROMPT } from '../src/minios.js';
import { NOAUTH_RING_KEY } from '@dominion/identity';
import { TestBlkback, World, type BlkbackOptions, type Domain } from './blkfront-harness.js';

const MiB = 1 << 20;
const running: Array<{ stop(): Promise<void> | void }> = [];

let w: World;
let seq = 0;

beforeAll(async () => {
  w = await World.start();
});
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});
afterAll(async () => {
  await w.stop();
});

function image(size: number, fill?: Buffer): string {
  const path = `${w.tmp.path}/disk-${++seq}.raw`;
  writeFileSync(path, fill ?? Buffer.alloc(0));
  truncateSync(path, size);
  return path;
}

function fileBytes(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(length);
    readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function backend(opts: BlkbackOptions = {}, domain?: Domain): Promise<{ be: TestBlkback; dom: Domain }> {
  const dom = domain ?? (await w.domain(`blk${++seq}`, true));
  const be = await new TestBlkback(w, dom.domid, opts).start();
  running.push(be);
  return { be, dom };
}

async function guest(dom: Domain) {
  const nc = await w.conn();
  const xs = await w.client(dom.domid, nc);
  const evtchn = new EventChannels(nc, dom.domid, new HypervisorClient(nc, dom.domid));
  const memory = new GuestMemory(65536);
  const lines: string[] = [];
  const blk = await Blkfront.start({
    store: xs,
    home: `/local/domain/${dom.domid}`,
    domid: dom.domid,
    memory,
    evtchn,
    seed: dom.seed,
    bootTimeoutMs: 5000,
    device: { retry: { initialMs: 20, maxMs: 200 }, timeoutMs: 5000, drainMs: 2000 },
    logger: (level, msg) => {
      lines.push(`${level} ${msg}`);
      if (process.env.BLK_DEBUG) process.stderr.write(`${Date.now() % 100000} ${level} ${msg}\n`);
    },
  });
  running.push({ stop: () => blk.stop().then(() => evtchn.dispose()) });
  return { blk, xs, memory, lines };
}

function disk(blk: Blkfront, name: string): BlkfrontDevice {
  const d = blk.get(name);
  if (!d) throw new Error(`${name} is not connected`);
  return d;
}

describe('blkfront', () => {
  it('runs the vbd handshake with Xen keys and moves data both ways through granted pages, direct and indirect', async () => {
    const { be, dom: bdom } = await backend();
    const g = await w.domain(`g${++seq}`);
    const img = image(8 * MiB);
    const paths = await w.attach(g.domid, bdom.domid, `vdev=xvda, access=rw, target=${img}`);
    const { blk, xs, memory } = await guest(g);
    const xvda = disk(blk, 'xvda');

    // Frontend keys: a real granted page for the ring, an event channel the backend bound, the ABI.
    const ringRef = Number(await xs.read(`${paths.frontend}/ring-ref`));
    expect(memory.query(ringRef)).toMatchObject({ domid: bdom.domid, readonly: false });
    expect(await xs.read(`${paths.frontend}/protocol`)).toBe('x86_64-abi');
    const port = Number(await xs.read(`${paths.frontend}/event-channel`));
    expect(be.connected.get(paths.backend)?.transport.queues[0]).toMatchObject({
      ringRefs: { 'ring-ref': [ringRef] },
      eventChannel: port,
    });
    expect(be.bound.get(paths.backend)).toHaveLength(1);
    expect(await xs.read(`${paths.frontend}/state`)).toBe('4');
    expect(await xs.read(`${paths.backend}/state`)).toBe('4');
    await expect(xs.read(`${paths.frontend}/multi-queue-num-queues`)).rejects.toThrow();
    expect(xvda).toMatchObject({ name: 'xvda', devid: 51712, major: 202, minor: 0, sectors: 16384, sectorSize: 512 });
    expect([xvda.readOnly, xvda.featureFlushCache, xvda.featureDiscard, xvda.backendMaxIndirect]).toEqual([
      false,
      true,
      true,
      256,
    ]);

    // 1 MiB in one indirect request (256 segments), 4 KiB and 20 KiB direct ones, then a flush.
    const big = randomBytes(MiB);
    const small = randomBytes(4096);
    const mid = randomBytes(20 * 1024);
    await Promise.all([xvda.write(2048, big), xvda.write(8, small), xvda.write(100, mid)]);
    await xvda.flush();
    // The image file itself holds the bytes (checked outside blkfront).
    expect(sha(fileBytes(img, 2048 * 512, MiB))).toBe(sha(big));
    expect(fileBytes(img, 8 * 512, 4096).equals(small)).toBe(true);
    expect(fileBytes(img, 100 * 512, mid.length).equals(mid)).toBe(true);
    // Read back through the ring.
    expect(sha(await xvda.read(2048, 2048))).toBe(sha(big));
    expect(Buffer.from(await xvda.read(100, 40)).equals(mid)).toBe(true);
    const ops = be.served.map((s) =>
      s.operation === BLKIF_OP.BLKIF_OP_INDIRECT
        ? `I${s.indirectOp}:${s.nrSegments}`
        : `${s.operation}:${s.nrSegments}`,
    );
    expect(ops).toEqual(expect.arrayContaining(['I1:256', '1:1', '1:5', '3:0', 'I0:256', '0:5']));
    // Discard (feature-discard): the range reads back as zeros.
    await xvda.discard(8, 8);
    expect(Buffer.from(await xvda.read(8, 8)).equals(Buffer.alloc(4096))).toBe(true);
    // Every data grant was revoked when its request completed; only the ring page stays granted.
    expect(memory.grants.size).toBe(1);
    // A range past the end fails alone, with the disk named.
    await expect(xvda.read(16384 - 8, 16)).rejects.toThrow(/xvda: read of 16 sectors at 16376: past the end/);
    expect(Buffer.from(await xvda.read(8, 8)).length).toBe(4096);
  });

  it('opens one ring stream per queue (multi-queue-num-queues) and spreads requests over them; no indirect when not offered', async () => {
    const { be, dom: bdom } = await backend({ maxQueues: 2, features: { maxIndirectSegments: 0 } });
    const g = await w.domain(`g${++seq}`);
    const img = image(4 * MiB);
    const paths = await w.attach(g.domid, bdom.domid, `vdev=xvdb, access=rw, target=${img}`);
    const { blk, xs } = await guest(g);
    const xvdb = disk(blk, 'xvdb');
    expect(xvdb.devid).toBe(51728);
    expect(await xs.read(`${paths.frontend}/multi-queue-num-queues`)).toBe('2');
    const refs = [
      Number(await xs.read(`${paths.frontend}/queue-0/ring-ref`)),
      Number(await xs.read(`${paths.frontend}/queue-1/ring-ref`)),
    ];
    expect(new Set(refs).size).toBe(2);
    await expect(xs.read(`${paths.frontend}/ring-ref`)).rejects.toThrow();
    expect(be.bound.get(paths.backend)).toHaveLength(2);

    const data = randomBytes(256 * 1024);
    await xvdb.write(0, data);
    expect(sha(await xvdb.read(0, 512))).toBe(sha(data));
    expect(new Set(be.served.map((s) => s.queue))).toEqual(new Set([0, 1]));
    expect(be.served.some((s) => s.operation === BLKIF_OP.BLKIF_OP_INDIRECT)).toBe(false);
    expect(Math.max(...be.served.map((s) => s.nrSegments))).toBe(11);
    await waitFor(() => xvdb.streams.every((s) => s.state === 'connected'), 5000, 'both streams connected');
  });

  it('finds a hot-plugged read-only disk; dd reports the backend refusing a write as an I/O error, reads work', async () => {
    const { dom: bdom } = await backend();
    const g = await w.domain(`g${++seq}`);
    const { blk } = await guest(g);
    expect(blk.list()).toEqual([]);
    const content = randomBytes(64 * 1024);
    const img = image(MiB, content);
    await w.attach(g.domid, bdom.domid, `vdev=xvdc, access=ro, target=${img}`);
    await waitFor(() => blk.get('xvdc') !== undefined, 5000, 'xvdc to connect');
    expect(disk(blk, 'xvdc').readOnly).toBe(true);

    const out: string[] = [];
    await dd(blk, (l) => out.push(l), ['if=/dev/zero', 'of=/dev/xvdc', 'bs=4K', 'count=1']);
    expect(out.slice(0, 3)).toEqual([
      "dd: error writing '/dev/xvdc': Input/output error",
      '1+0 records in',
      '0+0 records out',
    ]);
    expect(out[3]).toMatch(/^0 bytes copied, [0-9.e-]+ s, /);
    // The refused write changed nothing; the allowed read beside it works.
    out.length = 0;
    await sha256sum(blk, (l) => out.push(l), ['/dev/xvdc', '64K']);
    expect(out).toEqual([`${sha(content)}  /dev/xvdc`]);
    out.length = 0;
    await dd(blk, (l) => out.push(l), ['if=/dev/xvdc', 'of=/dev/null', 'bs=64K', 'count=2']);
    expect(out.slice(0, 2)).toEqual(['2+0 records in', '2+0 records out']);
    expect(out[2]).toMatch(/^131072 bytes \(131 kB, 128 KiB\) copied, /);
  });

  it('a backend killed with requests in flight: the guest stalls, then the restarted backend completes them, data intact', async () => {
    const { be: first, dom: bdom } = await backend();
    const g = await w.domain(`g${++seq}`);
    const img = image(8 * MiB);
    const paths = await w.attach(g.domid, bdom.domid, `vdev=xvda, access=rw, target=${img}`);
    const { blk, xs, lines } = await guest(g);
    const xvda = disk(blk, 'xvda');
    const before = randomBytes(256 * 1024);
    await xvda.write(0, before);
    await xvda.flush();

    first.gate.close();
    const chunks = Array.from({ length: 16 }, () => randomBytes(64 * 1024));
    let done = 0;
    const writes = chunks.map((c, i) => xvda.write(512 + i * 128, c).then(() => void done++));
    await waitFor(() => first.held === 16, 5000, 'the writes to reach the backend');
    expect(xvda.inFlight).toBe(16);
    const stallStart = Date.now();
    await first.kill();
    await new Promise((r) => setTimeout(r, 200));
    expect(done).toBe(0); // a stall, not an error

    // blkback comes back (same domain, a new gRPC endpoint); the handshake runs again.
    const { be: second } = await backend({}, bdom);
    await Promise.all(writes);
    const stallMs = Date.now() - stallStart;
    expect(second.endpoint).not.toBe(first.endpoint);
    expect(await xs.read(`${paths.backend}/grpc-endpoint`)).toBe(second.endpoint);
    expect(xvda.reissued).toBeGreaterThanOrEqual(16);
    expect(xvda.connects).toBe(2);
    await xvda.flush();
    expect(sha(await xvda.read(512, 16 * 128))).toBe(sha(Buffer.concat(chunks)));
    expect(sha(fileBytes(img, 0, before.length))).toBe(sha(before));
    expect(lines.some((l) => l.includes('lost; waiting for it to come back'))).toBe(true);
    expect(stallMs).toBeLessThan(5000);
    if (process.env.BLK_DEBUG) process.stderr.write(`stall ${stallMs} ms (kill to last write done)\n`);
  });

  it('follows a backend that moved to another driver domain (new domid, new endpoint)', async () => {
    const { be: first, dom: b1 } = await backend();
    const g = await w.domain(`g${++seq}`);
    const img = image(2 * MiB);
    const paths = await w.attach(g.domid, b1.domid, `vdev=xvda, access=rw, target=${img}`);
    const { blk, xs, memory } = await guest(g);
    const xvda = disk(blk, 'xvda');
    first.gate.close();
    const data = randomBytes(32 * 1024);
    const write = xvda.write(64, data);
    await waitFor(() => first.held === 1, 5000, 'the write to reach the backend');
    await first.kill();

    // The toolstack re-creates the device under the spare driver domain and points the frontend at it.
    const { dom: b2 } = await backend();
    await w.dom0.rm(paths.backend);
    const moved = await w.attach(g.domid, b2.domid, `vdev=xvda, access=rw, target=${img}`);
    await write;
    expect(await xs.read(`${paths.frontend}/backend-id`)).toBe(String(b2.domid));
    expect(memory.query(Number(await xs.read(`${moved.frontend}/ring-ref`)))?.domid).toBe(b2.domid);
    expect(Buffer.from(await xvda.read(64, 64)).equals(data)).toBe(true);
    expect(fileBytes(img, 64 * 512, data.length).equals(data)).toBe(true);
  });

  it('closes on detach: what is in flight finishes, new I/O fails with a clear error, the frontend ends Closed', async () => {
    const { be, dom: bdom } = await backend();
    const g = await w.domain(`g${++seq}`);
    const img = image(MiB);
    const paths = await w.attach(g.domid, bdom.domid, `vdev=xvda, access=rw, target=${img}`);
    const { blk, xs } = await guest(g);
    const xvda = disk(blk, 'xvda');
    be.gate.close();
    const data = Buffer.alloc(4096, 7);
    const inflight = xvda.write(0, data);
    await waitFor(() => be.held === 1, 5000, 'the write to reach the backend');
    // xl block-detach: online=0, backend Closing.
    await w.dom0.transaction(async (tx) => {
      await tx.write(`${paths.backend}/online`, '0');
      await tx.write(`${paths.backend}/state`, '5');
    });
    await waitFor(() => xvda.phase === 'closing', 5000, 'blkfront to start closing');
    await expect(xvda.read(0, 8)).rejects.toThrow(/xvda: read refused: the device is being detached/);
    be.gate.release();
    await inflight;
    expect(fileBytes(img, 0, 4096).equals(data)).toBe(true);
    await waitFor(async () => (await xs.read(`${paths.frontend}/state`)) === '6', 5000, 'frontend Closed');
    await expect(xvda.read(0, 8)).rejects.toThrow(/xvda: read refused: the device is detached/);
    await w.dom0.rm(paths.frontend);
    await waitFor(() => blk.all.length === 0, 5000, 'the device to be dropped');
    expect(blk.list()).toEqual([]);
  });
});

describe('the guest service', () => {
  it('connects its disks before the kernel boots and gives them to the minios shell (lsblk, dd, sha256sum)', async () => {
    const { dom: bdom } = await backend();
    const g = await w.domain(`g${++seq}`);
    // Without credentials the guest signs ring proofs with the published no-auth seed.
    w.keys.set(g.domid, NOAUTH_RING_KEY);
    for (const wr of domainHomeWrites({
      domid: g.domid,
      name: `g${seq}`,
      uuid: '6f1c7c44-0a1b-4c2d-8e3f-123456789abd',
      type: 'pv',
      targetKiB: 65536,
      staticMaxKiB: 65536,
      vcpus: 1,
      driverDomain: false,
      startTimeMs: Date.now(),
    })) {
      await w.dom0.write(wr.path, wr.value);
      await w.dom0.setPerms(wr.path, wr.perms);
    }
    const img = image(4 * MiB);
    await w.attach(g.domid, bdom.domid, `vdev=xvda, access=rw, target=${img}`);
    const out: string[] = [];
    const nc = await w.conn();
    nc.subscribe(subjects.console(g.domid, 'out'), { callback: (_e, m) => void out.push(m.string()) });
    await nc.flush();

    @Module({
      imports: [
        GuestModule.forRoot({
          env: { DOMINION_NATS_URL: w.srv.url, DOMINION_DOMID: String(g.domid), DOMINION_LOG_LEVEL: 'silent' },
          guest: { orphanCheckMs: 60_000 },
        }),
      ],
    })
    class TestGuest {}
    const app = await Test.createTestingModule({ imports: [TestGuest] }).compile();
    await app.init();
    running.push({ stop: () => app.close() });
    const type = async (line: string): Promise<string> => {
      const from = out.join('').length;
      nc.publish(subjects.console(g.domid, 'in'), line);
      const s = await waitFor(
        () => {
          const t = out.join('').slice(from);
          return t.endsWith(MINIOS_PROMPT) && t.includes('\n') ? t : undefined;
        },
        5000,
        `the answer to ${line}`,
      );
      return s!.slice(line.length + 1, -MINIOS_PROMPT.length);
    };
    expect(await type('lsblk')).toBe('NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS\nxvda 202:0    0   4M  0 disk\n');
    const copied = await type('dd if=/dev/urandom of=/dev/xvda bs=1M count=2 seek=1 conv=fsync');
    expect(copied).toMatch(
      /^2\+0 records in\n2\+0 records out\n2097152 bytes \(2\.1 MB, 2\.0 MiB\) copied, [0-9.e-]+ s, [0-9.]+ [kMG]?B\/s\n$/,
    );
    const want = createHash('sha256')
      .update(fileBytes(img, MiB, 2 * MiB))
      .digest('hex');
    expect(await type('sha256sum /dev/xvda 1M+2M')).toBe(`${want}  /dev/xvda\n`);
  });
});

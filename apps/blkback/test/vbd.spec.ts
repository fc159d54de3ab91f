// blkback as a driver domain, in process through its Nest module, on a real nats-server, xenstored and
// hypervisor engine: the vbd handshake to Connected with Xen's and Dominion's keys, data through the ring
// and back, read-only disks, writable exclusivity and path checks (each refusal beside what is allowed),
// and streams from the wrong domain refused beside the rightful frontend's.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { XEN_ERRNO } from '@dominion/abi';
import {
  BLKIF_OP,
  BLKIF_RING_IDS,
  BLKIF_RSP,
  blkifRingCodec,
  blkifRingSize,
  type BlkifRequest,
  type BlkifResponse,
} from '@dominion/blkif';
import { FrontRing, GrantTable } from '@dominion/ring';
import { RingFrontStream } from '@dominion/ringstream';
import { XenbusFrontend } from '@dominion/xenbus';
import { HypervisorClient } from '@dominion/hypervisor';
import { waitFor } from '@dominion/testing';
import type { BlkbackService } from '../src/index.js';
import {
  FrontVbd,
  PAGE,
  SECTOR,
  addVbd,
  pattern,
  sha256,
  startBlkbackInProcess,
  startWorld,
  type World,
} from './world.js';

const MiB = 1 << 20;

/** Runs a stock tool without blocking the event loop blkback lives on. */
function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 30000 }, (e, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, out: stdout + stderr });
    });
  });
}
let w: World;
let app: INestApplicationContext;
let svc: BlkbackService;
let imageDir: string;
let allowDir: string;
const fronts: FrontVbd[] = [];

async function front(guest: number, devid: number, spec: Parameters<typeof addVbd>[3], claim?: number) {
  const dom = w.guests[guest];
  const dirs = await addVbd(w, dom.domid, devid, spec);
  const xs = await w.client(dom.domid);
  const f = new FrontVbd(dom, xs, new HypervisorClient(await w.nc(), dom.domid), dirs, w.be.domid, { claim });
  fronts.push(f);
  return f;
}

/** The backend dir's keys once the backend reached `state`. */
async function backendKeys(path: string, state: string): Promise<Record<string, string>> {
  await waitFor(async () => (await w.dom0.tryRead(`${path}/state`)) === state, 5000, `${path} state ${state}`);
  const out: Record<string, string> = {};
  for (const k of await w.dom0.directory(path)) out[k] = (await w.dom0.tryRead(`${path}/${k}`)) ?? '';
  return out;
}

beforeAll(async () => {
  w = await startWorld();
  imageDir = join(w.dir, 'images');
  allowDir = join(w.dir, 'allowed');
  mkdirSync(imageDir, { recursive: true });
  mkdirSync(allowDir, { recursive: true });
  writeFileSync(join(imageDir, 'ro.img'), pattern(77, 1 * MiB));
  writeFileSync(join(allowDir, 'abs.img'), Buffer.alloc(MiB));
  writeFileSync(join(w.dir, 'secret.img'), Buffer.alloc(MiB));
  ({ app, svc } = await startBlkbackInProcess(w, {
    DOMINION_BLKBACK_IMAGE_DIR: imageDir,
    DOMINION_BLKBACK_ALLOW_DIRS: allowDir,
  }));
});

afterAll(async () => {
  for (const f of fronts) f.close();
  await app?.close();
  await w?.stop();
});

describe('blkback', () => {
  let rw: FrontVbd;

  it('runs the vbd handshake to Connected, publishing Xen keys, the endpoints and the disk', async () => {
    rw = await front(0, 51712, { params: 'g0.img', size: '8M' });
    const view = await rw.connect();
    const be = svc.blkback!;
    expect(view.keys).toMatchObject({
      state: '4',
      'max-ring-page-order': '4',
      'multi-queue-max-queues': '2',
      'hotplug-status': 'connected',
      'grpc-endpoint': be.grpcEndpoint,
      'nbd-export': `nbd://127.0.0.1:${be.nbd.port}/vbd-${w.guests[0].domid}-51712`,
      'nbd-socket': join(w.dir, 'blkback', 'nbd', `vbd-${w.guests[0].domid}-51712.sock`),
      sectors: String((8 * MiB) / SECTOR),
      info: '0',
      'sector-size': '512',
      'feature-flush-cache': '1',
      'feature-barrier': '1',
      'feature-discard': '1',
      'feature-max-indirect-segments': '256',
    });
    expect(be.grpcEndpoint).toMatch(/^127\.0\.0\.1:[0-9]+$/);
    // the frontend's event channel is bound by the driver domain
    expect(await rw.hv.evtchnStatus(rw.evtchn)).toMatchObject({
      state: 'interdomain',
      interdomain: { dom: w.be.domid },
    });
    // created on demand, sparse
    const st = statSync(join(imageDir, 'g0.img'));
    expect(st.size).toBe(8 * MiB);
    expect(st.blocks * 512).toBeLessThan(MiB);
  });

  it('writes through the ring and reads the same bytes back (sha256), and the image file holds them after a flush', async () => {
    const chunks = Array.from({ length: 48 }, (_, i) => ({ sector: i * 88, data: randomBytes(11 * PAGE) }));
    const acks = await Promise.all(chunks.map((c) => rw.write(c.sector, c.data)));
    expect(acks.every((r) => r.status === BLKIF_RSP.BLKIF_RSP_OKAY)).toBe(true);
    expect((await rw.flush()).status).toBe(BLKIF_RSP.BLKIF_RSP_OKAY);
    const reads = await Promise.all(chunks.map((c) => rw.read(c.sector, 11)));
    reads.forEach((r, i) => {
      expect(r.rsp.status).toBe(0);
      expect(sha256(r.data)).toBe(sha256(chunks[i].data));
    });
    const file = readFileSync(join(imageDir, 'g0.img'));
    const whole = Buffer.concat(chunks.map((c) => c.data));
    expect(sha256(file.subarray(0, whole.length))).toBe(sha256(whole));
  });

  it('serves a read-only disk (info 4) whose writes fail with BLKIF_RSP_ERROR, beside the writable one', async () => {
    const ro = await front(1, 51712, { params: 'ro.img', mode: 'r' });
    const view = await ro.connect();
    expect(view.keys.info).toBe('4');
    const r = await ro.read(0, 2);
    expect(r.rsp.status).toBe(0);
    expect(r.data.equals(pattern(77, MiB).subarray(0, 2 * PAGE))).toBe(true);
    expect((await ro.write(0, pattern(1))).status).toBe(BLKIF_RSP.BLKIF_RSP_ERROR);
    expect(readFileSync(join(imageDir, 'ro.img')).equals(pattern(77, MiB))).toBe(true);
    // the writable disk still takes writes
    expect((await rw.write(0, pattern(2))).status).toBe(0);
    expect((await rw.read(0)).data.equals(pattern(2))).toBe(true);
  });

  it('shares a target read-only, and refuses it to a VBD when another holds it writable (EBUSY in the error node)', async () => {
    // ro + ro: allowed
    const ro2 = await front(0, 51728, { params: 'ro.img', mode: 'r' });
    await ro2.connect();
    expect((await ro2.read(0)).data.equals(pattern(77, PAGE))).toBe(true);
    // g0.img is open for writing by dom<guest0>'s 51712: read-only is refused too, and so is writable
    const dirsRo = await addVbd(w, w.guests[1].domid, 51728, { params: 'g0.img', mode: 'r' });
    const dirsRw = await addVbd(w, w.guests[1].domid, 51744, { params: 'ro.img', mode: 'w' });
    for (const [dirs, msg] of [
      [dirsRo, `already open for writing by vbd ${w.guests[0].domid}/51712`],
      [
        dirsRw,
        `already open read-only by vbd ${w.guests[1].domid}/51712; vbd ${w.guests[1].domid}/51744 wants it writable`,
      ],
    ] as const) {
      await backendKeys(dirs.backend, '5');
      const err = await w.dom0.read(
        `/local/domain/${w.be.domid}/error/backend/vbd/${w.guests[1].domid}/${dirs.backend.split('/').pop()}/error`,
      );
      expect(err).toContain(`${XEN_ERRNO.EBUSY} target `);
      expect(err).toContain(msg);
      expect(await w.dom0.tryRead(`${dirs.backend}/hotplug-status`)).toBe('error');
    }
    expect((await rw.write(8, pattern(3))).status).toBe(0);
  });

  it('opens absolute paths only under the image dir or an allowed dir, naming the refused path', async () => {
    const ok = await front(1, 51760, { params: join(allowDir, 'abs.img') });
    await ok.connect();
    expect((await ok.write(0, pattern(5))).status).toBe(0);
    for (const [devid, params] of [
      [51776, join(w.dir, 'secret.img')],
      [51792, '../secret.img'],
    ] as const) {
      const dirs = await addVbd(w, w.guests[1].domid, devid, { params });
      await backendKeys(dirs.backend, '5');
      const err = await w.dom0.read(
        `/local/domain/${w.be.domid}/error/backend/vbd/${w.guests[1].domid}/${devid}/error`,
      );
      expect(err).toContain(
        `${XEN_ERRNO.EACCES} ${dirs.backend}/params: target ${join(w.dir, 'secret.img')} is outside`,
      );
    }
    expect(readFileSync(join(w.dir, 'secret.img')).equals(Buffer.alloc(MiB))).toBe(true);
  });

  it("refuses another domain's stream on a device beside the rightful frontend's stream", async () => {
    const victim = rw.dirs.backend;
    const other = w.guests[1];
    // It cannot read the victim's backend dir; it learnt the endpoint elsewhere (dom0's client reads it here).
    const xs1 = w.dom0;
    const hv1 = new HypervisorClient(await w.nc(), other.domid);
    // honest about itself: frontend-id is not its domain
    const honest = new FrontVbd(other, xs1, hv1, rw.dirs, w.be.domid);
    // pretending to be the owner: its proof does not verify against the owner's key
    const liar = new FrontVbd(other, xs1, hv1, rw.dirs, w.be.domid, { claim: w.guests[0].domid });
    for (const f of [honest, liar]) {
      fronts.push(f);
      f.ringRef = rw.ringRef;
      f.stream.start();
      await expect(f.stream.whenConnected()).rejects.toThrow();
      expect(f.stream.state).toBe('refused');
    }
    expect(honest.stream.lastError?.message).toContain(
      `frontend-id of ${victim} is ${w.guests[0].domid}, not ${other.domid}`,
    );
    expect(liar.stream.lastError?.message).toContain(`signature does not verify against dom${w.guests[0].domid}'s key`);
    // a wrong ring-ref from the rightful domain is refused too
    const wrongRef = new FrontVbd(w.guests[0], await w.client(w.guests[0].domid), rw.hv, rw.dirs, w.be.domid);
    fronts.push(wrongRef);
    wrongRef.ringRef = rw.ringRef + 1000;
    wrongRef.stream.start();
    await expect(wrongRef.stream.whenConnected()).rejects.toThrow(
      `ring-ref of dom${w.guests[0].domid} is ${rw.ringRef}, not ${rw.ringRef + 1000}`,
    );
    expect(rw.stream.state).toBe('connected');
    expect((await rw.write(16, pattern(4))).status).toBe(0);
    expect((await rw.read(16)).data.equals(pattern(4))).toBe(true);
  });

  it('exports each VBD over NBD (TCP and its Unix socket): stock clients read what the ring wrote, and the ring reads what they wrote', async () => {
    const view = rw.backend!.keys;
    const uri = view['nbd-export'];
    const unixUri = `nbd+unix:///vbd-${w.guests[0].domid}-51712?socket=${view['nbd-socket']}`;
    const fill = Buffer.alloc(8 * PAGE, 0xab);
    expect((await rw.write(2048, fill)).status).toBe(0);
    expect((await rw.write(2048 + 64, fill)).status).toBe(0);
    const info = await run('nbdinfo', [uri]);
    expect(info.code).toBe(0);
    expect(info.out).toMatch(/export-size: 8388608/);
    expect(info.out).toMatch(/can_multi_conn: true/);
    expect(info.out).toMatch(/is_read_only: false/);
    for (const u of [uri, unixUri]) {
      const r = await run('qemu-io', ['-f', 'raw', '-r', u, '-c', 'read -P 0xab 1M 64k']);
      expect(r).toEqual({
        code: 0,
        out: expect.stringMatching(/read 65536\/65536 bytes at offset 1048576/) as unknown,
      });
      // a wrong pattern fails: the check can fail
      expect((await run('qemu-io', ['-f', 'raw', '-r', u, '-c', 'read -P 0xac 1M 64k'])).out).toMatch(
        /Pattern verification failed/,
      );
    }
    const wr = await run('qemu-io', ['-f', 'raw', uri, '-c', 'write -P 0x5c 2M 16k', '-c', 'flush']);
    expect(wr.code).toBe(0);
    const back = await rw.read(4096, 4);
    expect(back.data.equals(Buffer.alloc(4 * PAGE, 0x5c))).toBe(true);
    // the read-only VBD's export is read-only: qemu-io's write is refused
    const roUri = `nbd://127.0.0.1:${svc.blkback!.nbd.port}/vbd-${w.guests[1].domid}-51712`;
    expect((await run('nbdinfo', [roUri])).out).toMatch(/is_read_only: true/);
    const refused = await run('qemu-io', ['-f', 'raw', roUri, '-c', 'write -P 0x11 0 4k']);
    expect(refused.code).not.toBe(0);
    expect(readFileSync(join(imageDir, 'ro.img')).equals(pattern(77, MiB))).toBe(true);
  });

  it('releases a removed VBD (export, socket, target) so the target can be attached writable again', async () => {
    const g1 = w.guests[1].domid;
    const f = await front(1, 51808, { params: 'detach.img', size: '1M' });
    await f.connect();
    expect((await f.write(0, pattern(9))).status).toBe(0);
    const sock = f.backend!.keys['nbd-socket'];
    expect(statSync(sock).isSocket()).toBe(true);
    // while attached writable, a second VBD on the same image is refused
    const busy = await addVbd(w, g1, 51824, { params: 'detach.img' });
    await backendKeys(busy.backend, '5');
    // xl block-detach: online=0 and backend Closing; the frontend closes, the backend reaches Closed
    await w.dom0.write(`${f.dirs.backend}/online`, '0');
    await w.dom0.write(`${f.dirs.backend}/state`, '5');
    await backendKeys(f.dirs.backend, '6');
    await w.dom0.rm(f.dirs.backend);
    await w.dom0.rm(f.dirs.frontend);
    await w.dom0.rm(busy.backend);
    await w.dom0.rm(busy.frontend);
    await waitFor(
      () => !svc.blkback!.vbds.claims.holdersOf(join(imageDir, 'detach.img')).length,
      5000,
      'the claim released',
    );
    expect(() => statSync(sock)).toThrow();
    expect(readFileSync(join(imageDir, 'detach.img')).subarray(0, PAGE).equals(pattern(9))).toBe(true);
    const again = await front(0, 51840, { params: 'detach.img', mode: 'w' });
    await again.connect();
    expect((await again.read(0)).data.equals(pattern(9))).toBe(true);
  });

  it('serves a two-queue device with two-page rings: one stream per queue, each checked against its queue-N/ring-ref0', async () => {
    const dom = w.guests[0];
    const be = w.be.domid;
    const dirs = await addVbd(w, dom.domid, 51856, { params: 'mq.img', size: '1M' });
    const xs = await w.client(dom.domid);
    const hv = new HypervisorClient(await w.nc(), dom.domid);
    const grants = new GrantTable();
    // two pages per ring (ring-page-order 1): 64 slots
    const refs = [0, 1, 2, 3].map(() => grants.grant(be, new Uint8Array(PAGE)));
    const ports = [await hv.evtchnAllocUnbound(be), await hv.evtchnAllocUnbound(be)];
    const xb = new XenbusFrontend({
      store: xs,
      path: dirs.frontend,
      handlers: {
        publish: () => ({
          'multi-queue-num-queues': '2',
          'ring-page-order': '1',
          protocol: 'x86_64-abi',
          ...Object.fromEntries(
            [0, 1].flatMap((q) => [
              [`queue-${q}/ring-ref0`, String(refs[2 * q])],
              [`queue-${q}/ring-ref1`, String(refs[2 * q + 1])],
              [`queue-${q}/event-channel`, String(ports[q])],
            ]),
          ),
        }),
      },
    });
    await xb.start();
    const view = await xb.whenConnected();
    const stream = (q: number, ringRef: number) => {
      const ring = new FrontRing<BlkifRequest, BlkifResponse>({
        size: blkifRingSize(2),
        backendDomid: be,
        grants,
        ...BLKIF_RING_IDS,
      });
      const st = new RingFrontStream({
        ring,
        codec: blkifRingCodec(),
        frontendDomid: dom.domid,
        seed: dom.seed,
        queue: q,
        target: { endpoint: view.keys['grpc-endpoint'], backend: be, device: dirs.backend, ringRef },
        retry: { initialMs: 20, maxMs: 200 },
      });
      return { ring, st: st.start() };
    };
    const q0 = stream(0, refs[0]);
    const q1 = stream(1, refs[2]);
    const crossed = stream(1, refs[0]);
    try {
      await q0.st.whenConnected();
      await q1.st.whenConnected();
      await expect(crossed.st.whenConnected()).rejects.toThrow(
        `queue-1/ring-ref0 of dom${dom.domid} is ${refs[2]}, not ${refs[0]}`,
      );
      const data = Buffer.from(pattern(12));
      const wref = grants.grant(be, data, true);
      const seg = (gref: number) => [{ gref, firstSect: 0, lastSect: 7 }];
      const base = { nrSegments: 1, handle: 51856, sectorNumber: 8n };
      const wr = await q1.ring.submit({ ...base, operation: BLKIF_OP.BLKIF_OP_WRITE, id: 1n, segments: seg(wref) }, [
        { ref: wref },
      ]);
      expect(wr.status).toBe(0);
      const page = Buffer.alloc(PAGE);
      const rref = grants.grant(be, page);
      const rd = await q0.ring.submit({ ...base, operation: BLKIF_OP.BLKIF_OP_READ, id: 1n, segments: seg(rref) }, [
        { ref: rref },
      ]);
      expect(rd.status).toBe(0);
      expect(page.equals(data)).toBe(true);
      for (const q of [0, 1])
        expect(await hv.evtchnStatus(ports[q])).toMatchObject({ state: 'interdomain', interdomain: { dom: be } });
    } finally {
      for (const s of [q0, q1, crossed]) s.st.close();
      await xb.stop();
    }
  });
});

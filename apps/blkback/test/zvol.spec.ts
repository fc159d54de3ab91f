// blkback serving zvols of the ZFS storage domain: real nats-server, xenstored and hypervisor engine, apps/zfs
// as a child process (its build, as dom0 launches it) with a mirror pool, blkback in process. A volume made
// through the admin API is a guest's disk (`zvol:tank/vm1`): ring writes and reads by checksum, the same bytes
// over NBD to stock tools; a snapshot is a second, read-only disk with the snapshot's data; a writable zvol
// is held exclusively, and detaching a VBD lets the ZFS domain destroy what it held.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import type { INestApplicationContext } from '@nestjs/common';
import type { DomId } from '@dominion/abi';
import { busRequest, subjects } from '@dominion/bus';
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

const here = dirname(fileURLToPath(import.meta.url));
const ZFS_MAIN = join(here, '..', '..', 'zfs', 'dist', 'main.js');
const MiB = 1 << 20;
const VOLSIZE = 16 * MiB;

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
let zfsDomid: DomId;
let zfs: ChildProcess | undefined;
let zfsLog = '';
let nc: NatsConnection;
const fronts: FrontVbd[] = [];

const zfsCall = <T = unknown>(verb: string, body: unknown): Promise<T> =>
  busRequest<T>(nc, subjects.zfs(0, verb), body, { timeoutMs: 20_000 });

async function front(guest: number, devid: number, spec: Parameters<typeof addVbd>[3]): Promise<FrontVbd> {
  const dom = w.guests[guest];
  const dirs = await addVbd(w, dom.domid, devid, spec);
  const xs = await w.client(dom.domid);
  const f = new FrontVbd(dom, xs, new HypervisorClient(await w.nc(), dom.domid), dirs, w.be.domid);
  fronts.push(f);
  return f;
}

async function backendState(path: string, state: string): Promise<void> {
  await waitFor(async () => (await w.dom0.tryRead(`${path}/state`)) === state, 10_000, `${path} state ${state}`);
}

/** xl block-detach: online=0, backend Closing until Closed, then both dirs removed. */
async function detach(f: FrontVbd): Promise<void> {
  await w.dom0.write(`${f.dirs.backend}/online`, '0');
  await w.dom0.write(`${f.dirs.backend}/state`, '5');
  await backendState(f.dirs.backend, '6');
  f.close();
  await w.dom0.rm(f.dirs.backend);
  await w.dom0.rm(f.dirs.frontend);
}

/** Eight 11-page writes spread over the volume: where they go and what they hold. */
const WRITES = Array.from({ length: 8 }, (_, i) => ({ sector: i * 4096 + i * 8, data: pattern(100 + i, 11 * PAGE) }));

function image(writes: { sector: number; data: Buffer }[]): Buffer {
  const b = Buffer.alloc(VOLSIZE);
  for (const x of writes) b.set(x.data, x.sector * SECTOR);
  return b;
}

/** apps/zfs as the ZFS domain's process; resolves once it published its block endpoint (a new one on restart). */
async function startZfs(): Promise<void> {
  const endpointPath = `/local/domain/${zfsDomid}/data/zfs/block-endpoint`;
  await w.dom0.rm(endpointPath);
  zfsLog = '';
  const child = spawn(process.execPath, [ZFS_MAIN], {
    env: {
      ...process.env,
      DOMINION_NATS_URL: w.url,
      DOMINION_DOMID: String(zfsDomid),
      DOMINION_STATE_DIR: join(w.dir, 'zfs-domain'),
      DOMINION_LOG_LEVEL: 'info',
      DOMINION_HEALTH_PORT: '',
      DOMINION_ZFS_POOLS: 'tank:mirror:tank-a.img,tank-b.img:128M',
      DOMINION_ZFS_TXG_MS: '200',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  zfs = child;
  child.stdout.on('data', (b: Buffer) => (zfsLog += b.toString()));
  child.stderr.on('data', (b: Buffer) => (zfsLog += b.toString()));
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`zfs exited with ${child.exitCode}:\n${zfsLog}`);
      return (await w.dom0.tryRead(endpointPath)) !== undefined;
    },
    20_000,
    'the ZFS domain publishing its block endpoint',
  );
}

async function stopZfs(): Promise<void> {
  const child = zfs;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  if (!existsSync(ZFS_MAIN)) throw new Error(`${ZFS_MAIN} is missing: build apps/zfs first`);
  w = await startWorld(2);
  nc = await w.nc();
  // The ZFS domain's home as the toolstack makes it, plus what the toolstack does not grant yet: blkback may
  // list /local/domain, read the ZFS domain's name and its data/zfs (where the block endpoint goes).
  zfsDomid = await w.hv0.createDomain({ name: 'zfs', target_memkb: 65536, driver_domain: true });
  const home = `/local/domain/${zfsDomid}`;
  await w.dom0.introduce(zfsDomid, 0, 1);
  // Xen lets no domU list /local/domain; blkback needs it to find the ZFS domain by name.
  await w.dom0.setPerms('/local/domain', [
    ...(await w.dom0.getPerms('/local/domain')),
    { domid: w.be.domid, perm: 'r' },
  ]);
  await w.dom0.mkdir(home);
  await w.dom0.setPerms(home, [{ domid: zfsDomid, perm: 'n' }]);
  await w.dom0.write(`${home}/name`, 'zfs');
  await w.dom0.setPerms(`${home}/name`, [
    { domid: 0, perm: 'n' },
    { domid: zfsDomid, perm: 'r' },
    { domid: w.be.domid, perm: 'r' },
  ]);
  await w.dom0.mkdir(`${home}/data/zfs`);
  await w.dom0.setPerms(`${home}/data/zfs`, [
    { domid: zfsDomid, perm: 'n' },
    { domid: w.be.domid, perm: 'r' },
  ]);
  await startZfs();
  ({ app, svc } = await startBlkbackInProcess(w, { DOMINION_BLKBACK_IMAGE_DIR: join(w.dir, 'images') }));
  await zfsCall('create', { name: 'tank/vm1', volsize: VOLSIZE });
}, 60_000);

afterAll(async () => {
  for (const f of fronts) f.close();
  await app?.close();
  await stopZfs();
  await w?.stop();
});

describe('blkback on zvols', () => {
  let vm1: FrontVbd;

  it('serves zvol:tank/vm1 through the ZFS domain: ring writes read back by checksum', async () => {
    vm1 = await front(0, 51712, { params: 'zvol:tank/vm1' });
    const view = await vm1.connect();
    expect(view.keys).toMatchObject({ state: '4', sectors: String(VOLSIZE / SECTOR), info: '0' });
    const rsps = await Promise.all(WRITES.map((x) => vm1.write(x.sector, x.data)));
    expect(rsps.map((r) => r.status)).toEqual(WRITES.map(() => 0));
    expect((await vm1.flush()).status).toBe(0);
    for (const x of WRITES) {
      const r = await vm1.read(x.sector, 11);
      expect(r.rsp.status).toBe(0);
      expect(sha256(r.data)).toBe(sha256(x.data));
    }
    // untouched sectors read zeros
    expect((await vm1.read(2000)).data.equals(Buffer.alloc(PAGE))).toBe(true);
    // the volume is open on the ZFS domain: it cannot be destroyed under the guest
    await expect(zfsCall('destroy', { name: 'tank/vm1' })).rejects.toMatchObject({ kind: 'EBUSY' });
  });

  it('exports the zvol VBD over NBD: nbdinfo and qemu-img see the bytes the ring wrote', async () => {
    const uri = vm1.backend!.keys['nbd-export'];
    const info = await run('nbdinfo', [uri]);
    expect(info.code).toBe(0);
    expect(info.out).toMatch(new RegExp(`export-size: ${VOLSIZE}\\b`));
    expect(info.out).toMatch(/is_read_only: false/);
    const out = join(w.dir, 'vm1.raw');
    const conv = await run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', uri, out]);
    expect(conv).toEqual({ code: 0, out: '' });
    const got = readFileSync(out);
    expect(got.length).toBe(VOLSIZE);
    expect(sha256(got)).toBe(sha256(image(WRITES)));
    // a byte off would show: the comparison can fail
    expect(sha256(got)).not.toBe(sha256(image(WRITES.slice(1))));
  });

  let snap: FrontVbd;

  it('serves a snapshot read-only with the snapshot’s data, while the live volume takes writes', async () => {
    await zfsCall('snapshot', { names: ['tank/vm1@s1'] });
    const after = pattern(999, 11 * PAGE);
    expect((await vm1.write(WRITES[0].sector, after)).status).toBe(0);
    expect((await vm1.flush()).status).toBe(0);

    // asked writable, but a snapshot is never written
    snap = await front(1, 51712, { params: 'zvol:tank/vm1@s1', mode: 'w' });
    const view = await snap.connect();
    expect(view.keys).toMatchObject({ state: '4', sectors: String(VOLSIZE / SECTOR), info: '4' }); // VDISK_READONLY
    for (const x of WRITES) expect(sha256((await snap.read(x.sector, 11)).data)).toBe(sha256(x.data));
    expect(sha256((await vm1.read(WRITES[0].sector, 11)).data)).toBe(sha256(after));

    expect((await snap.write(WRITES[1].sector, pattern(5))).status).toBe(-1); // BLKIF_RSP_ERROR
    expect(sha256((await snap.read(WRITES[1].sector, 11)).data)).toBe(sha256(WRITES[1].data));
    expect((await vm1.write(WRITES[1].sector, pattern(5))).status).toBe(0);
    const roInfo = await run('nbdinfo', [snap.backend!.keys['nbd-export']]);
    expect(roInfo.out).toMatch(/is_read_only: true/);
  });

  it('holds a writable zvol exclusively (also named /dev/zvol/…); readers share a snapshot', async () => {
    const busy = await addVbd(w, w.guests[1].domid, 51728, { params: '/dev/zvol/tank/vm1' });
    await backendState(busy.backend, '5');
    expect(
      await w.dom0.tryRead(`/local/domain/${w.be.domid}/error/backend/vbd/${w.guests[1].domid}/51728/error`),
    ).toMatch(/^16 target zvol:tank\/vm1 is already open for writing by vbd \d+\/51712/);
    const reader = await front(0, 51744, { params: 'zvol:tank/vm1@s1', mode: 'r' });
    await reader.connect();
    expect(sha256((await reader.read(WRITES[2].sector, 11)).data)).toBe(sha256(WRITES[2].data));
    await detach(reader);
    await w.dom0.rm(busy.backend);
    await w.dom0.rm(busy.frontend);
  });

  it('follows a restarted ZFS domain: a write issued while it is down completes once it is back', async () => {
    await stopZfs();
    const data = pattern(4242, 11 * PAGE);
    const pending = vm1.write(WRITES[3].sector, data);
    await startZfs();
    expect((await pending).status).toBe(0);
    expect((await vm1.flush()).status).toBe(0);
    expect(sha256((await vm1.read(WRITES[3].sector, 11)).data)).toBe(sha256(data));
    expect(sha256((await snap.read(WRITES[3].sector, 11)).data)).toBe(sha256(WRITES[3].data));
  });

  it('closes the zvol on detach: the volume busy while attached is destroyed once detached', async () => {
    await detach(snap);
    await waitFor(() => svc.blkback!.vbds.claims.holdersOf('zvol:tank/vm1@s1').length === 0, 5000, 'snapshot released');
    await waitFor(
      async () =>
        await zfsCall('destroy', { name: 'tank/vm1@s1' }).then(
          () => true,
          () => false,
        ),
      5000,
      'snapshot destroyed',
    );
    await expect(zfsCall('destroy', { name: 'tank/vm1' })).rejects.toMatchObject({ kind: 'EBUSY' });
    await detach(vm1);
    await waitFor(() => svc.blkback!.vbds.claims.holdersOf('zvol:tank/vm1').length === 0, 5000, 'volume released');
    await waitFor(
      async () =>
        await zfsCall('destroy', { name: 'tank/vm1' }).then(
          () => true,
          () => false,
        ),
      5000,
      'volume destroyed',
    );
    // gone: a VBD on it now fails at probe with the ZFS domain's ENOENT
    const gone = await addVbd(w, w.guests[0].domid, 51760, { params: 'zvol:tank/vm1' });
    await backendState(gone.backend, '5');
    expect(
      await w.dom0.tryRead(`/local/domain/${w.be.domid}/error/backend/vbd/${w.guests[0].domid}/51760/error`),
    ).toMatch(/^2 .*tank\/vm1/);
  });
});

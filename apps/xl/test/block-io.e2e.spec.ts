// The block path as a user walks it: `xl create examples/blkback.cfg` starts the block driver domain, a
// minios guest gets disks from it (`disk = [...]` with backend=blkback and Dominion's size=), and what the
// guest's shell does through `xl console` (lsblk, dd, sha256sum) is checked against the image files on disk
// and against each VBD's NBD export read and written by stock clients (qemu-img, qemu-io, nbdinfo). Then
// blkback is killed with SIGKILL while the guest copies one disk to another: the toolstack brings it back
// under a new domid, the guest's dd finishes without an error, the copy is exact, and the guest's `blkstat`
// shows requests re-issued (so the backend did not die idle); the stall is printed. Last, block-detach.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busRequest, subjects } from '@dominion/bus';
import { waitFor } from '@dominion/testing';
import { repo, run, startDominion, type Dominion, type Run } from './dominion-e2e.js';
import { attachConsole, type GuestConsole } from './guest-console.js';
import { openRawNbd } from './nbd-raw.js';

const blkbackCfg = join(repo, 'examples', 'blkback.cfg');
const MiB = 1 << 20;
/** Device numbers (xen-facts: 202 << 8 | disk << 4). */
const XVDA = 51712;
const XVDB = 51728;
const XVDC = 51744;

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The first `length` bytes of a file. */
function head(path: string, length: number): Buffer {
  const b = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    let at = 0;
    while (at < length) {
      const n = readSync(fd, b, at, length - at, at);
      if (n === 0) throw new Error(`${path} is shorter than ${length} bytes`);
      at += n;
    }
  } finally {
    closeSync(fd);
  }
  return b;
}

/** A stock tool run to completion (execFile's, with its output whatever the size). */
function tool(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 4 * MiB }, (e, stdout, stderr) =>
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr }),
    );
  });
}

describe('the block path through xl, the guest console and the NBD export (end to end)', () => {
  let dominion: Dominion;
  let con: GuestConsole;
  let images: string;
  let g: number;
  let bb: number;
  let xsEnv: Record<string, string>;
  const xl = (...args: string[]) => dominion.xl(...args);
  const domid = async (name: string): Promise<number | undefined> =>
    (await dominion.hv.listDomains()).find((d) => d.name === name)?.domid;
  const xsRead = async (path: string): Promise<string> => {
    const r = await run('xenstore-read', [path], xsEnv);
    if (r.code !== 0) throw new Error(`xenstore-read ${path}: ${r.stderr}`);
    return r.stdout.trimEnd();
  };
  /** The VBD's NBD export as blkback publishes it in its backend dir (docs/device-keys.md). */
  const nbdExport = (devid: number): Promise<string> =>
    xsRead(`/local/domain/${bb}/backend/vbd/${g}/${devid}/nbd-export`);
  /** Every byte of a VBD, read through its NBD export by qemu-img. */
  const readExport = async (devid: number, length: number): Promise<Buffer> => {
    const out = join(dominion.home.path, `export-${devid}.raw`);
    const r = await tool('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', await nbdExport(devid), out]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    return head(out, length);
  };

  // The read-only disk's image, made before the guest exists (a read-only target is never created).
  const roImage = Buffer.concat([Buffer.alloc(4096, 0xab), randomBytes(MiB - 4096)]);

  beforeAll(async () => {
    dominion = await startDominion('dominion-xl-block-io-');
    xsEnv = { XENSTORED_PATH: join(dominion.home.path, 'dom0', 'xenstored.socket') };
    // blkback's image dir: dom0's <state>/images (examples/blkback.cfg)
    images = join(dominion.home.path, 'dom0', 'images');
    mkdirSync(images, { recursive: true });
    writeFileSync(join(images, 'io-ro.img'), roImage);
    const cfg = join(dominion.home.path, 'io.cfg');
    writeFileSync(
      cfg,
      [
        'name = "io"',
        'kernel = "builtin:minios"',
        'memory = 64',
        'disk = [ "format=raw, vdev=xvda, access=rw, backend=blkback, size=64M, target=io.img",',
        '         "format=raw, vdev=xvdb, access=rw, backend=blkback, size=64M, target=io-b.img",',
        '         "format=raw, vdev=xvdc, access=ro, backend=blkback, target=io-ro.img" ]',
        '',
      ].join('\n'),
    );
    expect(await xl('create', blkbackCfg)).toMatchObject({ code: 0 });
    expect(await xl('create', cfg)).toMatchObject({ code: 0, stderr: `Parsing config from ${cfg}\n` });
    g = (await domid('io'))!;
    bb = (await domid('blkback'))!;
    con = await attachConsole(dominion, 'io');
  }, 60000);

  afterAll(async () => {
    expect(await con?.detach()).toBe(0);
    expect(await dominion?.stop()).toBe(0);
  });

  it('lsblk shows the disks; dd from /dev/urandom is what the image file and the NBD export hold', async () => {
    expect(await con.run('lsblk')).toBe(
      [
        'NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS',
        'xvda 202:0    0  64M  0 disk',
        'xvdb 202:16   0  64M  0 disk',
        'xvdc 202:32   0   1M  1 disk',
        '',
      ].join('\n'),
    );
    const dd = await con.run('dd if=/dev/urandom of=/dev/xvda bs=1M count=8 conv=fsync');
    expect(dd).toMatch(/^8\+0 records in\n8\+0 records out\n8388608 bytes \(8\.4 MB, 8\.0 MiB\) copied, .* s, .*\n$/);
    const guestSum = /^([0-9a-f]{64}) {2}\/dev\/xvda\n$/.exec(await con.run('sha256sum /dev/xvda 8M'))?.[1];
    expect(guestSum).toBeDefined();
    // the image blkback created sparse, and the same disk through the export
    expect(statSync(join(images, 'io.img')).size).toBe(64 * MiB);
    expect(sha256(head(join(images, 'io.img'), 8 * MiB))).toBe(guestSum);
    const info = await tool('nbdinfo', ['--size', await nbdExport(XVDA)]);
    expect(info).toMatchObject({ code: 0, stdout: `${64 * MiB}\n` });
    const exported = await readExport(XVDA, 64 * MiB);
    expect(sha256(exported.subarray(0, 8 * MiB))).toBe(guestSum);
    // past what dd wrote the disk is still the sparse file's zeros
    expect(sha256(exported.subarray(8 * MiB))).toBe(sha256(Buffer.alloc(56 * MiB)));
  });

  it('an image written into the VBD through its NBD export by qemu-img convert -n is what the guest reads', async () => {
    const image = randomBytes(4 * MiB + 4096);
    const file = join(dominion.home.path, 'import.raw');
    writeFileSync(file, image);
    const r = await tool('qemu-img', ['convert', '-n', '-f', 'raw', file, '-O', 'raw', await nbdExport(XVDA)]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(await con.run(`sha256sum /dev/xvda ${image.length}`)).toBe(`${sha256(image)}  /dev/xvda\n`);
    expect(await con.run(`sha256sum /dev/xvda 1M+1M`)).toBe(`${sha256(image.subarray(MiB, 2 * MiB))}  /dev/xvda\n`);
  });

  it('access=ro: the guest reads the disk but its write fails with an I/O error; the NBD export refuses writes', async () => {
    expect(await con.run('sha256sum /dev/xvdc')).toBe(`${sha256(roImage)}  /dev/xvdc\n`);
    expect(await con.run('dd if=/dev/zero of=/dev/xvdc bs=4K count=1')).toMatch(
      /^dd: error writing '\/dev\/xvdc': Input\/output error\n1\+0 records in\n0\+0 records out\n0 bytes copied, /,
    );
    // beside it, the same write to the writable disk works
    expect(await con.run('dd if=/dev/zero of=/dev/xvdb bs=4K count=1')).toMatch(/^1\+0 records in\n1\+0 records out\n/);
    expect(sha256(head(join(images, 'io-ro.img'), MiB))).toBe(sha256(roImage));

    const uri = await nbdExport(XVDC);
    const info = await tool('nbdinfo', [uri]);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/^\s*is_read_only: true$/m);
    const read = await tool('qemu-io', ['-r', '-f', 'raw', '-c', 'read -P 0xab 0 4k', uri]);
    expect(read).toMatchObject({ code: 0, stderr: '' });
    expect(read.stdout).toMatch(/^read 4096\/4096 bytes at offset 0\n/);
    // qemu sees NBD_FLAG_READ_ONLY and will not open it for writing
    expect(await tool('qemu-io', ['-f', 'raw', '-c', 'write -P 0x55 0 4k', uri])).toEqual({
      code: 1,
      stdout: '',
      stderr: `qemu-io: can't open device ${uri}: Could not open image: Permission denied\n`,
    });
    // a client that writes anyway gets NBD_EPERM from blkback, while a read on the same connection works
    const nbd = await openRawNbd(uri);
    try {
      expect(nbd.flags & 2).toBe(2);
      expect(await nbd.request(1, 0, 4096, Buffer.alloc(4096, 0x55))).toEqual({ error: 1, data: Buffer.alloc(0) });
      expect(await nbd.request(0, 0, 4096)).toEqual({ error: 0, data: Buffer.alloc(4096, 0xab) });
    } finally {
      nbd.close();
    }
    expect(sha256(head(join(images, 'io-ro.img'), MiB))).toBe(sha256(roImage));
  });

  it('kill -9 of blkback under a guest dd: restarted under a new domid, dd finishes without error, the copy is exact', async () => {
    // a known pattern on xvda (through the export), copied by the guest to xvdb while blkback dies
    const length = 32 * MiB;
    const pattern = randomBytes(length);
    const file = join(dominion.home.path, 'pattern.raw');
    writeFileSync(file, pattern);
    expect(
      await tool('qemu-img', ['convert', '-n', '-f', 'raw', file, '-O', 'raw', await nbdExport(XVDA)]),
    ).toMatchObject({ code: 0, stderr: '' });
    expect(await con.run('blkstat')).toMatch(/^NAME CONNECTS REISSUED INFLIGHT\nxvda +1 +0 +0\n/);

    const target = join(images, 'io-b.img');
    const allocated = (): number => statSync(target).blocks * 512;
    const before = allocated();
    const copy = con.run(`dd if=/dev/xvda of=/dev/xvdb bs=64K count=${length / 65536} conv=fsync`, 60000);
    // mid-copy: xvdb's image has grown by a few MiB but not by all of it
    await waitFor(() => allocated() >= before + 4 * MiB, 20000, 'the copy to be under way');
    expect(allocated()).toBeLessThan(before + length);

    const { domains } = await busRequest<{ domains: { domid: number; pid?: number }[] }>(
      dominion.nc,
      subjects.toolstack(0, 'list'),
      {},
      { timeoutMs: 5000 },
    );
    const pid = domains.find((d) => d.domid === bb)!.pid!;
    // the image's growth, sampled from the kill to the end of the copy: the longest pause is the stall
    let done = false;
    void copy.finally(() => (done = true));
    // Frozen first, so that the kill cannot fall between two of dd's requests: the guest's next request
    // is then sent to a backend that never answers it, and must be re-issued to the next blkback.
    process.kill(pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 100));
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    let last = allocated();
    let lastGrowth = killedAt;
    let stall = 0;
    while (!done) {
      await new Promise((r) => setTimeout(r, 10));
      const now = allocated();
      if (now !== last) {
        stall = Math.max(stall, Date.now() - lastGrowth);
        last = now;
        lastGrowth = Date.now();
      }
    }
    const out = await copy;
    const total = Date.now() - killedAt;

    expect(out).not.toMatch(/error/i);
    expect(out).toMatch(/^512\+0 records in\n512\+0 records out\n33554432 bytes \(34 MB, 32 MiB\) copied, /);
    const bb2 = (await domid('blkback'))!;
    expect(bb2).not.toBe(bb);
    // requests were in flight at the kill, and the frontends re-issued them to the new blkback
    const stats = Object.fromEntries(
      (await con.run('blkstat'))
        .split('\n')
        .slice(1, -1)
        .map((l) => l.split(/ +/))
        .map(([name, connects, reissued]) => [name, { connects: Number(connects), reissued: Number(reissued) }]),
    );
    expect(stats.xvda.connects).toBe(2);
    expect(stats.xvdb.connects).toBe(2);
    expect(stats.xvda.reissued + stats.xvdb.reissued).toBeGreaterThan(0);
    console.log(
      `blkback kill -9 under a guest dd: I/O stalled ${stall} ms (kill to the end of the copy ${total} ms; ` +
        `re-issued xvda ${stats.xvda.reissued}, xvdb ${stats.xvdb.reissued})`,
    );

    expect(await con.run(`sha256sum /dev/xvdb ${length}`, 30000)).toBe(`${sha256(pattern)}  /dev/xvdb\n`);
    expect(sha256(head(target, length))).toBe(sha256(pattern));
    bb = bb2;
    expect(sha256(await readExport(XVDB, length))).toBe(sha256(pattern));
  }, 90000);

  it('block-detach of an idle disk: block-list before and after, and the guest no longer sees it', async () => {
    const header = 'Vdev  BE  handle state evt-ch ring-ref BE-path                       \n';
    // a multi-queue disk has its event-channel and ring-ref under queue-N: libxl prints -1 for both then
    const row = (devid: number) =>
      `${devid} ${String(bb).padEnd(3)} ${String(g).padEnd(6)} 4     (-1 +|\\d+ +){2}/local/domain/${bb}/backend/vbd/${g}/${devid}\\n`;
    const listed = await xl('block-list', 'io');
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    expect(listed.stdout).toMatch(new RegExp(`^${header}${row(XVDA)}${row(XVDB)}${row(XVDC)}$`));

    expect(await xl('block-detach', 'io', 'xvdc')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await xl('block-list', 'io')).stdout).toMatch(new RegExp(`^${header}${row(XVDA)}${row(XVDB)}$`));

    // An image already open for writing (xvda's) is refused by blkback: the attach fails with blkback's reason
    // and leaves nothing; beside it, a fresh image attaches.
    const held = await xl('block-attach', 'io', 'format=raw, vdev=xvdd, access=rw, backend=blkback, target=io.img');
    expect(held.code).toBe(1);
    expect(held.stderr).toMatch(/xvdd|51760/);
    expect(held.stderr).toMatch(/already open for writing/);
    expect((await xl('block-list', 'io')).stdout).toMatch(new RegExp(`^${header}${row(XVDA)}${row(XVDB)}$`));
    expect(
      await xl('block-attach', 'io', 'format=raw, vdev=xvdd, access=rw, backend=blkback, size=1M, target=io-d.img'),
    ).toMatchObject({ code: 0 });
    expect(await xl('block-detach', 'io', 'xvdd')).toMatchObject({ code: 0 });
    expect(await con.run('lsblk')).not.toMatch(/xvdc/);
    expect(await con.run('sha256sum /dev/xvdc')).toBe('sha256sum: /dev/xvdc: No such file or directory\n');
    // the image stays, and the other disks still work
    expect(sha256(head(join(images, 'io-ro.img'), MiB))).toBe(sha256(roImage));
    expect(await con.run('dd if=/dev/xvdb of=/dev/null bs=1M count=1')).toMatch(/^1\+0 records in\n1\+0 records out\n/);
  });
});

// Stock NBD clients (libnbd's nbdinfo, QEMU's qemu-img and qemu-io) against NbdServerConnection on a
// real node:net server, over TCP on 127.0.0.1 and over a Unix socket, serving sparse files via FileIO.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statSync, writeFileSync, truncateSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { NodeFileIO } from '@dominion/fsio';
import { hex, tempDir } from '@dominion/testing';
import { FileNbdExport, type NbdExport } from '../src/index.js';
import { RawClient } from './helpers/raw-client.js';
import { startNbdServer, type NbdTestServer } from './helpers/server.js';

interface Run {
  code: number;
  out: string;
}

/** Runs a stock tool without blocking the event loop the server lives on. */
function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 30000 }, (e, stdout, stderr) => {
      const code = e ? (typeof e.code === 'number' ? e.code : -1) : 0;
      resolve({ code, out: stdout + stderr });
    });
  });
}

const MiB = 1 << 20;
const io = new NodeFileIO();

/** Blocks the filesystem allocated for a file, in bytes. */
const allocated = (path: string): number => statSync(path).blocks * 512;

describe.each(['tcp', 'unix'] as const)('stock clients over %s', (transport) => {
  let tmp: ReturnType<typeof tempDir>;
  let srv: NbdTestServer;
  let disk: FileNbdExport;
  let ro: FileNbdExport;

  beforeEach(async () => {
    tmp = tempDir('nbd-stock-');
    disk = await FileNbdExport.create(io, join(tmp.path, 'disk.img'), 64 * MiB, { description: 'scratch disk' });
    const roPath = join(tmp.path, 'ro.img');
    writeFileSync(roPath, Buffer.alloc(4 * MiB, 0x5a));
    ro = await FileNbdExport.open(io, roPath, { readOnly: true });
    srv = await startNbdServer(
      { disk, ro },
      transport === 'tcp' ? { tcp: true } : { unix: join(tmp.path, 'nbd.sock') },
    );
  });

  afterEach(async () => {
    await srv.close();
    await disk.close();
    await ro.close();
    tmp.remove();
  });

  it('nbdinfo shows the export, its flags, block sizes and base:allocation; --list shows both exports', async () => {
    const info = await run('nbdinfo', [srv.uri('disk')]);
    expect(info.code).toBe(0);
    expect(info.out).toContain('export-size: 67108864');
    expect(info.out).toContain('description: scratch disk');
    expect(info.out).toContain('base:allocation');
    expect(info.out).toMatch(/is_read_only: false/);
    expect(info.out).toMatch(/can_multi_conn: true/);
    expect(info.out).toMatch(/can_flush: true/);
    expect(info.out).toMatch(/can_zero: true/);
    expect(info.out).toMatch(/block_size_maximum: 33554432/);

    const roInfo = await run('nbdinfo', [srv.uri('ro')]);
    expect(roInfo.code).toBe(0);
    expect(roInfo.out).toMatch(/is_read_only: true/);
    expect(roInfo.out).toMatch(/can_trim: false/);

    const list = await run('nbdinfo', ['--list', srv.uri('')]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/export="disk"/);
    expect(list.out).toMatch(/export="ro"/);
  });

  it('nbdinfo refuses an unknown export name with the server error', async () => {
    const r = await run('nbdinfo', [srv.uri('nope')]);
    expect(r.code).not.toBe(0);
    // libnbd turns NBD_REP_ERR_UNKNOWN into ENOENT ("No such file or directory").
    expect(r.out).toMatch(/server replied with error to opt_go request: No such file or directory for export: nope/);
    expect((await run('nbdinfo', ['--size', srv.uri('disk')])).out.trim()).toBe('67108864');
  });

  it('qemu-io writes a pattern and verifies it; a wrong pattern fails', async () => {
    const ok = await run('qemu-io', [
      '-f',
      'raw',
      srv.uri('disk'),
      '-c',
      'write -P 0xab 0 1M',
      '-c',
      'read -P 0xab 0 1M',
      '-c',
      'write -z 256k 4k',
      '-c',
      'read -P 0 256k 4k',
      '-c',
      'flush',
    ]);
    expect(ok.out).not.toMatch(/failed|error/i);
    expect(ok.code).toBe(0);
    const bad = await run('qemu-io', ['-f', 'raw', srv.uri('disk'), '-c', 'read -P 0xcd 0 1M']);
    expect(bad.out).toMatch(/Pattern verification failed/);
    // The data really is on disk, read back through the file, not through the server.
    const onDisk = await disk.read(0, 4096);
    expect(Buffer.from(onDisk).equals(Buffer.alloc(4096, 0xab))).toBe(true);
  });

  it('a read-only export refuses writes while the writable one beside it accepts them', async () => {
    // qemu sees NBD_FLAG_READ_ONLY and will not open it for writing (the server's own EPERM: below).
    const refused = await run('qemu-io', ['-f', 'raw', srv.uri('ro'), '-c', 'write -P 0x11 0 4k']);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/read.only|permi/i);
    const accepted = await run('qemu-io', ['-f', 'raw', srv.uri('disk'), '-c', 'write -P 0x11 0 4k']);
    expect(accepted.code).toBe(0);
    expect(accepted.out).toMatch(/wrote 4096\/4096 bytes/);
    const still = await run('qemu-io', ['-f', 'raw', '-r', srv.uri('ro'), '-c', 'read -P 0x5a 0 4M']);
    expect(still.code).toBe(0);
    expect(still.out).not.toMatch(/failed/);
  });

  it('qemu-img converts a sparse image in and out, compares equal, and maps holes from base:allocation', async () => {
    // Source: 64 MiB sparse with data at 0..1 MiB and 40..41 MiB.
    const src = join(tmp.path, 'src.img');
    writeFileSync(src, '');
    const fd = openSync(src, 'r+');
    const a = randomBytes(MiB);
    const b = randomBytes(MiB);
    writeSync(fd, a, 0, MiB, 0);
    writeSync(fd, b, 0, MiB, 40 * MiB);
    closeSync(fd);
    truncateSync(src, 64 * MiB);

    const info = await run('qemu-img', ['info', '-f', 'raw', srv.uri('disk')]);
    expect(info.code).toBe(0);
    expect(info.out).toMatch(/virtual size: 64 MiB \(67108864 bytes\)/);

    const into = await run('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', src, srv.uri('disk')]);
    expect(into.out).toBe('');
    expect(into.code).toBe(0);
    const cmp = await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', src, srv.uri('disk')]);
    expect(cmp.out).toMatch(/Images are identical/);
    expect(cmp.code).toBe(0);
    // The import stayed sparse: only the two data MiBs were written to the backing file.
    expect(allocated(join(tmp.path, 'disk.img'))).toBeLessThan(8 * MiB);

    const map = await run('qemu-img', ['map', '--output=json', '-f', 'raw', srv.uri('disk')]);
    expect(map.code).toBe(0);
    const extents = (JSON.parse(map.out) as Array<{ start: number; length: number; data: boolean; zero: boolean }>).map(
      (e) => [e.start, e.length, e.data, e.zero],
    );
    expect(extents).toEqual([
      [0, MiB, true, false],
      [MiB, 39 * MiB, false, true],
      [40 * MiB, MiB, true, false],
      [41 * MiB, 23 * MiB, false, true],
    ]);

    // Export back out through a view that counts what qemu asks for; with sparseReads off, every
    // blockStatus call is a client's NBD_CMD_BLOCK_STATUS and every hole qemu read would be an export read.
    const seen = { statuses: 0, readBytes: 0 };
    const view: NbdExport = {
      size: disk.size,
      readOnly: true,
      canMultiConn: true,
      read: (o, l) => ((seen.readBytes += l), disk.read(o, l)),
      write: () => Promise.reject(new Error('read-only view')),
      blockStatus: (o, l) => (seen.statuses++, disk.blockStatus(o, l)),
    };
    const viewSrv = await startNbdServer(
      { view },
      transport === 'tcp' ? { tcp: true } : { unix: join(tmp.path, 'view.sock') },
      { sparseReads: false },
    );
    const out = join(tmp.path, 'out.img');
    const back = await run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', viewSrv.uri('view'), out]);
    await viewSrv.close();
    expect(back.code).toBe(0);
    expect(seen.statuses).toBeGreaterThan(0);
    expect(seen.readBytes).toBe(2 * MiB);
    expect(statSync(out).size).toBe(64 * MiB);
    expect(allocated(out)).toBeLessThan(8 * MiB);
    expect((await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', src, out])).code).toBe(0);

    // compare must be able to fail: change one byte through the server.
    await run('qemu-io', ['-f', 'raw', srv.uri('disk'), '-c', 'write -P 0x01 40M 512']);
    const differ = await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', src, srv.uri('disk')]);
    expect(differ.code).toBe(1);
    expect(differ.out).toMatch(/Content mismatch at offset 41943040/);
  });

  it('nbdinfo --map reports data and holes', async () => {
    await run('qemu-io', ['-f', 'raw', srv.uri('disk'), '-c', 'write -P 0x42 8M 2M']);
    const r = await run('nbdinfo', ['--map', srv.uri('disk')]);
    expect(r.code).toBe(0);
    const rows = r.out
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).slice(0, 3).map(Number));
    expect(rows).toEqual([
      [0, 8 * MiB, 3],
      [8 * MiB, 2 * MiB, 0],
      [10 * MiB, 54 * MiB, 3],
    ]);
  });

  it('fails a malformed request alone and keeps serving; garbage magic ends only that connection', async () => {
    const where = srv.port !== undefined ? { port: srv.port } : { path: srv.socketPath! };
    const c = await RawClient.open(where);
    await c.go4('disk');
    c.send(hex`
      25609513 0000 0063        # NBD_REQUEST_MAGIC, no flags, command 99 (unknown)
      00000000000000aa          # cookie
      0000000000000000 00001000 # offset 0, length 4096
    `);
    expect(await c.read(16)).toEqual(hex`67446698 00000016 00000000000000aa   # simple reply, NBD_EINVAL (22)`);
    c.send(hex`
      25609513 0000 0000        # NBD_CMD_READ
      00000000000000bb          # cookie
      0000000003fffffe 00000004 # offset 64 MiB - 2, length 4: past the end
    `);
    expect(await c.read(16)).toEqual(hex`67446698 00000016 00000000000000bb   # NBD_EINVAL`);
    c.send(hex`25609513 0000 0000 00000000000000cc 0000000000000000 00000004   # NBD_CMD_READ 4 bytes at 0`);
    expect(await c.read(20)).toEqual(hex`67446698 00000000 00000000000000cc 00000000   # success, 4 zero bytes`);

    const bad = await RawClient.open(where);
    await bad.go4('disk');
    bad.send(hex`deadbeef 0000 0000 0000000000000001 0000000000000000 00000200   # not NBD_REQUEST_MAGIC`);
    await bad.waitClosed();
    expect(srv.warnings.some((w) => /request magic 0xdeadbeef/.test(w))).toBe(true);

    // The first connection was not touched.
    c.send(hex`25609513 0000 0000 00000000000000dd 0000000000000000 00000002   # NBD_CMD_READ 2 bytes`);
    expect(await c.read(18)).toEqual(hex`67446698 00000000 00000000000000dd 0000`);
    c.destroy();
  });

  it('refuses a WRITE to the read-only export with NBD_EPERM beside one to the writable export succeeding', async () => {
    const where = srv.port !== undefined ? { port: srv.port } : { path: srv.socketPath! };
    const w = await RawClient.open(where);
    await w.go4('disk');
    const r = await RawClient.open(where);
    // "ro" has a 2-byte name: spell the NBD_OPT_GO out.
    await r.read(18);
    r.send(hex`00000003`);
    r.send(hex`49484156454f5054 00000007 00000008 00000002 726f 0000   # NBD_OPT_GO "ro"`);
    expect((await r.read(86)).subarray(66)).toEqual(hex`0003e889045565a9 00000007 00000001 00000000`);
    const write = hex`25609513 0000 0001 0000000000000007 0000000000000000 00000004 01020304   # NBD_CMD_WRITE 4 bytes at 0`;
    r.send(write);
    w.send(write);
    expect(await r.read(16)).toEqual(hex`67446698 00000001 0000000000000007   # NBD_EPERM`);
    expect(await w.read(16)).toEqual(hex`67446698 00000000 0000000000000007   # success`);
    expect(Buffer.from(await disk.read(0, 4))).toEqual(hex`01020304`);
    expect(Buffer.from(await ro.read(0, 4))).toEqual(hex`5a5a5a5a`);
    r.destroy();
    w.destroy();
  });
});

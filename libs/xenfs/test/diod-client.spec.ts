// Real 9P2000.L clients (Debian's diod tools: diodcat, diodls, diodload, on diod's libnpclient) against
// ZFS datasets served over TCP on 127.0.0.1, and what they wrote read back through a zfs snapshot.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { NodeFileIO } from '@dominion/fsio';
import { P9Server } from '@dominion/p9';
import { tempDir } from '@dominion/testing';
import { Pool } from '@dominion/zfs';
import { ZfsP9Filesystem } from '../src/index.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;

function tool(name: string): string {
  const path = `/usr/sbin/${name}`;
  if (!existsSync(path)) throw new Error(`${path} is missing: install Debian's diod package (apt-get install diod)`);
  return path;
}

async function listen(p9: P9Server): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const srv = createServer((sock) => {
    sockets.add(sock);
    const session = p9.connect({ send: (b) => sock.write(b), close: () => sock.destroy() });
    sock.on('data', (b) => session.receive(b));
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      sockets.delete(sock);
      void session.close();
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
}

describe('diod clients against ZFS datasets over TCP', () => {
  const dir = tempDir('xenfs-diod-');
  let pool: Pool;
  let tcp: Awaited<ReturnType<typeof listen>>;
  const big = Buffer.alloc(200_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 13 + (i >> 10)) & 0xff;

  beforeAll(async () => {
    pool = await Pool.create(new NodeFileIO(), { name: 'tank', vdevs: [{ path: `${dir.path}/v0`, size: 64 * MiB }] });
    const home = await pool.createFilesystem('tank/home');
    await home.mkdir('/docs');
    await home.create('/docs/hello.txt');
    await home.writeFile('/docs/hello.txt', 0, Buffer.from('hello from zfs\n'));
    await home.create('/docs/big.bin');
    await home.writeFile('/docs/big.bin', 0, big);
    // diodload reads 'zero' and writes 'null' of the export named ctl.
    const ctl = await pool.createFilesystem('tank/ctl');
    await ctl.create('/zero');
    await ctl.writeFile('/zero', 0, Buffer.alloc(65536));
    await ctl.create('/null');
    await pool.snapshot('tank/home@before');
    await home.writeFile('/docs/hello.txt', 0, Buffer.from('HELLO'));
    const server = new P9Server({
      exports: new Map([
        ['home', new ZfsP9Filesystem(pool, 'tank/home')],
        ['ctl', new ZfsP9Filesystem(pool, 'tank/ctl')],
      ]),
    });
    tcp = await listen(server);
  });

  afterAll(async () => {
    await tcp.close();
    await pool.close();
    dir.remove();
  });

  it('diodcat reads the live dataset and its snapshot under .zfs/snapshot', async () => {
    const s = `127.0.0.1:${tcp.port}`;
    const live = await run(tool('diodcat'), ['-s', s, '-a', 'home', '-t', '10', 'docs/hello.txt']);
    expect(live.stdout).toBe('HELLO from zfs\n');
    const old = await run(tool('diodcat'), ['-s', s, '-a', 'home', '-t', '10', '.zfs/snapshot/before/docs/hello.txt']);
    expect(old.stdout).toBe('hello from zfs\n');
    const whole = await run(tool('diodcat'), ['-s', s, '-a', 'home', '-m', '8192', '-t', '10', 'docs/big.bin'], {
      encoding: 'buffer',
      maxBuffer: 1 << 20,
    });
    expect(Buffer.compare(whole.stdout, big)).toBe(0);
  });

  it('diodls lists directories (.zfs hidden at the root) and stats entries', async () => {
    const s = `127.0.0.1:${tcp.port}`;
    const root = await run(tool('diodls'), ['-s', s, '-a', 'home', '-t', '10', '/']);
    expect(root.stdout.split('\n').filter(Boolean).sort()).toEqual(['docs']);
    const snaps = await run(tool('diodls'), ['-s', s, '-a', 'home', '-t', '10', '.zfs/snapshot']);
    expect(snaps.stdout.split('\n').filter(Boolean).sort()).toEqual(['before']);
    const long = await run(tool('diodls'), ['-s', s, '-a', 'home', '-l', '-t', '10', 'docs']);
    expect(long.stdout).toMatch(/^-rw-r--r--\.\s+1 root root\s+15 .* hello\.txt$/m);
    expect(long.stdout).toMatch(/^-rw-r--r--\.\s+1 root root\s+200000 .* big\.bin$/m);
  });

  it('diodload writes into a dataset; a snapshot holds exactly what it wrote', async () => {
    const s = `127.0.0.1:${tcp.port}`;
    const r = await run(tool('diodload'), ['-s', s, '-m', '16384', '-n', '2', '-r', '1']);
    expect(r.stderr).not.toMatch(/error|fail/i);
    const ctl = pool.openFilesystem('tank/ctl');
    const size = (await ctl.stat('/null')).size;
    expect(size).toBeGreaterThan(0);
    await pool.snapshot('tank/ctl@after');
    const snap = await run(
      tool('diodcat'),
      ['-s', s, '-a', 'ctl', '-m', '65536', '-t', '10', '.zfs/snapshot/after/null'],
      { encoding: 'buffer', maxBuffer: size + 1024 },
    );
    expect(snap.stdout.length).toBe(size);
    expect(Buffer.compare(snap.stdout, await ctl.read('/null', 0, size))).toBe(0);
  });
});

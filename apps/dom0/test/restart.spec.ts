// dom0 restarts: the store comes back from <stateDir>/xenstore with what both transports wrote.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect as natsConnect } from '@nats-io/transport-node';
import { startNatsServer, tempDir, waitFor, type NatsServerHandle } from '@dominion/testing';
import { XenstoreClient } from '@dominion/xenstore';
import { xenstoredSocketPath } from '../src/config.js';
import { bootDom0, tool } from './harness.js';

describe('dom0 restart', () => {
  let srv: NatsServerHandle;
  let tmp: { path: string; remove(): void };

  beforeAll(async () => {
    srv = await startNatsServer();
    tmp = tempDir('dom0-restart-');
  });
  afterAll(async () => {
    await srv.stop();
    tmp.remove();
  });

  it('keeps data written over the socket and over NATS', async () => {
    const nc = await natsConnect({ servers: srv.url });
    try {
      let dom0 = await bootDom0(srv.url, tmp.path);
      const sock = dom0.svc.socketPath;
      expect((await tool(sock, 'xenstore-write', '/local/domain/0/name', 'Domain-0')).code).toBe(0);
      const c = new XenstoreClient(nc, { domid: 0 });
      await c.write('/vm/1234/name', 'guest');
      await c.setPerms('/vm/1234', ['n0', 'r3']);
      await c.close();
      await dom0.close();

      dom0 = await bootDom0(srv.url, tmp.path);
      expect(dom0.svc.xenstored.recovery.replayed).toBeGreaterThanOrEqual(3);
      expect((await tool(sock, 'xenstore-read', '/local/domain/0/name', '/vm/1234/name')).stdout).toBe(
        'Domain-0\nguest\n',
      );
      const again = new XenstoreClient(nc, { domid: 0 });
      expect(await again.getPerms('/vm/1234')).toEqual([
        { perm: 'n', domid: 0 },
        { perm: 'r', domid: 3 },
      ]);
      await again.close();
      await dom0.close();
    } finally {
      await nc.close();
    }
  });

  it('refuses to start over a socket another xenstored is serving', async () => {
    const dir = `${tmp.path}/second`;
    const first = await bootDom0(srv.url, dir);
    try {
      await expect(bootDom0(srv.url, dir)).rejects.toThrow(/another xenstored is listening/);
      expect((await tool(first.svc.socketPath, 'xenstore-exists', '/')).code).toBe(0);
    } finally {
      await first.close();
    }
  });

  it('replaces the socket a killed xenstored left, but never a file that is not a socket', async () => {
    const dir = `${tmp.path}/stale`;
    await mkdir(dir, { recursive: true });
    const path = `${dir}/xenstored.socket`;
    // A process that dies by SIGKILL leaves its listening socket behind.
    const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)})`]);
    await waitFor(() => existsSync(path), 5000, 'the child to listen');
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    expect(existsSync(path)).toBe(true);
    const dom0 = await bootDom0(srv.url, dir);
    expect((await tool(path, 'xenstore-exists', '/local/domain')).code).toBe(0);
    await dom0.close();

    const other = `${tmp.path}/not-a-socket`;
    await mkdir(other, { recursive: true });
    await writeFile(`${other}/xenstored.socket`, 'precious');
    await expect(bootDom0(srv.url, other)).rejects.toThrow(/exists and is not a socket/);
    expect(await readFile(`${other}/xenstored.socket`, 'utf8')).toBe('precious');
  });

  it('takes the socket path from XENSTORED_PATH, as libxenstore does', () => {
    expect(xenstoredSocketPath({ stateDir: '/var/dom0' }, {})).toBe('/var/dom0/xenstored.socket');
    expect(xenstoredSocketPath({ stateDir: '/var/dom0' }, { XENSTORED_PATH: '/run/xs.sock' })).toBe('/run/xs.sock');
  });
});

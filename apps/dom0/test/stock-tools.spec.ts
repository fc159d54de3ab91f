// Debian's xenstore-utils (libxenstore 4.17) against dom0's xenstored socket: the tools' own output text.
import { stat } from 'node:fs/promises';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, tempDir, waitFor, type NatsServerHandle } from '@dominion/testing';
import { Health } from '@dominion/runtime';
import { XenstoreClient } from '@dominion/xenstore';
import { bootDom0, spawnTool, tool, type Dom0 } from './harness.js';

describe('stock xenstore-utils against the xenstored socket', () => {
  let srv: NatsServerHandle;
  let tmp: { path: string; remove(): void };
  let dom0: Dom0;
  let sock: string;
  const xs = (name: string, ...args: string[]) => tool(sock, name, ...args);

  beforeAll(async () => {
    srv = await startNatsServer();
    tmp = tempDir('dom0-tools-');
    dom0 = await bootDom0(srv.url, tmp.path);
    sock = dom0.svc.socketPath;
  });
  afterAll(async () => {
    await dom0.close();
    await srv.stop();
    tmp.remove();
  });

  it('listens where the state dir says, with owner-only access', async () => {
    expect(sock).toBe(`${tmp.path}/xenstored.socket`);
    const st = await stat(sock);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(dom0.app.get(Health).status()).toEqual({ ready: true, checks: { nats: true, xenstored: true } });
  });

  it('xenstore-write and xenstore-read, single and multi-argument (transactions)', async () => {
    expect(await xs('xenstore-write', '/tool/t1/a', 'hello')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await xs('xenstore-read', '/tool/t1/a')).toEqual({ code: 0, stdout: 'hello\n', stderr: '' });
    // Two pairs: libxenstore wraps them in TRANSACTION_START/END.
    expect((await xs('xenstore-write', '/tool/t1/b', '2', '/tool/t1/c', 'three words')).code).toBe(0);
    expect(await xs('xenstore-read', '/tool/t1/b', '/tool/t1/c')).toMatchObject({
      code: 0,
      stdout: '2\nthree words\n',
    });
    const missing = await xs('xenstore-read', '/tool/t1/nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("xenstore-read: couldn't read path /tool/t1/nope\n");
  });

  it('xenstore-ls prints the tree, xenstore-list the children', async () => {
    await xs('xenstore-write', '/tool/t2/name', 'guest', '/tool/t2/device/vbd/51712/state', '4', '/tool/t2/empty', '');
    expect(await xs('xenstore-ls', '/tool/t2')).toEqual({
      code: 0,
      stdout: ['name = "guest"', 'device = ""', ' vbd = ""', '  51712 = ""', '   state = "4"', 'empty = ""', ''].join(
        '\n',
      ),
      stderr: '',
    });
    expect(await xs('xenstore-list', '/tool/t2')).toEqual({ code: 0, stdout: 'name\ndevice\nempty\n', stderr: '' });
    expect((await xs('xenstore-list', '/tool/t2/absent')).code).toBe(1);
  });

  it('xenstore-exists answers with its exit code', async () => {
    await xs('xenstore-write', '/tool/t3/here', 'x');
    expect(await xs('xenstore-exists', '/tool/t3/here')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await xs('xenstore-exists', '/tool/t3/gone')).code).toBe(1);
  });

  it('xenstore-rm removes a subtree', async () => {
    await xs('xenstore-write', '/tool/t4/a/b', '1', '/tool/t4/keep', '2');
    expect((await xs('xenstore-rm', '/tool/t4/a')).code).toBe(0);
    expect((await xs('xenstore-exists', '/tool/t4/a/b')).code).toBe(1);
    expect((await xs('xenstore-exists', '/tool/t4/a')).code).toBe(1);
    expect((await xs('xenstore-list', '/tool/t4')).stdout).toBe('keep\n');
  });

  it('xenstore-chmod sets permissions that xenstore-ls -p shows', async () => {
    await xs('xenstore-write', '/tool/t5/dev', 'x');
    expect((await xs('xenstore-chmod', '/tool/t5/dev', 'n5', 'r7')).code).toBe(0);
    const ls = await xs('xenstore-ls', '-p', '/tool/t5');
    expect(ls.code).toBe(0);
    // xenstore-ls pads with ". " so that permissions line up (80 columns when stdout is not a terminal).
    expect(ls.stdout).toBe(`dev = "x"  ${'. '.repeat(25)} (n5,r7)\n`);
  });

  it('xenstore-watch prints the watch path first, then each change', async () => {
    const w = spawnTool(sock, 'xenstore-watch', '-n', '2', '/tool/t6');
    await waitFor(() => w.lines.length >= 1, 5000, 'the initial watch event');
    expect((await xs('xenstore-write', '/tool/t6/x', '1')).code).toBe(0);
    expect(await w.exited).toBe(0);
    expect(w.lines).toEqual(['/tool/t6', '/tool/t6/x']);
  });

  it('shares one store with domains on NATS: each side sees the other', async () => {
    const nc: NatsConnection = await natsConnect({ servers: srv.url });
    const c = new XenstoreClient(nc, { domid: 0 });
    try {
      await c.write('/tool/t7/from-nats', 'n');
      expect((await xs('xenstore-read', '/tool/t7/from-nats')).stdout).toBe('n\n');
      const seen: string[] = [];
      await c.watch('/tool/t7', 'tok', (p) => seen.push(p));
      await xs('xenstore-write', '/tool/t7/from-socket', 's');
      await waitFor(() => seen.includes('/tool/t7/from-socket'));
      expect(await c.read('/tool/t7/from-socket')).toBe('s');
    } finally {
      await c.close();
      await nc.close();
    }
  });
});

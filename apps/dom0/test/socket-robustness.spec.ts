// A client that breaks the protocol loses its own connection; xenstored and every other client carry on.
import { connect, type Socket } from 'node:net';
import { startNatsServer, tempDir, waitFor, type NatsServerHandle } from '@dominion/testing';
import { bootDom0, spawnTool, tool, type Dom0 } from './harness.js';

function header(type: number, reqId: number, txId: number, len: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(type, 0);
  h.writeUInt32LE(reqId, 4);
  h.writeUInt32LE(txId, 8);
  h.writeUInt32LE(len, 12);
  return h;
}

async function open(path: string): Promise<{ sock: Socket; received: Buffer[]; closed: Promise<void> }> {
  const sock = connect(path);
  const received: Buffer[] = [];
  sock.on('data', (d: Buffer) => received.push(d));
  sock.on('error', () => undefined);
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  await new Promise<void>((r) => sock.once('connect', () => r()));
  return { sock, received, closed };
}

describe('xenstored socket: a bad client is dropped alone', () => {
  let srv: NatsServerHandle;
  let tmp: { path: string; remove(): void };
  let dom0: Dom0;
  let path: string;

  beforeAll(async () => {
    srv = await startNatsServer();
    tmp = tempDir('dom0-sock-');
    dom0 = await bootDom0(srv.url, tmp.path);
    path = dom0.svc.socketPath;
  });
  afterAll(async () => {
    await dom0.close();
    await srv.stop();
    tmp.remove();
  });

  it('drops a connection that announces a 5000-byte payload, while a watching stock tool keeps working', async () => {
    const watch = spawnTool(path, 'xenstore-watch', '-n', '2', '/robust');
    await waitFor(() => watch.lines.length === 1, 5000, 'xenstore-watch to register');

    const bad = await open(path);
    bad.sock.write(Buffer.concat([header(11 /* XS_WRITE */, 1, 0, 5000), Buffer.alloc(5000, 0x41)]));
    await bad.closed;
    expect(Buffer.concat(bad.received)).toHaveLength(0); // no reply: the stream cannot be trusted past that header

    expect((await tool(path, 'xenstore-write', '/robust/after', 'ok')).code).toBe(0);
    expect(await watch.exited).toBe(0);
    expect(watch.lines).toEqual(['/robust', '/robust/after']);
    expect((await tool(path, 'xenstore-read', '/robust/after')).stdout).toBe('ok\n');
  });

  it('applies a write framed before an oversized header in the same chunk, then drops the connection', async () => {
    const bad = await open(path);
    const write = Buffer.from('/robust/before\0kept');
    bad.sock.write(
      Buffer.concat([header(11 /* XS_WRITE */, 1, 0, write.length), write, header(11, 2, 0, 5000), Buffer.alloc(64)]),
    );
    await bad.closed;
    expect((await tool(path, 'xenstore-read', '/robust/before')).stdout).toBe('kept\n');
  });

  it('drops a connection sending garbage, and answers a well-framed unknown request with an error instead', async () => {
    const good = await open(path);
    const garbage = await open(path);
    garbage.sock.write(Buffer.from('GET / HTTP/1.1\r\nHost: xenstored\r\n\r\n'));
    await garbage.closed;

    // Framed correctly but meaningless: XS_ERROR ENOSYS, and the connection stays.
    good.sock.write(header(0x1234, 9, 0, 0));
    await waitFor(() => Buffer.concat(good.received).length >= 16 + 7);
    const reply = Buffer.concat(good.received);
    expect(reply.readUInt32LE(0)).toBe(16); // XS_ERROR
    expect(reply.readUInt32LE(4)).toBe(9);
    expect(reply.subarray(16).toString('latin1')).toBe('ENOSYS\0');
    good.received.length = 0;
    const read = Buffer.from('/robust/after\0');
    good.sock.write(Buffer.concat([header(2 /* XS_READ */, 10, 0, read.length), read]));
    await waitFor(() => Buffer.concat(good.received).length >= 16 + 2);
    expect(Buffer.concat(good.received).subarray(16).toString()).toBe('ok');
    good.sock.destroy();

    expect(dom0.svc.xenstored.ready).toBe(true);
    expect((await tool(path, 'xenstore-exists', '/robust/after')).code).toBe(0);
  });

  it('keeps serving while a client sends a request one byte at a time', async () => {
    const slow = await open(path);
    const read = Buffer.from('/robust/after\0');
    const msg = Buffer.concat([header(2, 11, 0, read.length), read]);
    for (const b of msg) {
      slow.sock.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => Buffer.concat(slow.received).length >= 18);
    expect(Buffer.concat(slow.received).subarray(16).toString()).toBe('ok');
    slow.sock.destroy();
  });
});

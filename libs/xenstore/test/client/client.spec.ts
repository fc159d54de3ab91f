import { connect, createInbox, headers, type NatsConnection } from '@nats-io/transport-node';
import { XS } from '@dominion/abi';
import { subjects } from '@dominion/bus';
import { NodeFileIO } from '@dominion/fsio';
import { startNatsServer, tempDir, waitFor, type NatsServerHandle } from '@dominion/testing';
import { XenstoreClient } from '../../src/client/index.js';
import {
  decodeXsMessage,
  encodeXsMessage,
  parseErrorReply,
  parseWatchEvent,
  xsRequest,
  type XsMessage,
  type XsRequest,
} from '../../src/wire/index.js';
import {
  Xenstored,
  XS_ERROR_MESSAGE_HEADER,
  XS_SESSION_HEADER,
  XS_SESSION_OPENED_HEADER,
  XsNatsTransport,
} from '../../src/xenstored/index.js';
import { XenstoreError } from '../../src/errors.js';

interface Daemon {
  xs: Xenstored;
  transport: XsNatsTransport;
  nc: NatsConnection;
  stop(): Promise<void>;
}

async function startDaemon(url: string, dir: string, leaseMs?: number): Promise<Daemon> {
  const xs = await Xenstored.open({ io: new NodeFileIO(), dir });
  const nc = await connect({ servers: url });
  const transport = new XsNatsTransport(xs, nc, { leaseMs });
  await transport.start();
  return {
    xs,
    transport,
    nc,
    stop: async () => {
      await transport.stop();
      await xs.close();
      await nc.close();
    },
  };
}

let reqId = 100;

/** One raw xs_wire request over NATS, as any client could send it. */
async function raw(
  nc: NatsConnection,
  caller: number | string,
  body: Uint8Array | XsRequest,
  opts: { session?: string; txId?: number } = {},
): Promise<{ reply: XsMessage; text: string; opened: boolean; message?: string }> {
  const h = headers();
  if (opts.session !== undefined) h.set(XS_SESSION_HEADER, opts.session);
  const data =
    body instanceof Uint8Array
      ? body
      : encodeXsMessage({ type: body.type, reqId: reqId++, txId: opts.txId ?? 0, payload: body.payload });
  const m = await nc.request(`xen.xs.${caller}`, data, { timeout: 5000, headers: h });
  const reply = decodeXsMessage(Buffer.from(m.data));
  const text = reply.type === XS.XS_ERROR ? `error ${parseErrorReply(reply)}` : reply.payload.toString('utf8');
  return {
    reply,
    text,
    opened: m.headers?.has(XS_SESSION_OPENED_HEADER) ?? false,
    message: m.headers?.get(XS_ERROR_MESSAGE_HEADER) || undefined,
  };
}

async function kindOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return e instanceof XenstoreError ? e.kind : `not a XenstoreError: ${String(e)}`;
  }
}

describe('XenStore over NATS', () => {
  let srv: NatsServerHandle;
  let tmp: { path: string; remove(): void };
  let d: Daemon;
  const conns: NatsConnection[] = [];
  const clients: XenstoreClient[] = [];

  async function bus(): Promise<NatsConnection> {
    const nc = await connect({ servers: srv.url });
    conns.push(nc);
    return nc;
  }
  async function client(domid: number, opts: { session?: string; maxTransactionAttempts?: number } = {}) {
    const c = new XenstoreClient(await bus(), { domid, ...opts });
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    srv = await startNatsServer();
    tmp = tempDir('xs-nats-');
    d = await startDaemon(srv.url, `${tmp.path}/xenstore`);
    const dom0 = await client(0);
    for (const domid of [5, 6]) {
      await dom0.introduce(domid, 0, 1);
      await dom0.mkdir(`/local/domain/${domid}`);
      await dom0.setPerms(`/local/domain/${domid}`, [{ domid, perm: 'n' }]);
    }
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const nc of conns) await nc.close();
    await d.stop();
    await srv.stop();
    tmp.remove();
  });

  it('reads, writes, lists, removes and sets permissions, with Xen error names naming the path', async () => {
    const c = await client(0);
    await c.write('/vm/abc/name', 'guest');
    expect(await c.read('/vm/abc/name')).toBe('guest');
    expect(await c.read('/vm/abc')).toBe(''); // a parent WRITE created
    await c.mkdir('/vm/abc/image');
    expect((await c.directory('/vm/abc')).sort()).toEqual(['image', 'name']);
    await c.setPerms('/vm/abc', ['n0', 'r5']);
    expect(await c.getPerms('/vm/abc')).toEqual([
      { perm: 'n', domid: 0 },
      { perm: 'r', domid: 5 },
    ]);
    expect(await c.exists('/vm/abc/image')).toBe(true);
    await c.rm('/vm/abc');
    expect(await c.exists('/vm/abc/image')).toBe(false);
    const err = await c.read('/vm/abc/name').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XenstoreError);
    expect(err).toMatchObject({ kind: 'ENOENT', message: expect.stringContaining('XS_READ /vm/abc/name') });
    // Refused before sending, as libxenstore does, with the same names xenstored would answer.
    expect(await kindOf(c.read('/nul\0inside'))).toBe('EINVAL');
    expect(await kindOf(c.write('/big', 'x'.repeat(5000)))).toBe('E2BIG');
    expect(await c.getDomainPath(5)).toBe('/local/domain/5');
    expect(await c.isDomainIntroduced(5)).toBe(true);
    expect(await c.isDomainIntroduced(9)).toBe(false);
  });

  it('fires a watch at once and on changes, after the WATCH reply, and stops after unwatch', async () => {
    const watcher = await client(0);
    const writer = await client(0);
    const seen: string[] = [];
    let replied = false;
    const order: string[] = [];
    await watcher.watch('/watched', 'tok', (path, token) => {
      order.push(replied ? 'event after reply' : 'event before reply');
      seen.push(`${path} ${token}`);
    });
    replied = true;
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual(['/watched tok']);
    await writer.write('/watched/a', '1');
    await waitFor(() => seen.length === 2);
    expect(seen[1]).toBe('/watched/a tok');
    expect(order).toEqual(['event after reply', 'event after reply']);

    await watcher.unwatch('/watched', 'tok');
    await writer.write('/watched/b', '2');
    await watcher.read('/watched/b'); // a round trip through xenstored after the write
    expect(seen).toHaveLength(2);
  });

  it('sends the WATCH reply before the first event on the wire, and a write reply before its event', async () => {
    const nc = await bus();
    const log: string[] = [];
    const inbox = createInbox();
    nc.subscribe(inbox, {
      callback: (_e, m) => {
        log.push(`reply ${decodeXsMessage(Buffer.from(m.data)).type}`);
      },
    });
    nc.subscribe(subjects.xsWatch(0, 'wire-order'), {
      callback: (_e, m) => {
        log.push(`event ${parseWatchEvent(decodeXsMessage(Buffer.from(m.data))).path}`);
      },
    });
    await nc.flush();
    const h = headers();
    h.set(XS_SESSION_HEADER, 'wire-order');
    const send = (r: XsRequest): void =>
      nc.publish(subjects.xs(0), encodeXsMessage({ type: r.type, reqId: 1, txId: 0, payload: r.payload }), {
        reply: inbox,
        headers: h,
      });
    send(xsRequest.watch('/order', 't'));
    await waitFor(() => log.length === 2);
    send(xsRequest.write('/order/x', 'v'));
    await waitFor(() => log.length === 4);
    expect(log).toEqual([`reply ${XS.XS_WATCH}`, 'event /order', `reply ${XS.XS_WRITE}`, 'event /order/x']);
    await raw(nc, 0, xsRequest.control('session-close'), { session: 'wire-order' });
  });

  it('fails a conflicting transaction with EAGAIN, and transaction() retries the whole function', async () => {
    const a = await client(0);
    const b = await client(0);
    await a.write('/tx/x', 'start');
    const t = await a.transactionStart();
    expect(await a.read('/tx/x', t)).toBe('start');
    await b.write('/tx/x', 'theirs');
    await a.write('/tx/x', 'mine', t);
    expect(await a.read('/tx/x')).toBe('theirs'); // outside the transaction, its write is invisible
    expect(await kindOf(a.transactionEnd(t))).toBe('EAGAIN');
    expect(await a.read('/tx/x')).toBe('theirs');

    await a.write('/tx/n', '100');
    let attempts = 0;
    const before = await a.transaction(async (tx) => {
      attempts++;
      const v = await tx.read('/tx/n');
      if (attempts === 1) await b.write('/tx/n', '200'); // someone else gets in first, once
      await tx.write('/tx/n', String(Number(v) + 1));
      return v;
    });
    expect(attempts).toBe(2);
    expect(before).toBe('200');
    expect(await a.read('/tx/n')).toBe('201');
  });

  it('gives up after maxTransactionAttempts conflicts with a clear EAGAIN', async () => {
    const a = await client(0, { maxTransactionAttempts: 3 });
    const b = await client(0);
    let attempts = 0;
    const err = await a
      .transaction(async (tx) => {
        attempts++;
        await tx.read('/tx/busy').catch(() => undefined);
        await b.write('/tx/busy', String(attempts));
        await tx.write('/tx/busy', 'never');
      })
      .catch((e: unknown) => e);
    expect(attempts).toBe(3);
    expect(err).toMatchObject({ kind: 'EAGAIN', message: expect.stringMatching(/after 3 attempts/) });
    expect(await a.read('/tx/busy')).toBe('3');
  });

  it('refuses an unprivileged domain on dom0-owned nodes while it works under its own home', async () => {
    const dom0 = await client(0);
    await dom0.write('/local/domain/0/secret', 's3cret');
    const g = await client(5);
    await g.write('/local/domain/5/data/x', '1');
    await g.write('data/rel', '2'); // relative to its home
    expect(await g.read('/local/domain/5/data/rel')).toBe('2');
    expect((await g.directory('/local/domain/5/data')).sort()).toEqual(['rel', 'x']);
    expect(await kindOf(g.read('/local/domain/0/secret'))).toBe('EACCES');
    expect(await kindOf(g.write('/local/domain/0/secret', 'mine'))).toBe('EACCES');
    expect(await kindOf(g.write('/local/domain/6/x', 'mine'))).toBe('EACCES');
    expect(await kindOf(g.introduce(9, 0, 1))).toBe('EACCES');
    expect(await dom0.read('/local/domain/0/secret')).toBe('s3cret');
    expect((await dom0.getPerms('/local/domain/5/data/x'))[0]).toEqual({ perm: 'n', domid: 5 });
  });

  it('scopes sessions to the caller: domain 5 cannot reach domain 6 session by its id', async () => {
    const six = await client(6, { session: 'shared-id' });
    const events6: string[] = [];
    await six.watch('/local/domain/6', 'w6', (p) => events6.push(p));
    const t6 = await six.transactionStart();
    expect(t6).toBe(1);

    const nc5 = await bus();
    const events5: string[] = [];
    nc5.subscribe(subjects.xsWatch(5, 'shared-id'), {
      callback: () => {
        events5.push('event');
      },
    });
    // Same id, but domain 5's own (new) session: no such watch, no such transaction.
    const unwatch = await raw(nc5, 5, xsRequest.unwatch('/local/domain/6', 'w6'), { session: 'shared-id' });
    expect(unwatch.text).toBe('error ENOENT');
    expect(unwatch.opened).toBe(true);
    expect((await raw(nc5, 5, xsRequest.read('/local/domain/5'), { session: 'shared-id', txId: t6 })).text).toBe(
      'error ENOENT',
    );

    const dom0 = await client(0);
    await dom0.write('/local/domain/6/x', 'hello');
    await waitFor(() => events6.includes('/local/domain/6/x'));
    await six.transactionEnd(t6, false); // domain 6's transaction was untouched
    await nc5.flush();
    expect(events5).toEqual([]); // domain 6's events went to xen.xs.watch.6.shared-id only
  });

  it('never answers onto a subject outside the caller inbox (a steered reply), while an inbox reply works', async () => {
    const attacker = await bus();
    const victim = await bus();
    const stolen: string[] = [];
    victim.subscribe(subjects.xsWatch(6, 'x'), {
      callback: (_e, m) => {
        stolen.push(m.subject);
      },
    });
    await victim.flush();
    const write = (payload: string) =>
      encodeXsMessage({ type: XS.XS_WRITE, reqId: reqId++, txId: 0, payload: Buffer.from(payload) });
    attacker.publish('xen.xs.5', write('/local/domain/5/steered\0yes'), { reply: subjects.xsWatch(6, 'x') });
    expect((await raw(attacker, 5, { type: XS.XS_WRITE, payload: Buffer.from('/local/domain/5/ok\0yes') })).text).toBe(
      'OK\0',
    );
    await victim.flush();
    expect(stolen).toEqual([]);
    const dom0 = await client(0);
    expect(await kindOf(dom0.read('/local/domain/5/steered'))).toBe('ENOENT'); // not run either
    expect(await dom0.read('/local/domain/5/ok')).toBe('yes');
  });

  it('answers a malformed request with an error and keeps serving', async () => {
    const nc = await bus();
    const garbage = await raw(nc, 0, Buffer.from('garbage'));
    expect(garbage.text).toBe('error EINVAL');
    expect(garbage.message).toMatch(/malformed xs_wire request/);
    const short = Buffer.alloc(16 + 3);
    short.writeUInt32LE(XS.XS_READ, 0);
    short.writeUInt32LE(66, 4);
    short.writeUInt32LE(10, 12); // promises 10 payload bytes, carries 3
    const truncated = await raw(nc, 0, short);
    expect(truncated.text).toBe('error EINVAL');
    expect(truncated.reply.reqId).toBe(66);

    const big = Buffer.alloc(16 + 5000);
    big.writeUInt32LE(XS.XS_WRITE, 0);
    big.writeUInt32LE(77, 4);
    big.writeUInt32LE(5000, 12);
    const oversize = await raw(nc, 0, big);
    expect(oversize.text).toBe('error E2BIG');
    expect(oversize.reply.reqId).toBe(77);

    const badSession = await raw(nc, 0, xsRequest.read('/'), { session: 'no spaces allowed' });
    expect(badSession.text).toBe('error EINVAL');
    expect(badSession.message).toMatch(/Xs-Session/);

    const watch = await raw(nc, 0, xsRequest.watch('/x', 't'));
    expect(watch.text).toBe('error EINVAL');
    expect(watch.message).toMatch(/XS_WATCH needs a session/);
    const tx = await raw(nc, 0, xsRequest.transactionStart());
    expect(tx.message).toMatch(/XS_TRANSACTION_START needs a session/);

    const noCaller = await raw(nc, 'watch', xsRequest.read('/'));
    expect(noCaller.text).toBe('error EINVAL');
    expect(noCaller.message).toMatch(/names no caller/);

    const notIntroduced = await raw(nc, 9, xsRequest.read('/'));
    expect(notIntroduced.text).toBe('error EACCES');
    expect(notIntroduced.message).toMatch(/domain 9 is not introduced/);

    // One-shot requests work without a session.
    expect((await raw(nc, 0, xsRequest.getDomainPath(3))).text).toBe('/local/domain/3\0');
    const c = await client(0);
    await c.write('/still/serving', 'yes');
    expect(await c.read('/still/serving')).toBe('yes');
  });

  it('ends the session on close(): its watches stop, and the client refuses further calls', async () => {
    const c = await client(0);
    const seen: string[] = [];
    await c.watch('/closing', 't', (p) => seen.push(p));
    await waitFor(() => seen.length === 1);
    const before = d.transport.sessionCount;
    await c.close();
    expect(d.transport.sessionCount).toBe(before - 1);
    const w = await client(0);
    await w.write('/closing/x', '1');
    await w.read('/closing/x');
    expect(seen).toEqual(['/closing']);
    expect(await kindOf(c.read('/closing'))).toBe('EINVAL');
  });

  it("ends a domain's sessions when the domain is released, and refuses it from then on", async () => {
    const dom0 = await client(0);
    await dom0.introduce(8, 0, 1);
    await dom0.mkdir('/local/domain/8');
    await dom0.setPerms('/local/domain/8', ['n8']);
    const g = await client(8);
    const seen: string[] = [];
    await g.watch('/local/domain/8', 'home', (p) => seen.push(p));
    const before = d.transport.sessionCount;
    const released: string[] = [];
    await dom0.watch('@releaseDomain', 'rel', (p) => released.push(p));
    await dom0.release(8);
    await waitFor(() => released.length === 2);
    expect(d.transport.sessionCount).toBe(before - 1); // domain 8's session ended
    expect(await kindOf(g.read('/local/domain/8'))).toBe('EACCES');
    expect(await dom0.exists('/local/domain/8')).toBe(false); // its nodes went with it
  });
});

describe('XenStore over NATS: session leases and xenstored restarts', () => {
  let srv: NatsServerHandle;
  let tmp: { path: string; remove(): void };
  let d: Daemon;
  const LEASE = 600;

  beforeAll(async () => {
    srv = await startNatsServer();
    tmp = tempDir('xs-lease-');
    d = await startDaemon(srv.url, `${tmp.path}/xenstore`, LEASE);
  });
  afterAll(async () => {
    await d.stop();
    await srv.stop();
    tmp.remove();
  });

  it('closes a session with no request for a lease, and a keepalive holds one open', async () => {
    const nc = await connect({ servers: srv.url });
    try {
      const first = await raw(nc, 0, xsRequest.watch('/lease', 't'), { session: 'idle' });
      expect(first).toMatchObject({ text: 'OK\0', opened: true });
      expect((await raw(nc, 0, xsRequest.read('/'), { session: 'idle' })).opened).toBe(false);

      const kept = new XenstoreClient(nc, { domid: 0, keepaliveMs: LEASE / 6 });
      const seen: string[] = [];
      await kept.watch('/kept', 't', (p) => seen.push(p));
      expect(d.transport.sessionCount).toBe(2);
      await waitFor(() => d.transport.sessionCount === 1, 5000, 'the idle session to expire');
      await new Promise((r) => setTimeout(r, LEASE * 2));
      expect(d.transport.sessionCount).toBe(1);
      expect((await raw(nc, 0, xsRequest.write('/kept/x', '1'))).text).toBe('OK\0');
      await waitFor(() => seen.includes('/kept/x'));
      // The expired session is gone with its watch: using the id again opens a new one.
      expect((await raw(nc, 0, xsRequest.unwatch('/lease', 't'), { session: 'idle' })).text).toBe('error ENOENT');
      await kept.close();
    } finally {
      await nc.close();
    }
  });

  it('re-registers its watches when xenstored restarted under it, and keeps the data', async () => {
    const nc = await connect({ servers: srv.url });
    // While xenstored is down the keepalives fail (no responders): expected, and kept out of the log.
    const downtime: unknown[] = [];
    const c = new XenstoreClient(nc, { domid: 0, keepaliveMs: 50, onError: (e) => downtime.push(e) });
    try {
      await c.write('/restart/before', 'kept');
      const seen: string[] = [];
      await c.watch('/restart', 'r', (p) => seen.push(p));
      await waitFor(() => seen.length === 1);

      await d.stop();
      d = await startDaemon(srv.url, `${tmp.path}/xenstore`, LEASE);
      // The keepalive finds its session gone and registers the watch again (which fires once more).
      await waitFor(() => seen.length === 2, 5000, 'the watch to be registered again');
      const other = await connect({ servers: srv.url });
      expect((await raw(other, 0, xsRequest.write('/restart/after', '1'))).text).toBe('OK\0');
      await other.close();
      await waitFor(() => seen.includes('/restart/after'));
      expect(seen).toEqual(['/restart', '/restart', '/restart/after']);
      expect(await c.read('/restart/before')).toBe('kept');
      for (const e of downtime)
        expect(e).toMatchObject({ kind: 'EIO', message: expect.stringMatching(/no service is listening/) });
    } finally {
      await c.close();
      await nc.close();
    }
  });
});

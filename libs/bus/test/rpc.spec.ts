import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, type NatsServerHandle } from '@dominion/testing';
import {
  BusError,
  busRequest,
  busServe,
  callerOf,
  inboxPrefixOf,
  replyAllowed,
  subjects,
  XEN_ERRNO_HEADER,
} from '../src/index.js';

describe('bus request/reply against a real nats-server', () => {
  let srv: NatsServerHandle;
  let nc: NatsConnection;
  const refused: string[] = [];
  let echoed = 0;
  beforeAll(async () => {
    srv = await startNatsServer();
    nc = await connect({ servers: srv.url });
    busServe(
      nc,
      subjects.hvAny('echo'),
      (body, ctx) => {
        echoed++;
        return { body, caller: ctx.caller };
      },
      { onRefusedReply: (caller, _s, reply) => refused.push(`${caller}:${reply}`) },
    );
    busServe(nc, subjects.hvAny('refuse'), (_b, ctx) => {
      if (ctx.caller !== 0) throw new BusError('EPERM', `domain ${ctx.caller} may not do this`);
      return 'ok';
    });
    busServe(nc, subjects.hvAny('explode'), () => {
      throw new Error('internal detail');
    });
    await nc.flush();
  });
  afterAll(async () => {
    await nc.close();
    await srv.stop();
  });

  it('takes the caller from the subject, not the body', async () => {
    const r = await busRequest<{ caller: number; body: unknown }>(nc, subjects.hv(7, 'echo'), { caller: 0 });
    expect(r).toEqual({ caller: 7, body: { caller: 0 } });
  });

  it('carries errors as a Xen-Errno header; the allowed caller succeeds beside the refused one', async () => {
    await expect(busRequest(nc, subjects.hv(0, 'refuse'))).resolves.toBe('ok');
    const err = await busRequest(nc, subjects.hv(3, 'refuse')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusError);
    expect(err).toMatchObject({ kind: 'EPERM', message: 'domain 3 may not do this' });
    const raw = await nc.request(subjects.hv(3, 'refuse'), new Uint8Array(0));
    expect(raw.headers?.get(XEN_ERRNO_HEADER)).toBe('EPERM');
  });

  it('fails a malformed request alone and keeps serving', async () => {
    const raw = await nc.request(subjects.hv(1, 'echo'), new TextEncoder().encode('{not json'));
    expect(raw.headers?.get(XEN_ERRNO_HEADER)).toBe('EINVAL');
    expect(raw.string()).toMatch(/xen\.hv\.1\.echo: body is not valid JSON/);
    await expect(busRequest(nc, subjects.hv(1, 'echo'), 5)).resolves.toEqual({ body: 5, caller: 1 });
  });

  it('maps an unexpected exception to EIO', async () => {
    await expect(busRequest(nc, subjects.hv(0, 'explode'))).rejects.toMatchObject({ kind: 'EIO' });
  });

  it('reports no listener as ECONNREFUSED', async () => {
    await expect(busRequest(nc, subjects.hv(0, 'nobody-serves-this'))).rejects.toMatchObject({ kind: 'ECONNREFUSED' });
  });

  it('without auth, answers any _INBOX reply but never one steered onto another subject', async () => {
    const victim = await connect({ servers: srv.url });
    try {
      let stolen = 0;
      victim.subscribe(subjects.virq(6), {
        callback: () => {
          stolen++;
        },
      });
      await victim.flush();
      const before = echoed;
      nc.publish(subjects.hv(5, 'echo'), new TextEncoder().encode('1'), { reply: subjects.virq(6) });
      // The default `_INBOX.` prefix works beside it (auth off: no per-domain inboxes).
      await expect(busRequest(nc, subjects.hv(5, 'echo'), 2)).resolves.toEqual({ body: 2, caller: 5 });
      await victim.flush();
      expect(stolen).toBe(0);
      expect(echoed).toBe(before + 1);
      expect(refused).toContain(`5:${subjects.virq(6)}`);
    } finally {
      await victim.close();
    }
  });
});

describe('bus replies on a server that requires auth', () => {
  let srv: NatsServerHandle;
  let svc: NatsConnection;
  const token = 'bus-spec-token';
  beforeAll(async () => {
    srv = await startNatsServer({ args: ['--auth', token] });
    svc = await connect({ servers: srv.url, token });
    busServe(svc, subjects.hvAny('echo'), (body, ctx) => ({ body, caller: ctx.caller }));
    await svc.flush();
  });
  afterAll(async () => {
    await svc.close();
    await srv.stop();
  });

  it("answers only into the caller's own inbox", async () => {
    const dom5 = await connect({ servers: srv.url, token, inboxPrefix: inboxPrefixOf(5) });
    const plain = await connect({ servers: srv.url, token });
    try {
      await expect(busRequest(dom5, subjects.hv(5, 'echo'), 1)).resolves.toEqual({ body: 1, caller: 5 });
      // dom5's inbox is not dom6's, and the default _INBOX is nobody's once the server authenticates.
      await expect(busRequest(dom5, subjects.hv(6, 'echo'), 1, { timeoutMs: 300 })).rejects.toMatchObject({
        kind: 'ETIMEDOUT',
      });
      await expect(busRequest(plain, subjects.hv(5, 'echo'), 1, { timeoutMs: 300 })).rejects.toMatchObject({
        kind: 'ETIMEDOUT',
      });
    } finally {
      await dom5.close();
      await plain.close();
    }
  });
});

describe('replyAllowed', () => {
  it('accepts the caller inbox in both modes, any _INBOX only without auth, never a wildcard', () => {
    expect(replyAllowed(5, '_INBOX.dom5.abc', true)).toBe(true);
    expect(replyAllowed(5, '_INBOX.dom5.abc', false)).toBe(true);
    expect(replyAllowed(5, '_INBOX.dom6.abc', true)).toBe(false);
    expect(replyAllowed(5, '_INBOX.dom55.abc', true)).toBe(false);
    expect(replyAllowed(5, '_INBOX.abc', true)).toBe(false);
    expect(replyAllowed(5, '_INBOX.abc', false)).toBe(true);
    expect(replyAllowed(5, 'xen.virq.6', false)).toBe(false);
    expect(replyAllowed(5, '_INBOX.dom5.>', true)).toBe(false);
    expect(replyAllowed(5, undefined, false)).toBe(false);
    expect(inboxPrefixOf(0x7ff2)).toBe('_INBOX.xen');
  });
});

describe('callerOf', () => {
  it('parses token 3 as a domid and rejects everything else', () => {
    expect(callerOf('xen.hv.0.createdomain')).toBe(0);
    expect(callerOf('xen.xs.32751')).toBe(32751);
    expect(callerOf('xen.xs.32752')).toBeUndefined(); // DOMID_SELF and above are not real domains
    expect(callerOf('xen.hv.007.x')).toBeUndefined();
    expect(callerOf('xen.hv.-1.x')).toBeUndefined();
    expect(callerOf('xen.hv')).toBeUndefined();
  });
});

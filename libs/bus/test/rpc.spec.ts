import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, type NatsServerHandle } from '@dominion/testing';
import { BusError, busRequest, busServe, callerOf, subjects, XEN_ERRNO_HEADER } from '../src/index.js';

describe('bus request/reply against a real nats-server', () => {
  let srv: NatsServerHandle;
  let nc: NatsConnection;
  beforeAll(async () => {
    srv = await startNatsServer();
    nc = await connect({ servers: srv.url });
    busServe(nc, subjects.hvAny('echo'), (body, ctx) => ({ body, caller: ctx.caller }));
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

import { DOMID, EVTCHNSTAT, VIRQ } from '@dominion/abi';
import type { Hypervisor } from '../src/hypervisor.js';
import { create, failure, makeHv } from './helpers.js';

const SELF: number = DOMID.DOMID_SELF;

function alloc(hv: Hypervisor, caller: number, remote: number, dom = SELF): number {
  return (hv.hypercall(caller, 'evtchn_alloc_unbound', { dom, remote_dom: remote }).result as { port: number }).port;
}
function bind(hv: Hypervisor, caller: number, remote: number, port: number): number {
  return (
    hv.hypercall(caller, 'evtchn_bind_interdomain', { remote_dom: remote, remote_port: port }).result as {
      local_port: number;
    }
  ).local_port;
}
function status(hv: Hypervisor, dom: number, port: number): unknown {
  return hv.hypercall(0, 'evtchn_status', { dom, port }).result;
}

describe('event channels', () => {
  it('alloc_unbound offers a port to one domain; bind_interdomain makes both ends interdomain', () => {
    const { hv } = makeHv();
    const fe = create(hv, 'fe');
    const be = create(hv, 'be');
    const { result, effects } = hv.hypercall(fe, 'evtchn_alloc_unbound', { dom: SELF, remote_dom: be });
    expect(result).toEqual({ port: 1 }); // port 0 is reserved
    expect(effects.portChanges).toEqual([
      { dom: fe, port: 1, status: EVTCHNSTAT.EVTCHNSTAT_unbound, state: 'unbound', vcpu: 0, unbound: { dom: be } },
    ]);
    expect(status(hv, fe, 1)).toEqual({ dom: fe, port: 1, status: 1, state: 'unbound', vcpu: 0, unbound: { dom: be } });

    const b = hv.hypercall(be, 'evtchn_bind_interdomain', { remote_dom: fe, remote_port: 1 });
    expect(b.result).toEqual({ local_port: 1 });
    // Both ends are announced to their owners.
    expect(b.effects.portChanges).toEqual([
      { dom: be, port: 1, status: 2, state: 'interdomain', vcpu: 0, interdomain: { dom: fe, port: 1 } },
      { dom: fe, port: 1, status: 2, state: 'interdomain', vcpu: 0, interdomain: { dom: be, port: 1 } },
    ]);
    expect(status(hv, fe, 1)).toMatchObject({
      status: EVTCHNSTAT.EVTCHNSTAT_interdomain,
      interdomain: { dom: be, port: 1 },
    });
  });

  it('bind_interdomain to a port not offered to the caller, or not unbound, is EINVAL; the offered domain succeeds', () => {
    const { hv } = makeHv();
    const fe = create(hv, 'fe');
    const be = create(hv, 'be');
    const evil = create(hv, 'evil');
    const p = alloc(hv, fe, be);
    expect(failure(() => bind(hv, evil, fe, p))).toMatchObject({
      kind: 'EINVAL',
      message: `evtchn_bind_interdomain: port ${p} of domain ${fe} is offered to domain ${be}, not ${evil}`,
    });
    expect(failure(() => bind(hv, be, fe, p + 1))).toMatchObject({
      kind: 'EINVAL',
      message: expect.stringMatching(/is closed, not unbound/),
    });
    expect(failure(() => bind(hv, be, fe, 5000)).message).toMatch(/port 5000 is not valid for domain 1 \(1\.\.1023\)/);
    expect(failure(() => bind(hv, be, 99, p)).kind).toBe('ESRCH');
    bind(hv, be, fe, p);
    // Now interdomain: a second bind, even by the right domain, is EINVAL.
    expect(failure(() => bind(hv, be, fe, p)).message).toMatch(/is interdomain, not unbound/);
  });

  it('close returns the remote end to unbound, offered back to the closer; closing a closed port is EINVAL', () => {
    const { hv } = makeHv();
    const fe = create(hv, 'fe');
    const be = create(hv, 'be');
    const fp = alloc(hv, fe, be);
    const bp = bind(hv, be, fe, fp);
    const { effects } = hv.hypercall(be, 'evtchn_close', { port: bp });
    expect(effects.portChanges).toEqual([
      { dom: fe, port: fp, status: 1, state: 'unbound', vcpu: 0, unbound: { dom: be } },
      { dom: be, port: bp, status: 0, state: 'closed', vcpu: 0 },
    ]);
    expect(status(hv, be, bp)).toMatchObject({ state: 'closed', status: 0 });
    expect(failure(() => hv.hypercall(be, 'evtchn_close', { port: bp }))).toMatchObject({
      kind: 'EINVAL',
      message: `evtchn_close: port ${bp} of domain ${be} is not open`,
    });
    // The backend can bind the same frontend port again (a reconnect).
    expect(bind(hv, be, fe, fp)).toBe(bp);
  });

  it('status: of my own ports for anyone, of others only for the control domain; port 0 reads closed', () => {
    const { hv } = makeHv();
    const a = create(hv, 'a');
    const b = create(hv, 'b');
    const p = alloc(hv, a, b);
    expect(hv.hypercall(a, 'evtchn_status', { dom: SELF, port: p }).result).toMatchObject({ state: 'unbound' });
    expect(failure(() => hv.hypercall(b, 'evtchn_status', { dom: a, port: p })).kind).toBe('EPERM');
    expect(hv.hypercall(a, 'evtchn_status', { dom: SELF, port: 0 }).result).toMatchObject({ state: 'closed' });
    expect(failure(() => hv.hypercall(a, 'evtchn_status', { dom: SELF, port: 1024 })).kind).toBe('EINVAL');
  });

  it('alloc_unbound for another domain needs the control domain (how dom0 makes a guest xenstore port)', () => {
    const { hv } = makeHv();
    const g = create(hv, 'g');
    const other = create(hv, 'other');
    expect(failure(() => alloc(hv, other, 0, g)).kind).toBe('EPERM');
    const p = alloc(hv, 0, 0, g);
    expect(status(hv, g, p)).toMatchObject({ dom: g, state: 'unbound', unbound: { dom: 0 } });
    expect(failure(() => alloc(hv, 0, 0, 77)).kind).toBe('ESRCH');
  });

  it('a domain has at most max_event_channels ports: ENOSPC beyond, and a freed port is reused', () => {
    const { hv } = makeHv();
    const g = create(hv, 'g', { max_event_channels: 3 });
    expect([alloc(hv, g, 0), alloc(hv, g, 0), alloc(hv, g, 0)]).toEqual([1, 2, 3]);
    expect(failure(() => alloc(hv, g, 0))).toMatchObject({
      kind: 'ENOSPC',
      message: `domain ${g} has no free event channel (max_event_channels 3)`,
    });
    hv.hypercall(g, 'evtchn_close', { port: 2 });
    expect(alloc(hv, g, 0)).toBe(2);
  });

  it('send: interdomain reaches the peer port, unbound is silently dropped, closed or VIRQ is EINVAL', () => {
    const { hv } = makeHv();
    const a = create(hv, 'a');
    const b = create(hv, 'b');
    const ap = alloc(hv, a, b);
    expect(hv.hypercall(a, 'evtchn_send', { port: ap }).effects.notifications).toEqual([]);
    const bp = bind(hv, b, a, ap);
    expect(hv.hypercall(b, 'evtchn_send', { port: bp }).effects.notifications).toEqual([{ dst: a, port: ap, src: b }]);
    expect(failure(() => hv.hypercall(b, 'evtchn_send', { port: bp + 1 })).message).toMatch(/is closed/);
    const vp = (hv.hypercall(0, 'evtchn_bind_virq', { virq: VIRQ.VIRQ_DOM_EXC }).result as { port: number }).port;
    expect(failure(() => hv.hypercall(0, 'evtchn_send', { port: vp })).message).toMatch(/is virq/);
  });

  it('global VIRQs are bound by their handler (dom0) once: EBUSY for others, EEXIST twice, free again after close', () => {
    const { hv } = makeHv();
    const g = create(hv, 'g');
    expect(failure(() => hv.hypercall(g, 'evtchn_bind_virq', { virq: VIRQ.VIRQ_DOM_EXC }))).toMatchObject({
      kind: 'EBUSY',
      message: 'evtchn_bind_virq: VIRQ 3 is global and handled by domain 0, not 1',
    });
    const { result, effects } = hv.hypercall(0, 'evtchn_bind_virq', { virq: VIRQ.VIRQ_DOM_EXC });
    const port = (result as { port: number }).port;
    expect(effects.portChanges).toEqual([
      { dom: 0, port, status: EVTCHNSTAT.EVTCHNSTAT_virq, state: 'virq', vcpu: 0, virq: 3 },
    ]);
    expect(failure(() => hv.hypercall(0, 'evtchn_bind_virq', { virq: VIRQ.VIRQ_DOM_EXC })).kind).toBe('EEXIST');
    expect(failure(() => hv.hypercall(0, 'evtchn_bind_virq', { virq: VIRQ.VIRQ_CONSOLE, vcpu: 1 })).message).toMatch(
      /vCPU 0 only/,
    );
    hv.hypercall(0, 'evtchn_close', { port });
    expect(hv.hypercall(g, 'shutdown', { reason: 'crash' }).effects.virqs).toEqual([]);
    hv.hypercall(0, 'evtchn_bind_virq', { virq: VIRQ.VIRQ_DOM_EXC });
    // Per-vCPU VIRQs are any domain's own.
    expect(hv.hypercall(g, 'evtchn_bind_virq', { virq: VIRQ.VIRQ_TIMER }).result).toEqual({ port: 1 });
    expect(failure(() => hv.hypercall(g, 'evtchn_bind_virq', { virq: VIRQ.VIRQ_TIMER, vcpu: 1 })).message).toMatch(
      /has no vCPU 1/,
    );
  });

  it('destroying a domain closes its ports: the peers return to unbound and are told', () => {
    const { hv } = makeHv();
    const fe = create(hv, 'fe');
    const be = create(hv, 'be');
    const fp = alloc(hv, fe, be);
    const bp = bind(hv, be, fe, fp);
    const other = alloc(hv, be, 0);
    const { effects } = hv.hypercall(0, 'destroydomain', { domid: fe });
    expect(effects.portChanges).toEqual([
      { dom: be, port: bp, status: 1, state: 'unbound', vcpu: 0, unbound: { dom: fe } },
      { dom: fe, port: fp, status: 0, state: 'closed', vcpu: 0 },
    ]);
    expect(status(hv, be, bp)).toMatchObject({ state: 'unbound', unbound: { dom: fe } });
    expect(status(hv, be, other)).toMatchObject({ state: 'unbound', unbound: { dom: 0 } });
  });
});

describe('evtchn_reset', () => {
  it('closes every port of the caller, leaving peers unbound, so a restarted service can bind its VIRQ again', () => {
    const { hv } = makeHv();
    const fe = create(hv, 'fe');
    const fp = alloc(hv, fe, 0);
    const dp = bind(hv, 0, fe, fp);
    hv.hypercall(0, 'evtchn_bind_virq', { virq: VIRQ.VIRQ_DOM_EXC });
    // A restarted dom0 cannot bind the global VIRQ twice...
    expect(failure(() => hv.hypercall(0, 'evtchn_bind_virq', { virq: VIRQ.VIRQ_DOM_EXC })).kind).toBe('EEXIST');
    hv.hypercall(0, 'evtchn_reset', { dom: SELF });
    expect(status(hv, 0, dp)).toMatchObject({ state: 'closed' });
    expect(status(hv, fe, fp)).toMatchObject({ state: 'unbound', unbound: { dom: 0 } });
    // ...until it has reset its table.
    expect(hv.hypercall(0, 'evtchn_bind_virq', { virq: VIRQ.VIRQ_DOM_EXC }).result).toMatchObject({
      port: expect.any(Number),
    });
  });

  it('resetting another domain needs the control domain', () => {
    const { hv } = makeHv();
    const a = create(hv, 'a');
    const b = create(hv, 'b');
    const p = alloc(hv, a, b);
    expect(failure(() => hv.hypercall(b, 'evtchn_reset', { dom: a })).kind).toBe('EPERM');
    expect(status(hv, a, p)).toMatchObject({ state: 'unbound' });
    hv.hypercall(0, 'evtchn_reset', { dom: a });
    expect(status(hv, a, p)).toMatchObject({ state: 'closed' });
  });
});

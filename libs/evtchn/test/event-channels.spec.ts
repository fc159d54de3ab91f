import { VIRQ } from '@dominion/abi';
import { BusError } from '@dominion/bus';
import { waitFor } from '@dominion/testing';
import { EvtchnError } from '../src/index.js';
import { World, type Dom } from './world.js';

describe('EventChannels on a real nats-server', () => {
  let w: World;
  beforeAll(async () => {
    w = await World.start();
  });
  afterAll(() => w.stop());

  let n = 0;
  /** A frontend and a backend joined by an interdomain channel, as a split driver does it. */
  async function pair(): Promise<{ fe: Dom; be: Dom; fp: number; bp: number }> {
    const fe = await w.guest(`fe${++n}`);
    const be = await w.guest(`be${n}`);
    const fp = await fe.ec.allocUnbound(be.domid);
    expect(fe.ec.port(fp)).toEqual({ state: 'unbound', remoteDom: be.domid });
    const bp = await be.ec.bindInterdomain(fe.domid, fp);
    expect(be.ec.port(bp)).toEqual({ state: 'interdomain', remoteDom: fe.domid, remotePort: fp });
    // The frontend learns of the bind from the hypervisor's push.
    await waitFor(() => fe.ec.port(fp)?.state === 'interdomain', 5000, 'the frontend to see its port bound');
    expect(fe.ec.port(fp)).toEqual({ state: 'interdomain', remoteDom: be.domid, remotePort: bp });
    return { fe, be, fp, bp };
  }

  it('notifies both ways over an interdomain channel', async () => {
    const { fe, be, fp, bp } = await pair();
    const got: string[] = [];
    fe.ec.on(fp, (p) => got.push(`fe:${p}`));
    be.ec.on(bp, (p) => {
      got.push(`be:${p}`);
      be.ec.notify(bp);
    });
    fe.ec.notify(fp);
    await waitFor(() => got.length === 2, 5000, 'the round trip');
    expect(got).toEqual([`be:${bp}`, `fe:${fp}`]);
    expect(be.ec.counters).toMatchObject({ accepted: 1, dropped: 0, sent: 1 });
  });

  it('drops notifications from the wrong source, on unbound ports and malformed ones, and still takes the legitimate one', async () => {
    const { fe, be, fp, bp } = await pair();
    const third = await w.guest(`third${n}`);
    const spare = await fe.ec.allocUnbound(third.domid); // unbound: nothing may arrive on it
    const got: number[] = [];
    fe.ec.on(fp, (p) => got.push(p));
    fe.ec.on(spare, (p) => got.push(p));
    const raw = third.nc;
    raw.publish(`xen.evtchn.${fe.domid}.${fp}.${third.domid}`); // wrong source
    raw.publish(`xen.evtchn.${fe.domid}.${spare}.${third.domid}`); // unbound port
    raw.publish(`xen.evtchn.${fe.domid}.999.${third.domid}`); // closed port
    raw.publish(`xen.evtchn.${fe.domid}.0${fp}.${be.domid}`); // not a port number this library sends
    raw.publish(`xen.evtchn.${fe.domid}.${fp}.${be.domid}.x`);
    // A forged `xen.evtchn.<fe>.<fp>.<be>` from `third` would be accepted: only the bus's per-domain
    // publish permissions (operator mode) can refuse it, which is not this library's to enforce.
    be.ec.notify(bp);
    await waitFor(() => fe.ec.counters.dropped === 5 && got.length === 1, 5000, 'five drops and one delivery');
    expect(got).toEqual([fp]);
    expect(fe.ec.counters).toMatchObject({
      accepted: 1,
      dropped: 5,
      droppedWrongSource: 1,
      droppedNotBound: 2,
      droppedMalformed: 2,
    });
  });

  it('send: unbound is silently dropped, a closed, unknown or VIRQ port is EINVAL', async () => {
    const a = await w.guest(`a${++n}`);
    const p = await a.ec.allocUnbound(0);
    expect(() => a.ec.notify(p)).not.toThrow();
    expect(a.ec.counters.sendDropped).toBe(1);
    expect(() => a.ec.notify(p + 1)).toThrow(
      new EvtchnError('EINVAL', `notify: port ${p + 1} of domain ${a.domid} is not open`),
    );
    await a.ec.close(p);
    expect(() => a.ec.notify(p)).toThrow(EvtchnError);
    await expect(a.ec.close(p)).rejects.toMatchObject({
      kind: 'EINVAL',
      message: expect.stringMatching(/is not open/),
    });
    await expect(a.ec.close(p)).rejects.toBeInstanceOf(BusError);
    const vp = await a.ec.bindVirq(VIRQ.VIRQ_TIMER, () => undefined);
    expect(() => a.ec.notify(vp)).toThrow(/is virq/);
  });

  it('close: the peer returns to unbound, its sends are then dropped, and late events to the closer are dropped', async () => {
    const { fe, be, fp, bp } = await pair();
    await be.ec.close(bp);
    expect(be.ec.port(bp)).toBeUndefined();
    await waitFor(() => fe.ec.port(fp)?.state === 'unbound', 5000, 'the frontend port back to unbound');
    expect(fe.ec.port(fp)).toEqual({ state: 'unbound', remoteDom: be.domid });
    fe.ec.notify(fp);
    expect(fe.ec.counters).toMatchObject({ sent: 0, sendDropped: 1 });
    // Something still aiming at the closed port is refused on arrival.
    be.nc.publish(`xen.evtchn.${be.domid}.${bp}.${fe.domid}`);
    await waitFor(() => be.ec.counters.droppedNotBound === 1, 5000, 'the drop');
    // The backend reconnects to the same frontend port.
    const bp2 = await be.ec.bindInterdomain(fe.domid, fp);
    await waitFor(() => fe.ec.port(fp)?.state === 'interdomain', 5000, 'the rebind');
    let hits = 0;
    be.ec.on(bp2, () => hits++);
    fe.ec.notify(fp);
    await waitFor(() => hits === 1, 5000, 'the event after the rebind');
  });

  it('keeps an event that arrives before a handler pending, and delivers it once', async () => {
    const { fe, be, fp, bp } = await pair();
    be.ec.notify(bp);
    be.ec.notify(bp);
    await waitFor(() => fe.ec.counters.accepted === 2, 5000, 'the events');
    let hits = 0;
    fe.ec.on(fp, () => hits++);
    await new Promise((r) => setTimeout(r, 20));
    expect(hits).toBe(1);
  });

  it('learns of a port the control domain allocated on its behalf', async () => {
    const g = await w.guest(`g${++n}`);
    const p = await w.dom0.hv.evtchnAllocUnbound(0, g.domid);
    await waitFor(() => g.ec.port(p)?.state === 'unbound', 5000, 'the push');
    expect(g.ec.port(p)).toEqual({ state: 'unbound', remoteDom: 0 });
    const dp = await w.dom0.ec.bindInterdomain(g.domid, p);
    await waitFor(() => g.ec.port(p)?.state === 'interdomain', 5000, 'the bind');
    let hits = 0;
    g.ec.on(p, () => hits++);
    w.dom0.ec.notify(dp);
    await waitFor(() => hits === 1, 5000, 'the event');
  });

  it('delivers VIRQ_DOM_EXC to the handler dom0 bound, and refuses it to a guest (EBUSY)', async () => {
    const seen: number[] = [];
    const port = await w.dom0.ec.bindVirq(VIRQ.VIRQ_DOM_EXC, (p) => seen.push(p));
    const g = await w.guest(`dying${++n}`);
    await expect(g.ec.bindVirq(VIRQ.VIRQ_DOM_EXC, () => undefined)).rejects.toMatchObject({ kind: 'EBUSY' });
    await g.hv.shutdown('poweroff');
    await waitFor(() => seen.length === 1, 5000, 'VIRQ_DOM_EXC');
    expect(seen).toEqual([port]);
    await w.dom0.hv.destroyDomain(g.domid);
    await waitFor(() => seen.length === 2, 5000, 'VIRQ_DOM_EXC for the destruction');
    await w.dom0.ec.close(port);
  });
});

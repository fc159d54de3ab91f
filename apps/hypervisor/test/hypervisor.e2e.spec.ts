// The hypervisor service (the real Nest module, in-process) on a real nats-server, driven by domains that
// use HypervisorClient and EventChannels over their own connections.
import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { VIRQ, type DomId } from '@dominion/abi';
import { BusError, XEN_ERRNO_HEADER, subjects } from '@dominion/bus';
import { EventChannels } from '@dominion/evtchn';
import { HypervisorClient, domainStateString, type DomainInfo } from '@dominion/hypervisor';
import { startNatsServer, waitFor, type NatsServerHandle } from '@dominion/testing';
import { HypervisorModule } from '../src/hypervisor.module.js';

interface Dom {
  domid: DomId;
  nc: NatsConnection;
  hv: HypervisorClient;
  ec: EventChannels;
}

describe('hypervisor service', () => {
  let srv: NatsServerHandle;
  let app: INestApplicationContext;
  const conns: NatsConnection[] = [];
  let dom0: Dom;

  async function attach(domid: DomId): Promise<Dom> {
    const nc = await connect({ servers: srv.url, name: `d${domid}` });
    conns.push(nc);
    const hv = new HypervisorClient(nc, domid);
    return { domid, nc, hv, ec: new EventChannels(nc, domid, hv) };
  }
  async function guest(name: string): Promise<Dom> {
    const domid = await dom0.hv.createDomain({ name, target_memkb: 128 * 1024 });
    await dom0.hv.unpauseDomain(domid);
    return attach(domid);
  }

  beforeAll(async () => {
    srv = await startNatsServer();
    const mod = await Test.createTestingModule({
      imports: [
        HypervisorModule.forRoot({
          env: {
            DOMINION_NATS_URL: srv.url,
            DOMINION_LOG_LEVEL: 'silent',
            DOMINION_HV_MEMORY_MIB: '4096',
            DOMINION_HV_DOM0_MEMORY_MIB: '512',
            DOMINION_HV_CPUS: '2',
            // A short deadline for the liveness test; long enough for a loaded machine's scheduling jitter.
            DOMINION_HV_HEARTBEAT_MS: '100',
            DOMINION_HV_DEADLINE_MS: '1500',
          },
        }),
      ],
    }).compile();
    app = await mod.init();
    dom0 = await attach(0);
  });
  afterAll(async () => {
    for (const nc of conns) await nc.close();
    await app?.close();
    await srv?.stop();
  });

  it('serves physinfo from its configuration', async () => {
    expect(await dom0.hv.physinfo()).toMatchObject({ nr_cpus: 2, total_memkb: 4096 * 1024 });
  });

  it('mints no credentials when the bus runs without auth (no DOMINION_IDENTITY_DIR)', async () => {
    const r = await dom0.hv.call('createdomain', { name: 'no-auth', target_memkb: 65536 });
    expect(r).toEqual({ domid: r.domid });
    await dom0.hv.destroyDomain(r.domid);
  });

  it('lets two domains bind an interdomain channel and notify each other; a third one is dropped', async () => {
    const fe = await guest('fe');
    const be = await guest('be');
    const third = await guest('third');
    const fp = await fe.ec.allocUnbound(be.domid);
    const bp = await be.ec.bindInterdomain(fe.domid, fp);
    await waitFor(() => fe.ec.port(fp)?.state === 'interdomain', 5000, 'the frontend to see the bind');

    const atFe: number[] = [];
    const atBe: number[] = [];
    fe.ec.on(fp, (p) => atFe.push(p));
    be.ec.on(bp, (p) => {
      atBe.push(p);
      be.ec.notify(bp); // answer
    });
    // The third domain aims at both ends with its own id, and at an unbound port of the frontend.
    const unbound = await fe.ec.allocUnbound(third.domid);
    third.nc.publish(subjects.evtchn(be.domid, bp, third.domid));
    third.nc.publish(subjects.evtchn(fe.domid, fp, third.domid));
    third.nc.publish(subjects.evtchn(fe.domid, unbound, third.domid));
    // Forging `xen.evtchn.<be>.<bp>.<fe>` is refused only by the bus's per-domain publish permissions
    // (operator mode, a later step); the library cannot tell a forged subject from a real one.
    fe.ec.notify(fp);

    await waitFor(
      () => atFe.length === 1 && fe.ec.counters.dropped === 2 && be.ec.counters.dropped === 1,
      5000,
      'the round trip and the drops',
    );
    expect(atBe).toEqual([bp]);
    expect(atFe).toEqual([fp]);
    expect(be.ec.counters).toMatchObject({ accepted: 1, droppedWrongSource: 1 });
    expect(fe.ec.counters).toMatchObject({ accepted: 1, droppedWrongSource: 1, droppedNotBound: 1 });
    // The hypervisor's own record of the channel agrees.
    expect(await dom0.hv.evtchnStatus(fp, fe.domid)).toMatchObject({
      state: 'interdomain',
      interdomain: { dom: be.domid, port: bp },
    });
  });

  it('refuses a guest control hypercalls with EPERM in the Xen-Errno header, beside dom0 doing them', async () => {
    const g = await guest('meek');
    const req = { name: 'sneaky', target_memkb: 1024 };
    const raw = await g.nc.request(
      subjects.hv(g.domid, 'createdomain'),
      new TextEncoder().encode(JSON.stringify(req)),
      { timeout: 5000 },
    );
    expect(raw.headers?.get(XEN_ERRNO_HEADER)).toBe('EPERM');
    expect(raw.string()).toBe(
      `createdomain: domain ${g.domid} may not create domain "sneaky": it is not the control domain`,
    );
    await expect(g.hv.destroyDomain(0)).rejects.toMatchObject({ kind: 'EPERM' });
    await expect(g.hv.listDomains()).rejects.toBeInstanceOf(BusError);
    // The same requests from dom0 succeed.
    const id = await dom0.hv.createDomain(req);
    expect((await dom0.hv.listDomains()).map((d) => d.name)).toContain('sneaky');
    await dom0.hv.destroyDomain(id);
    // And the guest may still look at itself.
    expect(await g.hv.getDomainInfo()).toMatchObject({ domid: g.domid, name: 'meek', privilege: 'guest' });
  });

  it('fails a malformed request alone: EINVAL or ESRCH for it, service unharmed', async () => {
    const bad = await dom0.nc.request(subjects.hv(0, 'createdomain'), new TextEncoder().encode('{"name": '), {
      timeout: 5000,
    });
    expect(bad.headers?.get(XEN_ERRNO_HEADER)).toBe('EINVAL');
    const ghost = await dom0.nc.request(subjects.hv(4242, 'heartbeat'), new TextEncoder().encode('{"cpu_time":1}'), {
      timeout: 5000,
    });
    expect(ghost.headers?.get(XEN_ERRNO_HEADER)).toBe('ESRCH');
    await expect(dom0.hv.createDomain({ name: 'too-big', target_memkb: 8 * 1024 * 1024 })).rejects.toMatchObject({
      kind: 'ENOMEM',
      message: expect.stringMatching(/^createdomain "too-big": 8388608 KiB requested, \d+ KiB free$/),
    });
    expect((await dom0.hv.physinfo()).nr_cpus).toBe(2);
  });

  it('raises VIRQ_DOM_EXC to dom0 when a domain shuts down, and on its destruction', async () => {
    const seen: number[] = [];
    const port = await dom0.ec.bindVirq(VIRQ.VIRQ_DOM_EXC, (p) => seen.push(p));
    const rawVirqs: unknown[] = [];
    const sub = dom0.nc.subscribe(subjects.virq(0), { callback: (_e, m) => void rawVirqs.push(m.json()) });
    await dom0.nc.flush();
    const g = await guest('leaver');
    await g.hv.shutdown('poweroff');
    await waitFor(() => seen.length === 1, 5000, 'VIRQ_DOM_EXC');
    expect(rawVirqs).toEqual([{ virq: VIRQ.VIRQ_DOM_EXC, port }]);
    expect(domainStateString(await dom0.hv.getDomainInfo(g.domid))).toBe('---s--');
    await dom0.hv.destroyDomain(g.domid);
    await waitFor(() => seen.length === 2, 5000, 'VIRQ_DOM_EXC on destroy');
    sub.unsubscribe();
    await dom0.ec.close(port);
  });

  it('declares a domain that stops heartbeating crashed, and tells dom0', async () => {
    const seen: number[] = [];
    const port = await dom0.ec.bindVirq(VIRQ.VIRQ_DOM_EXC, (p) => seen.push(p));
    const g = await guest('flaky');
    const beating = g.hv.startHeartbeat();
    await waitFor(
      async () => (await dom0.hv.getDomainInfo(g.domid)).last_heartbeat !== undefined,
      5000,
      'a first heartbeat',
    );
    // Alive well past the deadline while it beats.
    await new Promise((r) => setTimeout(r, 1800));
    expect(await dom0.hv.getDomainInfo(g.domid)).toMatchObject({ shutdown: false });
    beating.stop();
    const info = await waitFor(
      async () => {
        const i = await dom0.hv.getDomainInfo(g.domid);
        return i.shutdown ? i : undefined;
      },
      10_000,
      'the crash',
    );
    expect(domainStateString(info as DomainInfo)).toBe('---sc-');
    await waitFor(() => seen.length === 1, 5000, 'VIRQ_DOM_EXC');
    expect(await dom0.hv.dmesg()).toEqual(
      expect.arrayContaining([expect.stringMatching(/domain "flaky" crashed: no heartbeat for/)]),
    );
    await dom0.ec.close(port);
  });
});

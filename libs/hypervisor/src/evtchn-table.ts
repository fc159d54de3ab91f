// Event channels (xen/common/event_channel.c): per-domain port tables, interdomain binding, VIRQs.
// Callers have done the privilege checks; these functions enforce the port-state rules and record every
// port whose state changes, so that the owning domain can be told.
import { EVTCHNSTAT, VIRQ, VIRQ_GLOBAL, type DomId, type EvtchnPort } from '@dominion/abi';
import type { Channel, Domain } from './domain.js';
import { HypervisorError } from './errors.js';
import type { Effects, NotifyEffect } from './effects.js';
import type { EvtchnStatus } from './hypercalls.js';

/** NR_VIRQS. */
export const NR_VIRQS = 24;

export type VirqType = 'global' | 'domain' | 'vcpu';
export function virqType(virq: number): VirqType {
  if (VIRQ_GLOBAL.has(virq)) return 'global';
  return virq === VIRQ.VIRQ_ARGO ? 'domain' : 'vcpu';
}

export function evtchnStatusOf(dom: DomId, port: EvtchnPort, ch: Channel | undefined): EvtchnStatus {
  const base = { dom, port, vcpu: 0 };
  if (!ch) return { ...base, status: EVTCHNSTAT.EVTCHNSTAT_closed, state: 'closed' };
  switch (ch.state) {
    case 'unbound':
      return { ...base, status: EVTCHNSTAT.EVTCHNSTAT_unbound, state: 'unbound', unbound: { dom: ch.remoteDom } };
    case 'interdomain':
      return {
        ...base,
        status: EVTCHNSTAT.EVTCHNSTAT_interdomain,
        state: 'interdomain',
        interdomain: { dom: ch.remoteDom, port: ch.remotePort },
      };
    case 'virq':
      return { ...base, vcpu: ch.vcpu, status: EVTCHNSTAT.EVTCHNSTAT_virq, state: 'virq', virq: ch.virq };
  }
}

export class EvtchnTable {
  constructor(
    private readonly lookup: (domid: DomId) => Domain | undefined,
    private readonly fx: () => Effects,
    /** The domain global VIRQs go to (Xen: the hardware domain unless set otherwise). */
    private readonly globalVirqHandler: () => DomId,
  ) {}

  /** EVTCHNOP_alloc_unbound: a new port of `d` that only `remoteDom` may bind. */
  allocUnbound(d: Domain, remoteDom: DomId): EvtchnPort {
    const port = this.freePort(d);
    this.set(d, port, { state: 'unbound', remoteDom });
    return port;
  }

  /** EVTCHNOP_bind_interdomain: `ld` binds `rd`'s unbound port offered to it. */
  bindInterdomain(ld: Domain, rd: Domain, remotePort: EvtchnPort): EvtchnPort {
    this.checkPort(rd, remotePort, 'evtchn_bind_interdomain');
    const rch = rd.ports.get(remotePort);
    if (!rch || rch.state !== 'unbound')
      throw new HypervisorError(
        'EINVAL',
        `evtchn_bind_interdomain: port ${remotePort} of domain ${rd.domid} is ${rch?.state ?? 'closed'}, not unbound`,
      );
    if (rch.remoteDom !== ld.domid)
      throw new HypervisorError(
        'EINVAL',
        `evtchn_bind_interdomain: port ${remotePort} of domain ${rd.domid} is offered to domain ${rch.remoteDom}, not ${ld.domid}`,
      );
    const lport = this.freePort(ld);
    this.set(ld, lport, { state: 'interdomain', remoteDom: rd.domid, remotePort });
    this.set(rd, remotePort, { state: 'interdomain', remoteDom: ld.domid, remotePort: lport });
    return lport;
  }

  /** EVTCHNOP_close: the remote end of an interdomain channel returns to unbound, offered back to `d`. */
  close(d: Domain, port: EvtchnPort): void {
    this.checkPort(d, port, 'evtchn_close');
    const ch = d.ports.get(port);
    if (!ch) throw new HypervisorError('EINVAL', `evtchn_close: port ${port} of domain ${d.domid} is not open`);
    if (ch.state === 'interdomain') {
      const rd = this.lookup(ch.remoteDom);
      const rch = rd?.ports.get(ch.remotePort);
      if (rd && rch?.state === 'interdomain' && rch.remoteDom === d.domid && rch.remotePort === port)
        this.set(rd, ch.remotePort, { state: 'unbound', remoteDom: d.domid });
    } else if (ch.state === 'virq') {
      d.virqPorts.delete(virqKey(ch.virq, ch.vcpu));
    }
    this.set(d, port, undefined);
  }

  /** Closes every port of a dying domain. */
  closeAll(d: Domain): void {
    for (const port of [...d.ports.keys()]) this.close(d, port);
  }

  status(d: Domain, port: EvtchnPort): EvtchnStatus {
    // Port 0 is reserved and reads as closed, as in Xen.
    if (port !== 0) this.checkPort(d, port, 'evtchn_status');
    return evtchnStatusOf(d.domid, port, d.ports.get(port));
  }

  /** EVTCHNOP_bind_virq. A global VIRQ is bound only by its handler domain, on vCPU 0. */
  bindVirq(d: Domain, virq: number, vcpu: number): EvtchnPort {
    if (!Number.isInteger(virq) || virq < 0 || virq >= NR_VIRQS)
      throw new HypervisorError('EINVAL', `evtchn_bind_virq: no VIRQ ${virq} (0..${NR_VIRQS - 1})`);
    const type = virqType(virq);
    if (type !== 'vcpu' && vcpu !== 0)
      throw new HypervisorError(
        'EINVAL',
        `evtchn_bind_virq: VIRQ ${virq} is ${type}, bound on vCPU 0 only (got ${vcpu})`,
      );
    if (type === 'global' && this.globalVirqHandler() !== d.domid)
      throw new HypervisorError(
        'EBUSY',
        `evtchn_bind_virq: VIRQ ${virq} is global and handled by domain ${this.globalVirqHandler()}, not ${d.domid}`,
      );
    if (vcpu >= d.vcpus)
      throw new HypervisorError('EINVAL', `evtchn_bind_virq: domain ${d.domid} has no vCPU ${vcpu} (${d.vcpus} vCPUs)`);
    const key = virqKey(virq, vcpu);
    const bound = d.virqPorts.get(key);
    if (bound !== undefined)
      throw new HypervisorError(
        'EEXIST',
        `evtchn_bind_virq: VIRQ ${virq} is already bound to port ${bound} of domain ${d.domid}`,
      );
    const port = this.freePort(d);
    this.set(d, port, { state: 'virq', virq, vcpu });
    d.virqPorts.set(key, port);
    return port;
  }

  /** Raises `virq` (global VIRQs to their handler domain); nothing happens if no one bound it. */
  raiseVirq(virq: number, target?: Domain, vcpu = 0): void {
    const d = virqType(virq) === 'global' ? this.lookup(this.globalVirqHandler()) : target;
    const port = d?.virqPorts.get(virqKey(virq, vcpu));
    if (d && port !== undefined) this.fx().virqs.push({ domid: d.domid, virq, port });
  }

  /** EVTCHNOP_send: interdomain -> the peer's port; unbound -> silently dropped; anything else -> EINVAL. */
  send(d: Domain, port: EvtchnPort): NotifyEffect | undefined {
    this.checkPort(d, port, 'evtchn_send');
    const ch = d.ports.get(port);
    if (ch?.state === 'unbound') return undefined;
    if (ch?.state !== 'interdomain')
      throw new HypervisorError('EINVAL', `evtchn_send: port ${port} of domain ${d.domid} is ${ch?.state ?? 'closed'}`);
    const n = { dst: ch.remoteDom, port: ch.remotePort, src: d.domid };
    this.fx().notifications.push(n);
    return n;
  }

  private checkPort(d: Domain, port: EvtchnPort, op: string): void {
    if (!Number.isInteger(port) || port < 1 || port > d.maxEvtchnPort)
      throw new HypervisorError(
        'EINVAL',
        `${op}: port ${port} is not valid for domain ${d.domid} (1..${d.maxEvtchnPort})`,
      );
  }

  /** get_free_port: the lowest free port. */
  private freePort(d: Domain): EvtchnPort {
    for (let p = 1; p <= d.maxEvtchnPort; p++) if (!d.ports.has(p)) return p;
    throw new HypervisorError(
      'ENOSPC',
      `domain ${d.domid} has no free event channel (max_event_channels ${d.maxEvtchnPort})`,
    );
  }

  private set(d: Domain, port: EvtchnPort, ch: Channel | undefined): void {
    if (ch) d.ports.set(port, ch);
    else d.ports.delete(port);
    this.fx().portChanges.push(evtchnStatusOf(d.domid, port, ch));
  }
}

function virqKey(virq: number, vcpu: number): string {
  return `${virq}/${vcpu}`;
}

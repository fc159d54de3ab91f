// A domain's event channels. The hypervisor owns the port table (alloc_unbound, bind_interdomain, close,
// bind_virq are hypercalls); a notification travels peer to peer on `xen.evtchn.<dst>.<port>.<src>` with an
// empty body, never through the hypervisor. The receiver accepts it only if <port> is, in the state the
// hypervisor confirmed, an interdomain port bound to <src>; anything else is dropped and counted.
//
// The local view of the port table changes only from the hypervisor's port-state pushes on
// `xen.evtchn.<me>.ctl`. The hypervisor publishes a call's pushes before its reply on its one connection, so
// the view is current when the hypercall returns; if a push is ever missing, the reply fills the gap.
//
// Identity: <src> in the subject is what NATS permissions vouch for once the bus runs in operator mode (a
// domain may publish only `xen.evtchn.*.*.<itself>`). Until then a domain can forge another's <src>, and
// nothing on the receiving side can tell.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { DomId, EvtchnPort } from '@dominion/abi';
import { decodeJson, EVTCHN_CTL_TOKEN, subjects } from '@dominion/bus';
import type { EvtchnStatus, HypervisorClient, VirqEvent } from '@dominion/hypervisor';
import { EvtchnError } from './errors.js';
import { parseDecimal } from './parse.js';

export type PortHandler = (port: EvtchnPort) => void;

/** The local view of one open port. Replaced, never mutated, when its state changes. */
export interface PortView {
  readonly state: 'unbound' | 'interdomain' | 'virq';
  /** unbound: who may bind it; interdomain: the peer. */
  readonly remoteDom?: DomId;
  readonly remotePort?: EvtchnPort;
  readonly virq?: number;
}

interface PortRecord extends PortView {
  readonly notifySubject?: string;
}

export interface EvtchnCounters {
  /** Notifications accepted (delivered, or left pending until a handler is set). */
  accepted: number;
  /** Every notification dropped, whatever the reason. */
  dropped: number;
  /** ... because the port is not an interdomain port of this domain. */
  droppedNotBound: number;
  /** ... because the port is bound to another domain than the subject's <src>. */
  droppedWrongSource: number;
  /** ... because the subject or body was not one this library sends. */
  droppedMalformed: number;
  /** Notifications published. */
  sent: number;
  /** notify() on an unbound port: silently dropped, as Xen does. */
  sendDropped: number;
  /** VIRQs delivered. */
  virqs: number;
}

export interface EventChannelsOptions {
  /** A port handler threw. */
  onHandlerError?: (e: unknown, port: EvtchnPort) => void;
}

const EMPTY = new Uint8Array(0);

export class EventChannels {
  readonly counters: EvtchnCounters = {
    accepted: 0,
    dropped: 0,
    droppedNotBound: 0,
    droppedWrongSource: 0,
    droppedMalformed: 0,
    sent: 0,
    sendDropped: 0,
    virqs: 0,
  };
  private readonly ports = new Map<EvtchnPort, PortRecord>();
  private readonly handlers = new Map<EvtchnPort, PortHandler>();
  private readonly pending = new Set<EvtchnPort>();
  private readonly prefixLen: number;
  private readonly inbox: Subscription;
  private virqSub?: Subscription;

  constructor(
    private readonly nc: NatsConnection,
    readonly domid: DomId,
    private readonly hv: HypervisorClient,
    private readonly opts: EventChannelsOptions = {},
  ) {
    const inbox = subjects.evtchnInbox(domid);
    this.prefixLen = inbox.length - 1; // 'xen.evtchn.<me>.'
    this.inbox = nc.subscribe(inbox, {
      callback: (err, m) => {
        if (!err) this.onInbox(m.subject, m.data);
      },
    });
  }

  /** EVTCHNOP_alloc_unbound: a port of mine that `remoteDom` may bind. */
  async allocUnbound(remoteDom: DomId): Promise<EvtchnPort> {
    const port = await this.hv.evtchnAllocUnbound(remoteDom);
    if (!this.ports.has(port)) this.setPort(port, { state: 'unbound', remoteDom });
    return port;
  }

  /** EVTCHNOP_bind_interdomain: binds `remoteDom`'s unbound port offered to me; returns my end. */
  async bindInterdomain(remoteDom: DomId, remotePort: EvtchnPort): Promise<EvtchnPort> {
    const port = await this.hv.evtchnBindInterdomain(remoteDom, remotePort);
    if (!this.ports.has(port)) this.setPort(port, { state: 'interdomain', remoteDom, remotePort });
    return port;
  }

  /** EVTCHNOP_close. The peer's end returns to unbound; my handler for the port goes. */
  async close(port: EvtchnPort): Promise<void> {
    const before = this.ports.get(port);
    await this.hv.evtchnClose(port);
    if (before && this.ports.get(port) === before) this.setPort(port, undefined);
  }

  /**
   * EVTCHNOP_reset on myself: a restarted service starts from a clean table (its previous incarnation's
   * ports, VIRQ bindings included, are closed; peers' ends return to unbound).
   */
  async reset(): Promise<void> {
    await this.hv.evtchnReset();
    for (const port of [...this.ports.keys()]) this.setPort(port, undefined);
  }

  /** EVTCHNOP_bind_virq, delivering to `handler`. */
  async bindVirq(virq: number, handler: PortHandler): Promise<EvtchnPort> {
    this.virqSub ??= this.nc.subscribe(subjects.virq(this.domid), {
      callback: (err, m) => {
        if (!err) this.onVirq(m.data);
      },
    });
    const port = await this.hv.evtchnBindVirq(virq);
    if (!this.ports.has(port)) this.setPort(port, { state: 'virq', virq });
    this.on(port, handler);
    return port;
  }

  /**
   * Sets the handler of an open port (one per port, as one irq per port). An event that arrived while the
   * port had no handler is pending, as Xen's pending bit, and is delivered now (once). Returns the unset.
   */
  on(port: EvtchnPort, handler: PortHandler): () => void {
    if (!this.ports.has(port)) throw new EvtchnError('EINVAL', `on: port ${port} of domain ${this.domid} is not open`);
    this.handlers.set(port, handler);
    if (this.pending.delete(port)) queueMicrotask(() => this.deliver(port));
    return () => {
      if (this.handlers.get(port) === handler) this.handlers.delete(port);
    };
  }

  /**
   * EVTCHNOP_send, peer to peer: an interdomain port notifies its peer; an unbound port drops the event
   * silently; a closed, invalid or VIRQ port is EINVAL.
   */
  notify(port: EvtchnPort): void {
    const rec = this.ports.get(port);
    if (rec?.notifySubject !== undefined) {
      this.nc.publish(rec.notifySubject, EMPTY);
      this.counters.sent++;
      return;
    }
    if (rec?.state === 'unbound') {
      this.counters.sendDropped++;
      return;
    }
    throw new EvtchnError('EINVAL', `notify: port ${port} of domain ${this.domid} is ${rec ? rec.state : 'not open'}`);
  }

  /** The hypervisor-confirmed state of a port, as this domain last heard it. */
  port(port: EvtchnPort): PortView | undefined {
    const r = this.ports.get(port);
    return r && { state: r.state, remoteDom: r.remoteDom, remotePort: r.remotePort, virq: r.virq };
  }

  /** Stops receiving (the ports stay open in the hypervisor). */
  dispose(): void {
    this.inbox.unsubscribe();
    this.virqSub?.unsubscribe();
  }

  private onInbox(subject: string, data: Uint8Array): void {
    // xen.evtchn.<me>.<port>.<src> or xen.evtchn.<me>.ctl
    const dot = subject.indexOf('.', this.prefixLen);
    if (dot < 0) {
      if (subject.length - this.prefixLen === EVTCHN_CTL_TOKEN.length && subject.endsWith(EVTCHN_CTL_TOKEN))
        this.onCtl(data);
      else this.drop('droppedMalformed');
      return;
    }
    const port = parseDecimal(subject, this.prefixLen, dot);
    const src = parseDecimal(subject, dot + 1, subject.length);
    if (port < 0 || src < 0) return this.drop('droppedMalformed');
    const rec = this.ports.get(port);
    if (rec?.state !== 'interdomain') return this.drop('droppedNotBound');
    if (rec.remoteDom !== src) return this.drop('droppedWrongSource');
    this.counters.accepted++;
    this.deliver(port);
  }

  private onCtl(data: Uint8Array): void {
    let st: EvtchnStatus;
    try {
      st = decodeJson(data, 'evtchn ctl') as EvtchnStatus;
    } catch {
      return this.drop('droppedMalformed');
    }
    if (st?.dom !== this.domid || !Number.isInteger(st.port)) return this.drop('droppedMalformed');
    switch (st.state) {
      case 'closed':
        return this.setPort(st.port, undefined);
      case 'unbound':
        return this.setPort(st.port, { state: 'unbound', remoteDom: st.unbound?.dom });
      case 'interdomain':
        return this.setPort(st.port, {
          state: 'interdomain',
          remoteDom: st.interdomain?.dom,
          remotePort: st.interdomain?.port,
        });
      case 'virq':
        return this.setPort(st.port, { state: 'virq', virq: st.virq });
      default:
        return this.drop('droppedMalformed');
    }
  }

  private onVirq(data: Uint8Array): void {
    let v: VirqEvent;
    try {
      v = decodeJson(data, 'virq') as VirqEvent;
    } catch {
      return this.drop('droppedMalformed');
    }
    const rec = this.ports.get(v?.port);
    if (rec?.state !== 'virq' || rec.virq !== v.virq) return this.drop('droppedNotBound');
    this.counters.virqs++;
    this.deliver(v.port);
  }

  private setPort(port: EvtchnPort, view: PortView | undefined): void {
    if (!view) {
      this.ports.delete(port);
      this.handlers.delete(port);
      this.pending.delete(port);
      return;
    }
    const notifySubject =
      view.state === 'interdomain' && view.remoteDom !== undefined && view.remotePort !== undefined
        ? subjects.evtchn(view.remoteDom, view.remotePort, this.domid)
        : undefined;
    this.ports.set(port, { ...view, notifySubject });
  }

  private deliver(port: EvtchnPort): void {
    const h = this.handlers.get(port);
    if (!h) {
      this.pending.add(port);
      return;
    }
    try {
      h(port);
    } catch (e) {
      this.opts.onHandlerError?.(e, port);
    }
  }

  private drop(why: 'droppedNotBound' | 'droppedWrongSource' | 'droppedMalformed'): void {
    this.counters[why]++;
    this.counters.dropped++;
  }
}

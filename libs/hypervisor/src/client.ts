// A domain's side of the hypercall ABI: typed calls over busRequest on `xen.hv.<me>.<op>`. Failures
// arrive as BusError with the errno the hypervisor returned (EPERM, ESRCH, EINVAL, ENOMEM ...).
import type { NatsConnection } from '@nats-io/transport-node';
import { DOMID, type DomId, type EvtchnPort, type ShutdownReason } from '@dominion/abi';
import { busRequest, subjects, type BusRequestOptions } from '@dominion/bus';
import type { DomainInfo } from './domain-info.js';
import type {
  CreateDomainArgs,
  EvtchnStatus,
  HeartbeatResult,
  HypercallArgs,
  HypercallName,
  HypercallResult,
  PhysInfo,
  ReportExitArgs,
} from './hypercalls.js';

export interface HeartbeatOptions {
  /** Cumulative CPU seconds of this domain (default: this process's user + system time). */
  cpuTime?: () => number;
  /** Told once when the hypervisor says this domain is shut down (e.g. declared crashed). */
  onShutdown?: (reason: ShutdownReason | undefined) => void;
  onError?: (e: unknown) => void;
}

export class HypervisorClient {
  constructor(
    private readonly nc: NatsConnection,
    readonly domid: DomId,
    private readonly opts: BusRequestOptions = {},
  ) {}

  call<Op extends HypercallName>(op: Op, args: HypercallArgs<Op>): Promise<HypercallResult<Op>> {
    return busRequest<HypercallResult<Op>>(this.nc, subjects.hv(this.domid, op), args, this.opts);
  }

  async createDomain(a: CreateDomainArgs): Promise<DomId> {
    return (await this.call('createdomain', a)).domid;
  }
  async destroyDomain(domid: DomId): Promise<void> {
    await this.call('destroydomain', { domid });
  }
  async pauseDomain(domid: DomId): Promise<void> {
    await this.call('pausedomain', { domid });
  }
  async unpauseDomain(domid: DomId): Promise<void> {
    await this.call('unpausedomain', { domid });
  }
  /** Shuts this domain down, or (control domain) another one. */
  async shutdown(reason: ShutdownReason, domid?: DomId): Promise<void> {
    await this.call('shutdown', domid === undefined ? { reason } : { domid, reason });
  }
  getDomainInfo(domid: DomId = DOMID.DOMID_SELF): Promise<DomainInfo> {
    return this.call('getdomaininfo', { domid }) as Promise<DomainInfo>;
  }
  listDomains(): Promise<DomainInfo[]> {
    return this.call('getdomaininfo', {}) as Promise<DomainInfo[]>;
  }
  async setMaxMem(domid: DomId, max_memkb: number): Promise<void> {
    await this.call('setmaxmem', { domid, max_memkb });
  }
  async setTarget(domid: DomId, target_memkb: number): Promise<void> {
    await this.call('settarget', { domid, target_memkb });
  }
  schedCredit(domid: DomId, set: { weight?: number; cap?: number } = {}): Promise<{ weight: number; cap: number }> {
    return this.call('sched_credit', { domid, ...set });
  }
  physinfo(): Promise<PhysInfo> {
    return this.call('physinfo', {});
  }
  async dmesg(clear = false): Promise<string[]> {
    return (await this.call('dmesg', clear ? { clear } : {})).lines;
  }
  heartbeat(cpu_time: number): Promise<HeartbeatResult> {
    return this.call('heartbeat', { cpu_time });
  }
  /** Dominion's setdomainname (control domain only; EEXIST when another domain has the name). */
  async setDomainName(domid: DomId, name: string): Promise<void> {
    await this.call('setdomainname', { domid, name });
  }
  /** XEN_DOMCTL_setdomainhandle (control domain only). */
  async setDomainHandle(domid: DomId, uuid: string): Promise<void> {
    await this.call('setdomainhandle', { domid, uuid });
  }
  /** Dominion's getdomainkey: the user nkey (`U…`) `domid` logs in and signs its ring proofs with. */
  async getDomainKey(domid: DomId): Promise<string> {
    return (await this.call('getdomainkey', { domid })).key;
  }
  /** Control domain: a domain's process exited (the launcher's signal); the domain is crashed. */
  async reportExit(a: ReportExitArgs): Promise<void> {
    await this.call('reportexit', a);
  }

  async evtchnAllocUnbound(remote_dom: DomId, dom: DomId = DOMID.DOMID_SELF): Promise<EvtchnPort> {
    return (await this.call('evtchn_alloc_unbound', { dom, remote_dom })).port;
  }
  async evtchnBindInterdomain(remote_dom: DomId, remote_port: EvtchnPort): Promise<EvtchnPort> {
    return (await this.call('evtchn_bind_interdomain', { remote_dom, remote_port })).local_port;
  }
  async evtchnClose(port: EvtchnPort): Promise<void> {
    await this.call('evtchn_close', { port });
  }
  evtchnStatus(port: EvtchnPort, dom: DomId = DOMID.DOMID_SELF): Promise<EvtchnStatus> {
    return this.call('evtchn_status', { dom, port });
  }
  async evtchnBindVirq(virq: number, vcpu = 0): Promise<EvtchnPort> {
    return (await this.call('evtchn_bind_virq', vcpu ? { virq, vcpu } : { virq })).port;
  }
  async evtchnReset(dom: DomId = DOMID.DOMID_SELF): Promise<void> {
    await this.call('evtchn_reset', { dom });
  }
  /** EVTCHNOP_send through the hypervisor (the slow path; EventChannels.notify publishes directly). */
  async evtchnSend(port: EvtchnPort): Promise<void> {
    await this.call('evtchn_send', { port });
  }

  /**
   * Beats now and then at the interval the hypervisor asks for, until stopped. The timer does not keep the
   * process alive.
   */
  startHeartbeat(opts: HeartbeatOptions = {}): { stop(): void } {
    const cpuTime =
      opts.cpuTime ??
      (() => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1e6;
      });
    let stopped = false;
    let told = false;
    let timer: NodeJS.Timeout | undefined;
    const beat = async (): Promise<void> => {
      let next = 1000;
      try {
        const r = await this.heartbeat(cpuTime());
        next = r.beat_ms;
        if (r.shutdown && !told) {
          told = true;
          opts.onShutdown?.(r.shutdown_reason);
        }
      } catch (e) {
        opts.onError?.(e);
      }
      if (!stopped) {
        timer = setTimeout(() => void beat(), next);
        timer.unref();
      }
    };
    void beat();
    return {
      stop: () => {
        stopped = true;
        if (timer) clearTimeout(timer);
      },
    };
  }
}

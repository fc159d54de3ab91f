// The hypervisor engine: domain table and lifecycle, memory accounting, privileges, event channels, VIRQs,
// liveness and the console ring. Pure: it takes a clock, returns results and effects, and does no I/O.
//
// Privileges are Xen's default XSM policy: only the control domain (dom0) creates, destroys, pauses and
// unpauses domains, sets their memory and scheduling, reads physinfo and the console, shuts down or inspects
// OTHER domains and allocates ports on their behalf. A domain may shut itself down, read its own info and
// manage its own ports. The privilege check comes before the target lookup, so an unprivileged caller gets
// EPERM whether or not the domain it named exists (it cannot probe the domain table).
import { randomUUID } from 'node:crypto';
import {
  DOMID,
  EVTCHN_FIFO_NR_CHANNELS,
  MAX_EVENT_CHANNELS_DEFAULT,
  SHUTDOWN,
  SHUTDOWN_REASONS,
  VIRQ,
  shutdownCode,
  type DomId,
  type EvtchnPort,
} from '@dominion/abi';
import { ArgReader } from './args.js';
import { systemClock, type Clock } from './clock.js';
import { ConsoleRing, DMESG_RING_BYTES } from './dmesg.js';
import type { Domain } from './domain.js';
import { DOMAIN_TYPES, type DomainInfo } from './domain-info.js';
import { DomidAllocator, DOMID_QUARANTINE_MS } from './domid-allocator.js';
import { noEffects, type Effects } from './effects.js';
import { HypervisorError } from './errors.js';
import { EvtchnTable, NR_VIRQS } from './evtchn-table.js';
import type { HostConfig } from './host.js';
import type {
  CreateDomainArgs,
  DmesgArgs,
  DomainKeyResult,
  EvtchnAllocUnboundArgs,
  EvtchnBindInterdomainArgs,
  EvtchnBindVirqArgs,
  EvtchnPortArgs,
  EvtchnStatus,
  EvtchnStatusArgs,
  HeartbeatArgs,
  HeartbeatResult,
  HypercallName,
  PhysInfo,
  ReportExitArgs,
  SchedCreditArgs,
  SetMaxMemArgs,
  SetTargetArgs,
  ShutdownArgs,
} from './hypercalls.js';
import { isHypercallName } from './hypercalls.js';
import { DEFAULT_LIVENESS, isRunning, type LivenessConfig } from './liveness.js';

export interface HypervisorOptions {
  host: HostConfig;
  liveness?: Partial<LivenessConfig>;
  clock?: Clock;
  /** Size of the console ring, bytes. */
  dmesgBytes?: number;
  domidQuarantineMs?: number;
  newUuid?: () => string;
  /**
   * The user key of a domain's current incarnation (getdomainkey), from whoever minted it (apps/hypervisor's
   * identities). Absent: the bus runs without auth and getdomainkey answers ENOSYS.
   */
  domainKey?: (domid: DomId) => string | undefined;
}

export interface HypercallOutcome {
  result: unknown;
  effects: Effects;
}

export const DOM0_NAME = 'Domain-0';
const DOM0_UUID = '00000000-0000-0000-0000-000000000000';
const MAX_VCPUS = 128;
const MAX_MEMKB = 2 ** 40; // 1 PiB, far beyond any host
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Domain ids in arguments: a real id or DOMID_SELF. */
const DOMID_ARG_MAX = DOMID.DOMID_SELF;

type Empty = Record<string, never>;
const EMPTY: Empty = {};

export class Hypervisor {
  readonly liveness: LivenessConfig;
  readonly host: HostConfig;
  private readonly clock: Clock;
  private readonly domains = new Map<DomId, Domain>();
  private readonly domids: DomidAllocator;
  private readonly conring: ConsoleRing;
  private readonly evtchn: EvtchnTable;
  private readonly newUuid: () => string;
  private readonly domainKey?: (domid: DomId) => string | undefined;
  private fx: Effects = noEffects();

  constructor(opts: HypervisorOptions) {
    this.host = opts.host;
    this.clock = opts.clock ?? systemClock;
    this.liveness = { ...DEFAULT_LIVENESS, ...opts.liveness };
    this.newUuid = opts.newUuid ?? randomUUID;
    this.domainKey = opts.domainKey;
    this.domids = new DomidAllocator({ quarantineMs: opts.domidQuarantineMs ?? DOMID_QUARANTINE_MS });
    const now = this.clock.now();
    this.conring = new ConsoleRing(opts.dmesgBytes ?? DMESG_RING_BYTES, now);
    this.evtchn = new EvtchnTable(
      (id) => this.domains.get(id),
      () => this.fx,
      () => 0,
    );
    const dom0Kb = Math.min(opts.host.dom0MemoryKiB, opts.host.totalMemoryKiB);
    this.domains.set(0, {
      ...this.blankDomain(0, DOM0_NAME, DOM0_UUID, now),
      privilege: 'control',
      currentKb: dom0Kb,
      maxKb: dom0Kb,
      vcpus: Math.max(1, opts.host.dom0Vcpus),
      pauseCount: 0,
    });
    this.log(`Dominion hypervisor: ${this.host.nrCpus} CPUs, ${kib(this.host.totalMemoryKiB)} for domains`);
    this.log(`d0: Domain-0 built: ${kib(dom0Kb)}, ${Math.max(1, opts.host.dom0Vcpus)} vCPUs`);
    this.fx = noEffects();
  }

  /** Runs hypercall `op` for `caller` from its JSON arguments. Throws HypervisorError; a failed call changes nothing. */
  hypercall(caller: DomId, op: string, body: unknown): HypercallOutcome {
    this.fx = noEffects();
    try {
      const result = this.dispatch(caller, op, body);
      return { result, effects: this.drainEffects() };
    } catch (e) {
      this.fx = noEffects();
      throw e;
    }
  }

  /** Liveness: crashes the domains whose heartbeat is overdue. Call every fraction of a beat. */
  tick(): Effects {
    const now = this.clock.now();
    for (const d of this.domains.values()) {
      if (d.domid === 0 || !d.armed || d.pauseCount > 0 || d.shutdownCode !== undefined || d.dying) continue;
      const silent = now - d.awaitSince;
      if (silent > this.liveness.deadlineMs)
        this.crash(
          d,
          `no heartbeat for ${(silent / 1000).toFixed(1)} s (deadline ${this.liveness.deadlineMs / 1000} s)`,
        );
    }
    return this.drainEffects();
  }

  drainEffects(): Effects {
    const fx = this.fx;
    this.fx = noEffects();
    return fx;
  }

  // ---- domctl ----

  createDomain(caller: DomId, a: CreateDomainArgs): { domid: DomId } {
    this.requireControl(caller, 'createdomain', `create domain ${JSON.stringify(a.name)}`);
    for (const d of this.domains.values())
      if (d.name === a.name)
        throw new HypervisorError(
          'EEXIST',
          `createdomain: a domain named ${JSON.stringify(a.name)} exists (domain ${d.domid})`,
        );
    const target = a.target_memkb;
    const max = a.max_memkb ?? target;
    if (max < target)
      throw new HypervisorError(
        'EINVAL',
        `createdomain ${JSON.stringify(a.name)}: max_memkb ${max} is below target_memkb ${target}`,
      );
    const free = this.freeKb();
    if (target > free)
      throw new HypervisorError(
        'ENOMEM',
        `createdomain ${JSON.stringify(a.name)}: ${target} KiB requested, ${free} KiB free`,
      );
    if (max > free)
      throw new HypervisorError(
        'ENOMEM',
        `createdomain ${JSON.stringify(a.name)}: max_memkb ${max} KiB exceeds the ${free} KiB free`,
      );
    const vcpus = a.vcpus ?? 1;
    const cap = a.cap ?? 0;
    if (cap > 100 * vcpus)
      throw new HypervisorError(
        'EINVAL',
        `createdomain ${JSON.stringify(a.name)}: cap ${cap}% exceeds 100% x ${vcpus} vCPUs`,
      );
    const now = this.clock.now();
    const domid = this.domids.allocate(now);
    const d: Domain = {
      ...this.blankDomain(domid, a.name, a.uuid ?? this.newUuid(), now),
      type: a.type ?? 'pv',
      privilege: a.driver_domain ? 'driver' : 'guest',
      currentKb: target,
      maxKb: max,
      vcpus,
      weight: a.weight ?? 256,
      cap,
      maxEvtchnPort: a.max_event_channels ?? MAX_EVENT_CHANNELS_DEFAULT,
    };
    this.domains.set(domid, d);
    this.log(
      `d${domid}: created "${d.name}" (${d.type}${a.driver_domain ? ', driver domain' : ''}, ${kib(target)}, ${vcpus} vCPUs), paused`,
    );
    return { domid };
  }

  destroyDomain(caller: DomId, domid: DomId): Empty {
    this.requireControl(caller, 'destroydomain', `destroy domain ${domid}`);
    const d = this.target('destroydomain', caller, domid);
    if (d.domid === caller)
      throw new HypervisorError('EINVAL', `destroydomain: domain ${d.domid} cannot destroy itself`);
    // domain_kill: the domain is dying while it gives back its ports and memory, then it is gone.
    d.dying = true;
    this.evtchn.closeAll(d);
    this.domains.delete(d.domid);
    this.domids.release(d.domid, this.clock.now());
    this.log(`d${d.domid}: destroyed "${d.name}", ${kib(d.currentKb)} freed`);
    this.evtchn.raiseVirq(VIRQ.VIRQ_DOM_EXC);
    return EMPTY;
  }

  pauseDomain(caller: DomId, domid: DomId): Empty {
    this.requireControl(caller, 'pausedomain', `pause domain ${domid}`);
    const d = this.target('pausedomain', caller, domid);
    if (d.domid === caller) throw new HypervisorError('EINVAL', `pausedomain: domain ${d.domid} cannot pause itself`);
    d.pauseCount++;
    return EMPTY;
  }

  unpauseDomain(caller: DomId, domid: DomId): Empty {
    this.requireControl(caller, 'unpausedomain', `unpause domain ${domid}`);
    const d = this.target('unpausedomain', caller, domid);
    if (d.pauseCount === 0) throw new HypervisorError('EINVAL', `unpausedomain: domain ${d.domid} is not paused`);
    d.pauseCount--;
    if (d.pauseCount === 0) d.awaitSince = this.clock.now();
    return EMPTY;
  }

  /**
   * Dominion's setdomainname. Xen keeps names only in XenStore; this hypervisor also holds them (createdomain
   * refuses a duplicate), so xl's rename-restart renames the dying domain here before recreating it.
   */
  setDomainName(caller: DomId, a: { domid: DomId; name: string }): Empty {
    this.requireControl(caller, 'setdomainname', `rename domain ${a.domid}`);
    const d = this.target('setdomainname', caller, a.domid);
    for (const o of this.domains.values())
      if (o !== d && o.name === a.name)
        throw new HypervisorError(
          'EEXIST',
          `setdomainname: a domain named ${JSON.stringify(a.name)} exists (domain ${o.domid})`,
        );
    this.log(`d${d.domid}: renamed ${JSON.stringify(d.name)} -> ${JSON.stringify(a.name)}`);
    d.name = a.name;
    return EMPTY;
  }

  /** XEN_DOMCTL_setdomainhandle: a new uuid for a domain (libxl gives a preserved domain one). */
  setDomainHandle(caller: DomId, a: { domid: DomId; uuid: string }): Empty {
    this.requireControl(caller, 'setdomainhandle', `set the handle of domain ${a.domid}`);
    const d = this.target('setdomainhandle', caller, a.domid);
    d.uuid = a.uuid.toLowerCase();
    return EMPTY;
  }

  /** SCHEDOP_shutdown (self) / SCHEDOP_remote_shutdown (control domain). A second shutdown keeps the first reason. */
  shutdown(caller: DomId, a: ShutdownArgs): Empty {
    const domid = this.resolve(a.domid ?? caller, caller);
    if (domid !== caller) this.requireControl(caller, 'shutdown', `shut down domain ${domid}`);
    const d = this.target('shutdown', caller, domid);
    if (d.shutdownCode !== undefined) return EMPTY;
    d.shutdownCode = shutdownCode(a.reason);
    this.log(`d${d.domid}: shut down "${d.name}": reason ${a.reason}${domid !== caller ? ` (by d${caller})` : ''}`);
    this.evtchn.raiseVirq(VIRQ.VIRQ_DOM_EXC);
    return EMPTY;
  }

  getDomainInfo(caller: DomId, domid?: DomId): DomainInfo | DomainInfo[] {
    if (domid === undefined) {
      this.requireControl(caller, 'getdomaininfo', 'list domains');
      return [...this.domains.values()].sort((x, y) => x.domid - y.domid).map((d) => this.info(d));
    }
    const id = this.resolve(domid, caller);
    if (id !== caller) this.requireControl(caller, 'getdomaininfo', `inspect domain ${id}`);
    return this.info(this.target('getdomaininfo', caller, id));
  }

  setMaxMem(caller: DomId, a: SetMaxMemArgs): Empty {
    this.requireControl(caller, 'setmaxmem', `set the memory of domain ${a.domid}`);
    const d = this.target('setmaxmem', caller, a.domid);
    if (a.max_memkb < d.currentKb)
      throw new HypervisorError(
        'EINVAL',
        `setmaxmem d${d.domid}: ${a.max_memkb} KiB is below its current ${d.currentKb} KiB`,
      );
    const free = this.freeKb();
    if (a.max_memkb - d.currentKb > free)
      throw new HypervisorError(
        'ENOMEM',
        `setmaxmem d${d.domid}: ${a.max_memkb} KiB requested (${a.max_memkb - d.currentKb} KiB above its current allocation), ${free} KiB free`,
      );
    d.maxKb = a.max_memkb;
    return EMPTY;
  }

  setTarget(caller: DomId, a: SetTargetArgs): Empty {
    this.requireControl(caller, 'settarget', `set the memory of domain ${a.domid}`);
    const d = this.target('settarget', caller, a.domid);
    if (a.target_memkb > d.maxKb)
      throw new HypervisorError(
        'EINVAL',
        `settarget d${d.domid}: ${a.target_memkb} KiB is above its maxmem ${d.maxKb} KiB`,
      );
    const free = this.freeKb();
    if (a.target_memkb - d.currentKb > free)
      throw new HypervisorError(
        'ENOMEM',
        `settarget d${d.domid}: ${a.target_memkb - d.currentKb} KiB more requested, ${free} KiB free`,
      );
    d.currentKb = a.target_memkb;
    return EMPTY;
  }

  schedCredit(caller: DomId, a: SchedCreditArgs): { weight: number; cap: number } {
    this.requireControl(caller, 'sched_credit', `set the scheduling of domain ${a.domid}`);
    const d = this.target('sched_credit', caller, a.domid);
    if (a.cap !== undefined && a.cap > 100 * d.vcpus)
      throw new HypervisorError('EINVAL', `sched_credit d${d.domid}: cap ${a.cap}% exceeds 100% x ${d.vcpus} vCPUs`);
    if (a.weight !== undefined) d.weight = a.weight;
    if (a.cap !== undefined) d.cap = a.cap;
    return { weight: d.weight, cap: d.cap };
  }

  /** The control domain reports that a domain's process exited (the launcher's prompt signal): a crash. */
  reportExit(caller: DomId, a: ReportExitArgs): Empty {
    this.requireControl(caller, 'reportexit', `report the exit of domain ${a.domid}`);
    const d = this.target('reportexit', caller, a.domid);
    if (d.domid === caller)
      throw new HypervisorError('EINVAL', `reportexit: domain ${caller} cannot report its own exit`);
    const how = a.signal ? `signal ${a.signal}` : `code ${a.code ?? '?'}`;
    if (d.shutdownCode !== undefined) this.log(`d${d.domid}: process exited (${how}) after shutdown`);
    else this.crash(d, `process exited (${how})`);
    return EMPTY;
  }

  /**
   * Dominion's getdomainkey: the public key a domain logs in and signs ring proofs with. Unprivileged, like
   * reading a public directory; so, unlike the domctls above, it tells any caller whether a domid exists.
   */
  getDomainKey(caller: DomId, domid: DomId): DomainKeyResult {
    this.caller('getdomainkey', caller);
    const d = this.target('getdomainkey', caller, domid);
    if (!this.domainKey)
      throw new HypervisorError(
        'ENOSYS',
        'getdomainkey: this hypervisor mints no identities (the bus runs without auth)',
      );
    const key = this.domainKey(d.domid);
    if (key === undefined)
      throw new HypervisorError('ENOENT', `getdomainkey: domain ${d.domid} has no user key on record`);
    return { domid: d.domid, key };
  }

  // ---- sysctl ----

  physinfo(caller: DomId): PhysInfo {
    this.requireControl(caller, 'physinfo', 'read physinfo');
    return {
      nr_cpus: this.host.nrCpus,
      total_memkb: this.host.totalMemoryKiB,
      free_memkb: this.freeKb(),
      nr_domains: this.domains.size,
    };
  }

  dmesg(caller: DomId, a: DmesgArgs): { lines: string[] } {
    this.requireControl(caller, 'dmesg', 'read the console ring');
    return { lines: a.clear ? this.conring.readAndClear() : this.conring.read() };
  }

  heartbeat(caller: DomId, a: HeartbeatArgs): HeartbeatResult {
    const d = this.caller('heartbeat', caller);
    const now = this.clock.now();
    d.prevBeat = d.lastBeat;
    d.lastBeat = { at: now, cpuTime: a.cpu_time };
    d.cpuTime = a.cpu_time;
    d.armed = true;
    d.awaitSince = now;
    const res: HeartbeatResult = {
      beat_ms: this.liveness.beatMs,
      deadline_ms: this.liveness.deadlineMs,
      shutdown: d.shutdownCode !== undefined,
    };
    if (d.shutdownCode !== undefined) res.shutdown_reason = SHUTDOWN_REASONS[d.shutdownCode];
    return res;
  }

  // ---- event_channel_op ----

  evtchnAllocUnbound(caller: DomId, a: EvtchnAllocUnboundArgs): { port: EvtchnPort } {
    const dom = this.resolve(a.dom, caller);
    if (dom !== caller)
      this.requireControl(
        caller,
        'evtchn_alloc_unbound',
        `allocate a port of domain ${dom} (unprivileged callers use DOMID_SELF)`,
      );
    const d = this.target('evtchn_alloc_unbound', caller, dom);
    return { port: this.evtchn.allocUnbound(d, this.resolve(a.remote_dom, caller)) };
  }

  evtchnBindInterdomain(caller: DomId, a: EvtchnBindInterdomainArgs): { local_port: EvtchnPort } {
    const ld = this.caller('evtchn_bind_interdomain', caller);
    const rd = this.target('evtchn_bind_interdomain', caller, this.resolve(a.remote_dom, caller));
    return { local_port: this.evtchn.bindInterdomain(ld, rd, a.remote_port) };
  }

  evtchnClose(caller: DomId, a: EvtchnPortArgs): Empty {
    this.evtchn.close(this.caller('evtchn_close', caller), a.port);
    return EMPTY;
  }

  evtchnStatus(caller: DomId, a: EvtchnStatusArgs): EvtchnStatus {
    const dom = this.resolve(a.dom, caller);
    if (dom !== caller) this.requireControl(caller, 'evtchn_status', `read a port of domain ${dom}`);
    return this.evtchn.status(this.target('evtchn_status', caller, dom), a.port);
  }

  evtchnBindVirq(caller: DomId, a: EvtchnBindVirqArgs): { port: EvtchnPort } {
    return { port: this.evtchn.bindVirq(this.caller('evtchn_bind_virq', caller), a.virq, a.vcpu ?? 0) };
  }

  /** A restarted kernel (or service) starts from a clean event-channel table, as after kexec. */
  evtchnReset(caller: DomId, a: { dom: DomId }): Empty {
    const dom = this.resolve(a.dom, caller);
    if (dom !== caller) this.requireControl(caller, 'evtchn_reset', `reset the event channels of domain ${dom}`);
    this.evtchn.closeAll(this.target('evtchn_reset', caller, dom));
    return EMPTY;
  }

  evtchnSend(caller: DomId, a: EvtchnPortArgs): Empty {
    this.evtchn.send(this.caller('evtchn_send', caller), a.port);
    return EMPTY;
  }

  // ---- internals ----

  private dispatch(caller: DomId, op: string, body: unknown): unknown {
    if (!isHypercallName(op)) throw new HypervisorError('ENOSYS', `no hypercall ${JSON.stringify(op)}`);
    return this.parseAndRun(caller, op, new ArgReader(op, body));
  }

  private parseAndRun(caller: DomId, op: HypercallName, r: ArgReader): unknown {
    const domid = (key = 'domid'): DomId => r.int(key, 0, DOMID_ARG_MAX);
    const port = (key = 'port'): EvtchnPort => r.int(key, 0, EVTCHN_FIFO_NR_CHANNELS - 1);
    const run = <T>(args: T, f: (a: T) => unknown): unknown => {
      r.done();
      return f(args);
    };
    switch (op) {
      case 'createdomain':
        return run(
          {
            name: r.str('name', checkDomainName),
            uuid: r.optStr('uuid', (s) => (UUID_RE.test(s) ? undefined : 'is not a UUID')),
            type: r.optOneOf('type', DOMAIN_TYPES),
            target_memkb: r.int('target_memkb', 1, MAX_MEMKB),
            max_memkb: r.optInt('max_memkb', 1, MAX_MEMKB),
            vcpus: r.optInt('vcpus', 1, MAX_VCPUS),
            weight: r.optInt('weight', 1, 65535),
            cap: r.optInt('cap', 0, 100 * MAX_VCPUS),
            driver_domain: r.optBool('driver_domain'),
            max_event_channels: r.optInt('max_event_channels', 1, EVTCHN_FIFO_NR_CHANNELS - 1),
            // Checked for shape only: the identity that uses it is the app's (apps/hypervisor).
            user_key: r.optStr('user_key', (s) =>
              /^U[A-Z2-7]{55}$/.test(s) ? undefined : 'is not a NATS user public key',
            ),
          },
          (a) => this.createDomain(caller, a),
        );
      case 'setdomainname':
        return run({ domid: domid(), name: r.str('name', checkDomainName) }, (a) => this.setDomainName(caller, a));
      case 'setdomainhandle':
        return run(
          { domid: domid(), uuid: r.str('uuid', (s) => (UUID_RE.test(s) ? undefined : 'is not a UUID')) },
          (a) => this.setDomainHandle(caller, a),
        );
      case 'destroydomain':
        return run(domid(), (id) => this.destroyDomain(caller, id));
      case 'pausedomain':
        return run(domid(), (id) => this.pauseDomain(caller, id));
      case 'unpausedomain':
        return run(domid(), (id) => this.unpauseDomain(caller, id));
      case 'shutdown':
        return run({ domid: r.optInt('domid', 0, DOMID_ARG_MAX), reason: r.oneOf('reason', SHUTDOWN_REASONS) }, (a) =>
          this.shutdown(caller, a),
        );
      case 'getdomaininfo':
        return run(r.optInt('domid', 0, DOMID_ARG_MAX), (id) => this.getDomainInfo(caller, id));
      case 'setmaxmem':
        return run({ domid: domid(), max_memkb: r.int('max_memkb', 1, MAX_MEMKB) }, (a) => this.setMaxMem(caller, a));
      case 'settarget':
        return run({ domid: domid(), target_memkb: r.int('target_memkb', 1, MAX_MEMKB) }, (a) =>
          this.setTarget(caller, a),
        );
      case 'sched_credit':
        return run(
          { domid: domid(), weight: r.optInt('weight', 1, 65535), cap: r.optInt('cap', 0, 100 * MAX_VCPUS) },
          (a) => this.schedCredit(caller, a),
        );
      case 'physinfo':
        return run(undefined, () => this.physinfo(caller));
      case 'dmesg':
        return run({ clear: r.optBool('clear') }, (a) => this.dmesg(caller, a));
      case 'heartbeat':
        return run({ cpu_time: r.num('cpu_time', 0, Number.MAX_SAFE_INTEGER) }, (a) => this.heartbeat(caller, a));
      case 'reportexit':
        return run(
          {
            domid: domid(),
            code: r.optInt('code', -255, 255),
            signal: r.optStr('signal', (s) => (/^SIG[A-Z0-9]+$/.test(s) ? undefined : 'is not a signal name')),
          },
          (a) => this.reportExit(caller, a),
        );
      case 'getdomainkey':
        return run(domid(), (id) => this.getDomainKey(caller, id));
      case 'evtchn_alloc_unbound':
        return run({ dom: domid('dom'), remote_dom: domid('remote_dom') }, (a) => this.evtchnAllocUnbound(caller, a));
      case 'evtchn_bind_interdomain':
        return run({ remote_dom: domid('remote_dom'), remote_port: port('remote_port') }, (a) =>
          this.evtchnBindInterdomain(caller, a),
        );
      case 'evtchn_close':
        return run({ port: port() }, (a) => this.evtchnClose(caller, a));
      case 'evtchn_status':
        return run({ dom: domid('dom'), port: port() }, (a) => this.evtchnStatus(caller, a));
      case 'evtchn_bind_virq':
        return run({ virq: r.int('virq', 0, NR_VIRQS - 1), vcpu: r.optInt('vcpu', 0, MAX_VCPUS - 1) }, (a) =>
          this.evtchnBindVirq(caller, a),
        );
      case 'evtchn_send':
        return run({ port: port() }, (a) => this.evtchnSend(caller, a));
      case 'evtchn_reset':
        return run({ dom: domid('dom') }, (a) => this.evtchnReset(caller, a));
    }
  }

  private info(d: Domain): DomainInfo {
    const paused = d.pauseCount > 0;
    const shutdown = d.shutdownCode !== undefined;
    const active = !paused && !shutdown && !d.dying;
    const running = active && isRunning(d.prevBeat, d.lastBeat, this.clock.now(), this.liveness);
    const info: DomainInfo = {
      domid: d.domid,
      name: d.name,
      uuid: d.uuid,
      type: d.type,
      privilege: d.privilege,
      running,
      blocked: active && !running,
      paused,
      shutdown,
      dying: d.dying,
      current_memkb: d.currentKb,
      max_memkb: d.maxKb,
      target_memkb: d.currentKb,
      vcpu_online: d.vcpus,
      weight: d.weight,
      cap: d.cap,
      cpu_time: d.cpuTime,
      max_event_channels: d.maxEvtchnPort,
      created_at: d.createdAt,
    };
    if (d.shutdownCode !== undefined) {
      info.shutdown_code = d.shutdownCode;
      info.shutdown_reason = SHUTDOWN_REASONS[d.shutdownCode];
    }
    if (d.lastBeat) info.last_heartbeat = d.lastBeat.at;
    return info;
  }

  private crash(d: Domain, why: string): void {
    d.shutdownCode = SHUTDOWN.SHUTDOWN_crash;
    this.log(`d${d.domid}: domain "${d.name}" crashed: ${why}`);
    this.evtchn.raiseVirq(VIRQ.VIRQ_DOM_EXC);
  }

  private freeKb(): number {
    let used = 0;
    for (const d of this.domains.values()) used += d.currentKb;
    return Math.max(0, this.host.totalMemoryKiB - used);
  }

  private requireControl(caller: DomId, op: string, what: string): void {
    const d = this.caller(op, caller);
    if (d.privilege !== 'control')
      throw new HypervisorError('EPERM', `${op}: domain ${caller} may not ${what}: it is not the control domain`);
  }

  /** The calling domain, which must exist. */
  private caller(op: string, caller: DomId): Domain {
    const d = this.domains.get(caller);
    if (!d) throw new HypervisorError('ESRCH', `${op}: the calling domain ${caller} does not exist`);
    return d;
  }

  private target(op: string, caller: DomId, domid: DomId): Domain {
    const id = this.resolve(domid, caller);
    const d = this.domains.get(id);
    if (!d) throw new HypervisorError('ESRCH', `${op}: domain ${id} does not exist`);
    return d;
  }

  private resolve(domid: DomId, caller: DomId): DomId {
    return domid === DOMID.DOMID_SELF ? caller : domid;
  }

  private log(msg: string): void {
    this.fx.log.push(this.conring.log(this.clock.now(), msg));
  }

  private blankDomain(domid: DomId, name: string, uuid: string, now: number): Domain {
    return {
      domid,
      name,
      uuid,
      type: 'pv',
      privilege: 'guest',
      currentKb: 0,
      maxKb: 0,
      vcpus: 1,
      weight: 256,
      cap: 0,
      pauseCount: 1,
      dying: false,
      cpuTime: 0,
      createdAt: now,
      awaitSince: now,
      armed: false,
      maxEvtchnPort: MAX_EVENT_CHANNELS_DEFAULT,
      ports: new Map(),
      virqPorts: new Map(),
    };
  }
}

/**
 * Names are free text as in xl, but never all digits (xl takes a number for a domid) and never control
 * characters (they end up in XenStore values and in `xl list`).
 */
function checkDomainName(s: string): string | undefined {
  if (s.length === 0 || s.length > 64) return 'must be 1..64 characters';
  if (/^[0-9]+$/.test(s)) return 'is all digits and would read as a domid';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(s)) return 'contains control characters';
  return undefined;
}

function kib(n: number): string {
  return n % 1024 === 0 ? `${n / 1024} MiB` : `${n} KiB`;
}

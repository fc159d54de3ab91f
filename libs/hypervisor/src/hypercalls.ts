// The hypercall ABI of Dominion: JSON request/reply on `xen.hv.<caller>.<op>`, shared by the hypervisor
// service and HypervisorClient. The caller's domid is the subject's, never a body field. Names follow Xen's
// domctl/sysctl/sched_op/event_channel_op and libxl's field names. Memory is in KiB ("kb" as libxl spells it).
import type { DomId, EvtchnPort, EvtchnStat, EvtchnStatName, ShutdownReason } from '@dominion/abi';
import type { DomainInfo, DomainType } from './domain-info.js';

export interface CreateDomainArgs {
  name: string;
  uuid?: string;
  type?: DomainType;
  /** xl.cfg `memory`: the initial allocation. */
  target_memkb: number;
  /** xl.cfg `maxmem` (default: target_memkb). */
  max_memkb?: number;
  vcpus?: number;
  weight?: number;
  cap?: number;
  /** xl.cfg `driver_domain = 1`. */
  driver_domain?: boolean;
  max_event_channels?: number;
  /**
   * Dominion addition: the public user nkey (`U…`) the new domain's service made itself (the bootstrap
   * exchange, libs/identity bootstrap.ts). The hypervisor then issues the domain's user JWT for that key
   * (reply `credentials: { jwt, inbox_prefix }`) instead of minting a key (`{ creds, inbox_prefix }`).
   */
  user_key?: string;
}
export interface DomidArgs {
  domid: DomId;
}
export interface ShutdownArgs {
  /** Default: the caller (SCHEDOP_shutdown); another domain needs the control domain (SCHEDOP_remote_shutdown). */
  domid?: DomId;
  reason: ShutdownReason;
}
export interface GetDomainInfoArgs {
  /** Omitted: every domain, by domid. */
  domid?: DomId;
}
export interface SetMaxMemArgs {
  domid: DomId;
  max_memkb: number;
}
export interface SetTargetArgs {
  domid: DomId;
  target_memkb: number;
}
export interface SchedCreditArgs {
  domid: DomId;
  weight?: number;
  cap?: number;
}
export interface PhysInfo {
  nr_cpus: number;
  total_memkb: number;
  free_memkb: number;
  nr_domains: number;
}
export interface DmesgArgs {
  /** `xl dmesg -c`: clear the ring after reading. */
  clear?: boolean;
}
export interface HeartbeatArgs {
  /** Cumulative CPU time of the domain's process, seconds. */
  cpu_time: number;
}
export interface HeartbeatResult {
  beat_ms: number;
  deadline_ms: number;
  /** Set once the domain is shut down (e.g. declared crashed): its process should stop. */
  shutdown: boolean;
  shutdown_reason?: ShutdownReason;
}
export interface ReportExitArgs {
  domid: DomId;
  /** The process's exit code, or the signal that ended it. */
  code?: number;
  signal?: string;
}

/**
 * Dominion addition, no Xen counterpart: the public half of a domain's identity, the NATS user nkey (`U…`) of
 * its current incarnation. A ring backend checks a frontend's ring proof against it (libs/identity
 * ring-proof). Any domain may ask about any domain: public keys are public.
 */
export interface DomainKeyResult {
  domid: DomId;
  /** The user public nkey. */
  key: string;
}

/** EVTCHNOP_alloc_unbound. `dom` is DOMID_SELF or the caller unless the caller is the control domain. */
export interface EvtchnAllocUnboundArgs {
  dom: DomId;
  remote_dom: DomId;
}
export interface EvtchnBindInterdomainArgs {
  remote_dom: DomId;
  remote_port: EvtchnPort;
}
export interface EvtchnPortArgs {
  port: EvtchnPort;
}
export interface EvtchnStatusArgs {
  dom: DomId;
  port: EvtchnPort;
}
export interface EvtchnBindVirqArgs {
  virq: number;
  vcpu?: number;
}

/**
 * struct evtchn_status: `status` is the EVTCHNSTAT_* number, `state` its name; the union member that
 * applies is present. This is also the body of a port-change push on `xen.evtchn.<dom>.ctl`.
 */
export interface EvtchnStatus {
  dom: DomId;
  port: EvtchnPort;
  status: EvtchnStat;
  state: EvtchnStatName;
  vcpu: number;
  /** Unbound: the domain allowed to bind. */
  unbound?: { dom: DomId };
  interdomain?: { dom: DomId; port: EvtchnPort };
  virq?: number;
}

/** The body of a VIRQ raised on `xen.virq.<domid>`: which VIRQ, on which bound port. */
export interface VirqEvent {
  virq: number;
  port: EvtchnPort;
}

type Empty = Record<string, never>;

/** op -> its argument and result shapes. */
export interface Hypercalls {
  createdomain: { args: CreateDomainArgs; result: { domid: DomId } };
  destroydomain: { args: DomidArgs; result: Empty };
  /** Dominion addition: rename a domain (EEXIST on a clash), for xl's rename-restart. */
  setdomainname: { args: { domid: DomId; name: string }; result: Empty };
  /** XEN_DOMCTL_setdomainhandle. */
  setdomainhandle: { args: { domid: DomId; uuid: string }; result: Empty };
  pausedomain: { args: DomidArgs; result: Empty };
  unpausedomain: { args: DomidArgs; result: Empty };
  shutdown: { args: ShutdownArgs; result: Empty };
  getdomaininfo: { args: GetDomainInfoArgs; result: DomainInfo | DomainInfo[] };
  setmaxmem: { args: SetMaxMemArgs; result: Empty };
  settarget: { args: SetTargetArgs; result: Empty };
  sched_credit: { args: SchedCreditArgs; result: { weight: number; cap: number } };
  physinfo: { args: Empty; result: PhysInfo };
  dmesg: { args: DmesgArgs; result: { lines: string[] } };
  heartbeat: { args: HeartbeatArgs; result: HeartbeatResult };
  reportexit: { args: ReportExitArgs; result: Empty };
  /** Dominion addition (DomainKeyResult). ESRCH: no such domain; ENOENT: none on record; ENOSYS: no identities. */
  getdomainkey: { args: DomidArgs; result: DomainKeyResult };
  evtchn_alloc_unbound: { args: EvtchnAllocUnboundArgs; result: { port: EvtchnPort } };
  evtchn_bind_interdomain: { args: EvtchnBindInterdomainArgs; result: { local_port: EvtchnPort } };
  evtchn_close: { args: EvtchnPortArgs; result: Empty };
  evtchn_status: { args: EvtchnStatusArgs; result: EvtchnStatus };
  evtchn_bind_virq: { args: EvtchnBindVirqArgs; result: { port: EvtchnPort } };
  evtchn_send: { args: EvtchnPortArgs; result: Empty };
  /** EVTCHNOP_reset: close every port of `dom` (DOMID_SELF, or any domain for the control domain). */
  evtchn_reset: { args: { dom: DomId }; result: Empty };
}
export type HypercallName = keyof Hypercalls;
export type HypercallArgs<Op extends HypercallName> = Hypercalls[Op]['args'];
export type HypercallResult<Op extends HypercallName> = Hypercalls[Op]['result'];

export const HYPERCALL_NAMES: readonly HypercallName[] = [
  'createdomain',
  'destroydomain',
  'setdomainname',
  'setdomainhandle',
  'pausedomain',
  'unpausedomain',
  'shutdown',
  'getdomaininfo',
  'setmaxmem',
  'settarget',
  'sched_credit',
  'physinfo',
  'dmesg',
  'heartbeat',
  'reportexit',
  'getdomainkey',
  'evtchn_alloc_unbound',
  'evtchn_bind_interdomain',
  'evtchn_close',
  'evtchn_status',
  'evtchn_bind_virq',
  'evtchn_send',
  'evtchn_reset',
];

export function isHypercallName(s: string): s is HypercallName {
  return (HYPERCALL_NAMES as readonly string[]).includes(s);
}

// The hypervisor's record of one domain (struct domain). Internal to the engine; the outside sees DomainInfo.
import type { DomId, EvtchnPort, ShutdownCode } from '@dominion/abi';
import type { DomainType, Privilege } from './domain-info.js';
import type { Beat } from './liveness.js';

/** One event channel (struct evtchn), by state. A free port has no entry. */
export type Channel =
  | { state: 'unbound'; remoteDom: DomId }
  | { state: 'interdomain'; remoteDom: DomId; remotePort: EvtchnPort }
  | { state: 'virq'; virq: number; vcpu: number };

export interface Domain {
  domid: DomId;
  name: string;
  uuid: string;
  type: DomainType;
  privilege: Privilege;
  currentKb: number;
  maxKb: number;
  vcpus: number;
  weight: number;
  cap: number;
  /** The system controller's pause count: paused iff > 0 (created at 1, as Xen creates domains paused). */
  pauseCount: number;
  /** Set once, by the first shutdown; later shutdowns do not change the reason. */
  shutdownCode?: ShutdownCode;
  dying: boolean;
  cpuTime: number;
  createdAt: number;
  prevBeat?: Beat;
  lastBeat?: Beat;
  /** Since when a heartbeat is awaited: the last beat, or the last unpause. */
  awaitSince: number;
  /** Liveness is armed by the first heartbeat. */
  armed: boolean;
  /** Highest usable port (xl max_event_channels); port 0 is reserved, as in Xen. */
  maxEvtchnPort: EvtchnPort;
  ports: Map<EvtchnPort, Channel>;
  /** `virq/vcpu` -> bound port (v->virq_to_evtchn). */
  virqPorts: Map<string, EvtchnPort>;
}

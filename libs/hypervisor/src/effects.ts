// What a hypercall or a tick asks the outside world to do: the engine does no I/O, the service publishes.
import type { DomId, EvtchnPort } from '@dominion/abi';
import type { EvtchnStatus } from './hypercalls.js';

export interface VirqEffect {
  /** The domain the VIRQ is raised to (the one that bound it). */
  domid: DomId;
  virq: number;
  port: EvtchnPort;
}

/** An event sent through the hypervisor (EVTCHNOP_send): published as `xen.evtchn.<dst>.<port>.<src>`. */
export interface NotifyEffect {
  dst: DomId;
  port: EvtchnPort;
  src: DomId;
}

export interface Effects {
  virqs: VirqEffect[];
  /** New status of every port whose state changed; pushed to the owning domain (`dom`). */
  portChanges: EvtchnStatus[];
  notifications: NotifyEffect[];
  /** Lines appended to the console ring. */
  log: string[];
}

export function noEffects(): Effects {
  return { virqs: [], portChanges: [], notifications: [], log: [] };
}

export function hasEffects(fx: Effects): boolean {
  return fx.virqs.length + fx.portChanges.length + fx.notifications.length + fx.log.length > 0;
}

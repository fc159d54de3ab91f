// Subjects the hypervisor publishes on besides the ones in @dominion/bus.
import type { DomId } from '@dominion/abi';

/**
 * Port-state pushes to `dom`: `xen.evtchn.<dom>.ctl`, body EvtchnStatus JSON. It sits under the domain's
 * event-channel inbox (`xen.evtchn.<dom>.>`) so that one subscription gets both, and has four tokens, so
 * that the per-domain publish permission for notifications (`xen.evtchn.*.*.<me>`, five tokens) can never
 * cover it: only the hypervisor publishes it.
 */
export function evtchnCtlSubject(dom: DomId): string {
  return `xen.evtchn.${dom}.ctl`;
}
export const EVTCHN_CTL_TOKEN = 'ctl';

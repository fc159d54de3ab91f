// The subject scheme of ARCHITECTURE §2. Every subject a domain publishes on carries its own domid, so that
// per-domain NATS permissions (operator/JWT mode) make identity unforgeable.
import { DOMID, isDomId, type DomId } from '@dominion/abi';

/** The last token of a port-state push subject. */
export const EVTCHN_CTL_TOKEN = 'ctl';

export const subjects = {
  /** A hypercall `op` made by `caller` (request/reply to the hypervisor). */
  hv: (caller: DomId, op: string) => `xen.hv.${caller}.${op}`,
  /** What the hypervisor subscribes to for `op`, from any caller. */
  hvAny: (op: string) => `xen.hv.*.${op}`,
  /** An event-channel notification from `src` to port `port` of `dst`. */
  evtchn: (dst: DomId, port: number, src: DomId) => `xen.evtchn.${dst}.${port}.${src}`,
  /** Everything addressed to `dst`'s event channels. */
  evtchnInbox: (dst: DomId) => `xen.evtchn.${dst}.>`,
  /**
   * The hypervisor's port-state pushes to `dom` (body EvtchnStatus JSON). Under the domain's inbox so one
   * subscription gets both; four tokens, so a domain's permission to publish notifications
   * (`xen.evtchn.*.*.<me>`, five tokens) can never cover it.
   */
  evtchnCtl: (dom: DomId) => `xen.evtchn.${dom}.${EVTCHN_CTL_TOKEN}`,
  evtchnCtlAny: () => `xen.evtchn.*.${EVTCHN_CTL_TOKEN}`,
  /** XenStore requests from `caller`. */
  xs: (caller: DomId) => `xen.xs.${caller}`,
  xsAny: () => 'xen.xs.*',
  /** XenStore watch events for `domid`, per session. */
  xsWatch: (domid: DomId, session?: string) => (session ? `xen.xs.watch.${domid}.${session}` : `xen.xs.watch.${domid}`),
  /** VIRQs raised by the hypervisor to `domid`. */
  virq: (domid: DomId) => `xen.virq.${domid}`,
  console: (domid: DomId, dir: 'out' | 'in') => `xen.console.${domid}.${dir}`,
  /** The toolstack API (dom0) called by `caller`. */
  toolstack: (caller: DomId, verb: string) => `xen.toolstack.${caller}.${verb}`,
  toolstackAny: (verb: string) => `xen.toolstack.*.${verb}`,
  /** The ZFS storage domain's admin API (zpool/zfs) called by `caller`. */
  zfs: (caller: DomId, verb: string) => `xen.zfs.${caller}.${verb}`,
  zfsAny: (verb: string) => `xen.zfs.*.${verb}`,
} as const;

/**
 * The caller's domid from a subject of the form `xen.<area>.<caller>.…` (token 3). The caller is taken from the
 * subject, never from a message body: the subject is what NATS permissions vouch for.
 */
export function callerOf(subject: string): DomId | undefined {
  const tok = subject.split('.')[2];
  if (tok === undefined || !/^(0|[1-9][0-9]{0,4})$/.test(tok)) return undefined;
  const n = Number(tok);
  return isDomId(n) ? n : undefined;
}

/**
 * Each principal's own reply-subject prefix (client option `inboxPrefix`): in operator mode a domain's
 * permissions cover only this inbox. Here, not in @dominion/identity, because services check replies
 * against it (rpc.ts replyAllowed) and identity already depends on this library.
 */
export function inboxPrefixOf(domid: DomId): string {
  return domid === DOMID.DOMID_XEN ? '_INBOX.xen' : `_INBOX.dom${domid}`;
}

/**
 * The console's one extra word on the bus: a REQUEST on `xen.console.<domid>.in` carrying this header asks
 * the domain for its recent output (the ring); the domain answers in the reply, so it never publishes outside
 * its own subjects and dom0 needs no subject of its own.
 */
export const CONSOLE_OP_HEADER = 'Dominion-Console-Op';
export const CONSOLE_OP_RING = 'ring';

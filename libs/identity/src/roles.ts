// What each kind of principal may do on the bus, computed from its domid (ARCHITECTURE §2): a domain publishes
// only on subjects that carry its own domid, subscribes only to what is addressed to it, and answers only
// requests it received. The subject shapes come from @dominion/bus so that the two cannot drift apart.
//
// Services answer into inboxes only. NATS lets a requester name ANY subject as its reply subject, and
// allow_responses then lets the responder publish there: with it, a guest could send dom0 a XenStore request
// whose reply subject is `xen.virq.6`, and dom0's answer would arrive at domain 6 as a VIRQ (measured). So
// dom0 and the hypervisor get no `resp` but may publish on `_INBOX.>`, and only there besides their own
// subjects; they must also answer only a reply subject under the caller's own inbox (replyBelongsTo), since
// the hypervisor's own rights cover subjects such as `xen.evtchn.<dom>.ctl`.
import { DOMID, DOMID_0, isDomId, type DomId } from '@dominion/abi';
import { inboxPrefixOf, subjects } from '@dominion/bus';
import { BOOTSTRAP_SUBJECT } from './bootstrap.js';
import { IdentityError } from './errors.js';

export const DOMAIN_ROLES = ['guest', 'driver', 'control', 'hypervisor'] as const;
/**
 * guest: a domU. driver: a driver domain (`driver_domain=1`); its backends are served over gRPC and configured
 * through its own XenStore connection, so on the bus it needs a guest's rights, plus serving the zfs admin
 * API (`xen.zfs.*.*`) that a ZFS storage domain answers. control: dom0 (xenstored, the toolstack, xenconsoled). hypervisor: Xen itself, domid DOMID_XEN.
 */
export type DomainRole = (typeof DOMAIN_ROLES)[number];

export function isDomainRole(s: unknown): s is DomainRole {
  return typeof s === 'string' && (DOMAIN_ROLES as readonly string[]).includes(s);
}

/** The permissions a user JWT carries (nats `pub.allow`, `sub.allow`, `resp`). */
export interface BusPermissions {
  pub: string[];
  sub: string[];
  /** allow_responses: one reply per request received, no time limit (guests and driver domains). */
  resp?: { max: number; ttl: number };
}

/** A reply answers one request; the requester's inbox stays closed to everyone else. */
export const RESPONSE_PERMISSION = { max: 1, ttl: 0 } as const;

/** Each principal's own reply-subject prefix; defined in @dominion/bus, whose services check replies against it. */
export { inboxPrefixOf };

/** Inboxes of every principal: where the services' answers, and only those, may go. */
export const ANY_INBOX = '_INBOX.>';

/**
 * Whether `reply` lies in `caller`'s own inbox: a service answers a request only then, so that no requester
 * can steer the answer onto another domain's subjects or inbox.
 */
export function replyBelongsTo(caller: DomId, reply: string | undefined): boolean {
  return typeof reply === 'string' && reply.startsWith(`${inboxPrefixOf(caller)}.`) && !/[\s*>]/.test(reply);
}

/** Refuses a domid the role cannot have: guests and drivers are never 0, the hypervisor is DOMID_XEN. */
export function checkRoleDomid(role: DomainRole, domid: DomId): void {
  if (!isDomainRole(role))
    throw new IdentityError('EINVAL', `role ${JSON.stringify(role)} is not one of ${DOMAIN_ROLES.join(', ')}`);
  const ok =
    role === 'hypervisor'
      ? domid === DOMID.DOMID_XEN
      : role === 'control'
        ? isDomId(domid)
        : isDomId(domid) && domid !== DOMID_0;
  if (!ok) {
    const want =
      role === 'hypervisor'
        ? `DOMID_XEN (${DOMID.DOMID_XEN})`
        : role === 'control'
          ? 'a domid 0..32751'
          : 'a domid 1..32751';
    throw new IdentityError('EINVAL', `domid ${String(domid)} for role ${role}: expected ${want}`);
  }
}

/** What every domain may do as itself. */
function ownDomain(d: DomId): { pub: string[]; sub: string[] } {
  return {
    pub: [
      subjects.hv(d, '*'), // its hypercalls
      `xen.evtchn.*.*.${d}`, // notifications it sends, as <src>; 5 tokens, so never `xen.evtchn.<x>.ctl`
      subjects.xs(d), // its XenStore requests
      subjects.console(d, 'out'),
    ],
    sub: [
      subjects.evtchnInbox(d), // notifications to its ports and the hypervisor's `.ctl` pushes
      `${subjects.xsWatch(d)}.>`, // watch events of its XenStore sessions
      subjects.virq(d),
      subjects.console(d, 'in'),
      `${inboxPrefixOf(d)}.>`,
    ],
  };
}

/** The exact permissions of `role` for `domid` (README: the table). */
export function permissionsFor(role: DomainRole, domid: DomId): BusPermissions {
  checkRoleDomid(role, domid);
  switch (role) {
    case 'guest':
      return { ...ownDomain(domid), resp: { ...RESPONSE_PERMISSION } };
    case 'driver': {
      // A ZFS storage domain is a driver domain that also serves the zfs admin API (answered through resp).
      const own = ownDomain(domid);
      return { pub: own.pub, sub: [...own.sub, subjects.zfsAny('*')], resp: { ...RESPONSE_PERMISSION } };
    }
    case 'control': {
      const own = ownDomain(domid);
      return {
        pub: [
          ...own.pub,
          subjects.toolstack(domid, '*'), // xl and the launcher call the toolstack as dom0
          subjects.zfs(domid, '*'), // zpool and zfs call the ZFS storage domain as dom0
          'xen.xs.watch.*.*', // xenstored fires watches of every domain's sessions
          'xen.console.*.in', // xenconsoled/`xl console` writes any guest's console input
          ANY_INBOX, // answers (xenstored, the toolstack), never to a non-inbox reply subject
        ],
        sub: [
          ...own.sub,
          subjects.xsAny(), // xenstored serves every domain's requests
          subjects.toolstackAny('*'), // the toolstack API
          'xen.console.*.out', // xenconsoled reads every console
          BOOTSTRAP_SUBJECT, // the bootstrap exchange of services started before they have a domid
        ],
      };
    }
    case 'hypervisor':
      return {
        pub: [
          'xen.virq.*',
          subjects.evtchnCtlAny(), // port-state pushes, which no domain can publish
          'xen.evtchn.*.*.*', // EVTCHNOP_send: the hypervisor delivers on behalf of <src>
          ANY_INBOX, // hypercall answers
        ],
        sub: [subjects.hvAny('*'), `${inboxPrefixOf(domid)}.>`],
      };
  }
}

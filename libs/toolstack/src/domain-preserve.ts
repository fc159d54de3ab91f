// libxl_domain_preserve (libxl_domain.c), which xl's preserve_domain() calls for on_*=rename-restart: the
// dead domain stays, under `<name>-<stamp>` (preservedName) and a new uuid, so that its config can start again
// under the old name and uuid. The hypervisor side (setdomainhandle, and Dominion's setdomainname, which is
// where a name clash is refused) comes first; these are the XenStore steps, for ONE transaction: /vm/<new>
// made afresh, dom0's and readable by the domain (libxl's roperm), the home's `vm` pointing at it, the name
// in the home and in /vm/<new> (libxl__domain_rename), and /vm/<new>/uuid. Dominion also removes /vm/<old>,
// which the restarted domain writes again for itself (libxl__domain_make removes it before writing it).
import { DOMID_0 } from '@dominion/abi';
import { domainPath, vmPath } from './domain-home.js';
import { ToolstackError } from './errors.js';
import { checkDomid, ownedBy, type XsOp } from './xs-write.js';

export interface PreserveArgs {
  domid: number;
  /** The uuid the domain had (its config's, which the restarted domain takes). */
  oldUuid: string;
  /** Lowercase 8-4-4-4-12, the preserved domain's from now on. */
  newUuid: string;
  /** preservedName(name, now). */
  newName: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function preserveDomainOps(a: PreserveArgs): XsOp[] {
  checkDomid(a.domid, 'domain');
  for (const [what, u] of [
    ['old uuid', a.oldUuid],
    ['new uuid', a.newUuid],
  ] as const)
    if (!UUID.test(u))
      throw new ToolstackError(
        'EINVAL',
        `preserving domain ${a.domid}: ${what} "${u}" is not 8-4-4-4-12 lowercase hex`,
      );
  if (a.oldUuid === a.newUuid)
    throw new ToolstackError('EINVAL', `preserving domain ${a.domid}: the new uuid is the old one (${a.oldUuid})`);
  if (a.newName === '') throw new ToolstackError('EINVAL', `preserving domain ${a.domid}: the new name is empty`);
  const home = domainPath(a.domid);
  const vm = vmPath(a.newUuid);
  const roperm = ownedBy(DOMID_0, a.domid);
  const ops: XsOp[] = [
    { op: 'rm', path: vm },
    { op: 'write', path: vm, value: '', perms: roperm },
    { op: 'write', path: `${home}/vm`, value: vm, perms: roperm },
    { op: 'write', path: `${home}/name`, value: a.newName, perms: roperm },
    { op: 'write', path: `${vm}/name`, value: a.newName, perms: roperm },
    { op: 'write', path: `${vm}/uuid`, value: a.newUuid, perms: roperm },
    { op: 'rm', path: vmPath(a.oldUuid) },
  ];
  return ops;
}

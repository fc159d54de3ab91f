// The XenStore nodes libxl creates for a new domain (libxl_create.c libxl__domain_make, then
// libxl__build_post in libxl_dom.c), in the order they must be written, for ONE transaction; and what
// destroy removes. Permissions as libxl sets them: the home is dom0's with the guest reading it
// (`n0`,`r<id>`); the nodes the guest must write (control/shutdown and the feature flags, data, drivers,
// feature, attr, error, device/suspend/event-channel) are owned by the guest (`n<id>`); /vm/<uuid> and
// /libxl/<id> are dom0's alone (`n0`). store/* and console ring nodes are not written: Dominion's guests
// reach XenStore and their console over the bus, not through a ring page.
import { DOMID_0 } from '@dominion/abi';
import { ToolstackError } from './errors.js';
import { checkDomid, ownedBy, type XsWrite } from './xs-write.js';

export interface DomainHomeArgs {
  domid: number;
  name: string;
  /** Lowercase 8-4-4-4-12. */
  uuid: string;
  /** libxl's domain type, written to /libxl/<id>/type. */
  type: 'pv' | 'pvh' | 'hvm';
  /** KiB: the balloon target (xl.cfg memory). */
  targetKiB: number;
  /** KiB: static-max (xl.cfg maxmem). */
  staticMaxKiB: number;
  /** vCPUs online at boot (xl.cfg vcpus). */
  vcpus: number;
  /** cpu/<n> exists for n < maxvcpus (xl.cfg maxvcpus); default vcpus. */
  maxvcpus?: number;
  /** xl.cfg driver_domain=1 (xen-facts §10). */
  driverDomain: boolean;
  /** ms since the epoch; /vm/<uuid>/start_time is written as libxl does, `<sec>.<centisec>`. */
  startTimeMs: number;
}

export const domainPath = (domid: number): string => `/local/domain/${domid}`;
export const vmPath = (uuid: string): string => `/vm/${uuid}`;
export const libxlPath = (domid: number): string => `/libxl/${domid}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Guest-owned nodes under the home: what the guest writes to talk back to the toolstack. */
export const GUEST_WRITABLE_NODES = [
  'control/shutdown',
  'control/feature-poweroff',
  'control/feature-reboot',
  'control/feature-suspend',
  'device/suspend/event-channel',
  'data',
  'drivers',
  'feature',
  'attr',
  'error',
] as const;

/** Extra guest-owned nodes of a driver domain, so libxl and QEMU can run inside it. */
export const DRIVER_DOMAIN_NODES = ['libxl', 'device-model'] as const;

export function domainHomeWrites(a: DomainHomeArgs): XsWrite[] {
  checkDomid(a.domid, 'domain');
  if (!UUID.test(a.uuid))
    throw new ToolstackError('EINVAL', `domain ${a.domid}: uuid "${a.uuid}" is not 8-4-4-4-12 lowercase hex`);
  if (a.name === '') throw new ToolstackError('EINVAL', `domain ${a.domid}: the name is empty`);
  const maxvcpus = a.maxvcpus ?? a.vcpus;
  if (!Number.isInteger(a.vcpus) || a.vcpus < 1 || !Number.isInteger(maxvcpus) || maxvcpus < a.vcpus) {
    throw new ToolstackError(
      'EINVAL',
      `domain ${a.domid}: vcpus ${a.vcpus} / maxvcpus ${maxvcpus} (need 1 <= vcpus <= maxvcpus)`,
    );
  }
  for (const [what, kib] of [
    ['memory/target', a.targetKiB],
    ['memory/static-max', a.staticMaxKiB],
  ] as const) {
    if (!Number.isSafeInteger(kib) || kib < 0)
      throw new ToolstackError('EINVAL', `domain ${a.domid}: ${what} ${kib} KiB is not a size`);
  }

  const home = domainPath(a.domid);
  const vm = vmPath(a.uuid);
  const ro = ownedBy(DOMID_0, a.domid);
  const rw = ownedBy(a.domid);
  const dom0Only = ownedBy(DOMID_0);
  const w = (path: string, value: string, perms: XsWrite['perms']): XsWrite => ({ path, value, perms });

  const writes: XsWrite[] = [
    w(home, '', ro),
    w(vm, '', dom0Only),
    w(libxlPath(a.domid), '', dom0Only),
    w(`${home}/vm`, vm, ro),
    w(`${home}/name`, a.name, ro),
    w(`${vm}/name`, a.name, dom0Only),
    w(`${home}/domid`, String(a.domid), ro),
    w(`${home}/device`, '', ro),
    w(`${home}/control`, '', ro),
    w(`${home}/console`, '', ro),
    w(`${home}/control/platform-feature-multiprocessor-suspend`, '1', ro),
    w(`${home}/control/platform-feature-xs_reset_watches`, '1', ro),
    ...GUEST_WRITABLE_NODES.map((n) => w(`${home}/${n}`, '', rw)),
  ];
  if (a.driverDomain) writes.push(...DRIVER_DOMAIN_NODES.map((n) => w(`${home}/${n}`, '', rw)));
  writes.push(
    w(`${vm}/uuid`, a.uuid, dom0Only),
    w(`${vm}/start_time`, startTime(a.startTimeMs), dom0Only),
    w(`${libxlPath(a.domid)}/type`, a.type, dom0Only),
    w(`${home}/memory/static-max`, String(a.staticMaxKiB), ro),
    w(`${home}/memory/target`, String(a.targetKiB), ro),
  );
  for (let n = 0; n < maxvcpus; n++) {
    writes.push(w(`${home}/cpu/${n}/availability`, n < a.vcpus ? 'online' : 'offline', ro));
  }
  return writes;
}

/** libxl: "%jd.%02d" of seconds and hundredths. */
function startTime(ms: number): string {
  const sec = Math.floor(ms / 1000);
  const cs = Math.floor((ms - sec * 1000) / 10);
  return `${sec}.${String(cs).padStart(2, '0')}`;
}

/** A device class whose backend directory for this domain lives in a backend domain's home. */
export interface BackendRef {
  backendDomid: number;
  /** The backend kind: vbd, qdisk, vbd3, vif, 9pfs, vtpm… */
  kind: string;
}

/**
 * What destroy removes (each RM is recursive): the home, /vm/<uuid>, /libxl/<id>, and this domain's
 * backend directories in each backend domain (libxl__devices_destroy removes those per device; a crashed
 * backend's leftovers go with them).
 */
export function domainTeardownPaths(domid: number, uuid: string, backends: readonly BackendRef[] = []): string[] {
  checkDomid(domid, 'domain');
  const seen = new Set<string>();
  for (const b of backends) {
    checkDomid(b.backendDomid, 'backend domain');
    seen.add(`${domainPath(b.backendDomid)}/backend/${b.kind}/${domid}`);
  }
  return [...seen, domainPath(domid), vmPath(uuid), libxlPath(domid)];
}

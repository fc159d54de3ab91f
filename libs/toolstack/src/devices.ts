// A device the toolstack attached to a domain: the parsed spec (with the MAC it drew for a vif) and the
// driver domain serving it, by name and by the domid that domain had then. dom0 records these with the
// frontend's domain so that a driver domain that comes back under a new domid gets its devices again
// (ARCHITECTURE §3), across a dom0 restart too. The backend is named as xl names it (`backend=<name|domid>`);
// when unset, Dominion's default is the driver domain named `blkback` (vbd) or `netback` (vif): dom0 serves
// no backends here, unlike Xen's default of dom0.
import { DOMID_0 } from '@dominion/abi';
import type { DiskSpec, VifSpec } from '@dominion/xlcfg';
import { vbdDirs, vifDirs, type DeviceDirs, type DeviceEnds, type DevicePaths } from './device-dirs.js';
import type { BackendRef } from './domain-home.js';
import { ToolstackError } from './errors.js';

export type DeviceKind = 'vbd' | 'vif';

export type ToolstackDevice =
  | { kind: 'vbd'; disk: DiskSpec; backend: string; backendDomid: number }
  | { kind: 'vif'; vif: VifSpec & { mac: string }; backend: string; backendDomid: number };

/** The driver domain a device goes to when its spec names none. */
export const DEFAULT_BACKEND: Readonly<Record<DeviceKind, string>> = { vbd: 'blkback', vif: 'netback' };

/** What resolving a backend needs to know of each domain (getdomaininfo's fields). */
export interface BackendCandidate {
  domid: number;
  name: string;
  privilege?: 'control' | 'driver' | 'guest';
}

export const deviceDevid = (d: ToolstackDevice): number => (d.kind === 'vbd' ? d.disk.devid : d.vif.devid);

/** `vbd xvda (51712)` / `vif 0`: how messages name a device. */
export const deviceLabel = (d: ToolstackDevice): string =>
  d.kind === 'vbd' ? `vbd ${d.disk.vdev} (${d.disk.devid})` : `vif ${d.vif.devid}`;

/**
 * The driver domain that serves a device: `backend=` as a domid or a name, else DEFAULT_BACKEND. It must
 * exist, be a driver domain (driver_domain=1) and not be the frontend itself.
 */
export function resolveBackend(
  kind: DeviceKind,
  named: string | undefined,
  frontendDomid: number,
  domains: readonly BackendCandidate[],
  label: string,
): { name: string; domid: number } {
  let d: BackendCandidate | undefined;
  if (named === undefined || named === '') {
    const name = DEFAULT_BACKEND[kind];
    d = domains.find((x) => x.name === name);
    if (!d)
      throw new ToolstackError(
        'ESRCH',
        `${label}: no backend= given and no driver domain named "${name}" exists; dom0 serves no ${kind} in Dominion: ` +
          `create one (xl create examples/${name}.cfg) or name one with backend=<domain>`,
      );
  } else {
    d = /^[0-9]+$/.test(named) ? domains.find((x) => x.domid === Number(named)) : domains.find((x) => x.name === named);
    if (!d) throw new ToolstackError('ESRCH', `${label}: backend domain "${named}" does not exist`);
  }
  if (d.domid === DOMID_0)
    throw new ToolstackError(
      'EINVAL',
      `${label}: backend ${d.name} (domain 0): dom0 serves no ${kind} in Dominion; name a driver domain with backend=<domain>`,
    );
  if (d.domid === frontendDomid)
    throw new ToolstackError('EINVAL', `${label}: domain ${d.domid} (${d.name}) cannot be its own backend`);
  if (d.privilege !== undefined && d.privilege !== 'driver')
    throw new ToolstackError(
      'EINVAL',
      `${label}: backend domain ${d.domid} (${d.name}) is not a driver domain (driver_domain=1 in its config)`,
    );
  return { name: d.name, domid: d.domid };
}

/** The device's frontend and backend dirs for frontend `fe` (libxl's keys and perms, state 1). */
export function deviceDirs(fe: number, d: ToolstackDevice, protocol?: DeviceEnds['protocol']): DeviceDirs {
  const ends: DeviceEnds = { frontendDomid: fe, backendDomid: d.backendDomid, ...(protocol && { protocol }) };
  return d.kind === 'vbd' ? vbdDirs(ends, d.disk) : vifDirs(ends, d.vif);
}

/** The backend dir's kind (vbd, qdisk, vbd3, vif) out of its path `/local/domain/<be>/backend/<kind>/…`. */
const backendKindOf = (p: DevicePaths): string => p.backend.split('/')[5];

/** For domainTeardownPaths: the backend dirs a frontend's devices have in their driver domains. */
export function deviceBackendRefs(fe: number, devices: readonly ToolstackDevice[]): BackendRef[] {
  return devices.map((d) => ({ backendDomid: d.backendDomid, kind: backendKindOf(deviceDirs(fe, d).paths) }));
}

/** A devid not in use: xl's next free index for vifs (libxl__device_nextid). */
export function nextVifDevid(devices: readonly ToolstackDevice[]): number {
  const used = new Set(devices.filter((d) => d.kind === 'vif').map(deviceDevid));
  let n = 0;
  while (used.has(n)) n++;
  return n;
}

/**
 * The device of `kind` an xl detach names: a devid, for a vbd also its vdev (`xvdb`), for a vif also its
 * MAC. ENODEV when the domain has none.
 */
export function findDevice(
  kind: DeviceKind,
  devices: readonly ToolstackDevice[],
  which: string,
  domid: number,
): ToolstackDevice {
  const mac = which.toLowerCase();
  const d = devices.find((x) => {
    if (x.kind !== kind) return false;
    if (/^[0-9]+$/.test(which) && deviceDevid(x) === Number(which)) return true;
    return x.kind === 'vbd' ? x.disk.vdev === which : x.vif.mac === mac;
  });
  if (!d) throw new ToolstackError('ENODEV', `domain ${domid} has no ${kind} "${which}"`);
  return d;
}

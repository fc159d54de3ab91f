// The frontend and backend directories libxl writes for a vbd or vif (libxl__device_generic_add with
// libxl_disk.c / libxl_nic.c's keys; xen-facts §2, §3), both at state 1 (Initialising), for the same
// transaction. The frontend is the guest's with the backend reading it; the backend is the backend
// domain's with the frontend reading it. /libxl/<fe>/device/<kind>/<devid> keeps dom0's trusted copy
// of both paths, so removal does not have to believe what the guest wrote.
import { DOMID_0, XenbusState } from '@dominion/abi';
import type { DiskSpec, VifSpec } from '@dominion/xlcfg';
import { domainPath, libxlPath } from './domain-home.js';
import { checkDomid, ownedBy, type XsWrite } from './xs-write.js';

export interface DevicePaths {
  frontend: string;
  backend: string;
  libxl: string;
}

export interface DeviceDirs {
  paths: DevicePaths;
  writes: XsWrite[];
}

export interface DeviceEnds {
  frontendDomid: number;
  backendDomid: number;
  /** PV guests get `protocol`; Dominion's guests are x86_64-abi. */
  protocol?: 'x86_64-abi' | 'x86_32-abi' | 'arm-abi';
}

/** XenStore name of a backend directory: `frontend kind` and `backend kind` differ for qdisk/tap. */
export function devicePaths(
  kind: { frontend: string; backend: string },
  fe: number,
  be: number,
  devid: number,
): DevicePaths {
  return {
    frontend: `${domainPath(fe)}/device/${kind.frontend}/${devid}`,
    backend: `${domainPath(be)}/backend/${kind.backend}/${fe}/${devid}`,
    libxl: `${libxlPath(fe)}/device/${kind.frontend}/${devid}`,
  };
}

const INITIALISING = String(XenbusState.XenbusStateInitialising);
const bool = (b: boolean): string => (b ? '1' : '0');

function dirs(paths: DevicePaths, ends: DeviceEnds, front: [string, string][], back: [string, string][]): DeviceDirs {
  const { frontendDomid: fe, backendDomid: be } = ends;
  const fePerms = ownedBy(fe, be);
  const bePerms = ownedBy(be, fe);
  const dom0 = ownedBy(DOMID_0);
  const writes: XsWrite[] = [
    { path: paths.frontend, value: '', perms: fePerms },
    ...front.map(([k, v]) => ({ path: `${paths.frontend}/${k}`, value: v, perms: fePerms })),
    { path: paths.backend, value: '', perms: bePerms },
    ...back.map(([k, v]) => ({ path: `${paths.backend}/${k}`, value: v, perms: bePerms })),
    { path: paths.libxl, value: '', perms: dom0 },
    { path: `${paths.libxl}/frontend`, value: paths.frontend, perms: dom0 },
    { path: `${paths.libxl}/backend`, value: paths.backend, perms: dom0 },
  ];
  return { paths, writes };
}

/** libxl's backend `type` and directory name for a disk's backendtype (phy when unset: Dominion's blkback). */
const DISK_BACKENDS = {
  phy: { type: 'phy', dir: 'vbd' },
  standalone: { type: 'standalone', dir: 'vbd' },
  qdisk: { type: 'qdisk', dir: 'qdisk' },
  tap: { type: 'vbd3', dir: 'vbd3' },
} as const;

export function vbdDirs(ends: DeviceEnds, disk: DiskSpec): DeviceDirs {
  checkDomid(ends.frontendDomid, 'frontend domain');
  checkDomid(ends.backendDomid, 'backend domain');
  const backend = DISK_BACKENDS[disk.backendtype ?? 'phy'];
  const paths = devicePaths(
    { frontend: 'vbd', backend: backend.dir },
    ends.frontendDomid,
    ends.backendDomid,
    disk.devid,
  );
  const deviceType = disk.isCdrom ? 'cdrom' : 'disk';
  const target = disk.target ?? '';
  const front: [string, string][] = [
    ['backend', paths.backend],
    ['backend-id', String(ends.backendDomid)],
    ['state', INITIALISING],
    ['virtual-device', String(disk.devid)],
    ['device-type', deviceType],
    ['trusted', bool(disk.trusted ?? true)],
  ];
  if (ends.protocol) front.push(['protocol', ends.protocol]);
  const back: [string, string][] = [
    ['frontend', paths.frontend],
    ['frontend-id', String(ends.frontendDomid)],
    ['online', '1'],
    ['state', INITIALISING],
    ['removable', bool(disk.removable)],
    ['bootable', '1'],
    ['dev', disk.vdev],
    ['type', backend.type],
    ['mode', disk.readwrite ? 'w' : 'r'],
    ['device-type', deviceType],
    ['params', backend.type === 'phy' || target === '' ? target : `${disk.format}:${target}`],
    ['discard-enable', bool(disk.discardEnable ?? true)],
    ['specification', disk.specification ?? 'xen'],
  ];
  if (disk.script !== undefined) back.push(['script', disk.script]);
  if (disk.directIoSafe) back.push(['direct-io-safe', '1']);
  // Dominion's: the size blkback creates a missing image with
  if (disk.size !== undefined) back.push(['size', disk.size]);
  return dirs(paths, ends, front, back);
}

/** `mac` must be set by now: the toolstack draws a random one (randomXenMac) when the spec has none. */
export function vifDirs(ends: DeviceEnds, vif: VifSpec & { mac: string }): DeviceDirs {
  checkDomid(ends.frontendDomid, 'frontend domain');
  checkDomid(ends.backendDomid, 'backend domain');
  const paths = devicePaths({ frontend: 'vif', backend: 'vif' }, ends.frontendDomid, ends.backendDomid, vif.devid);
  const trusted = bool(vif.trusted ?? true);
  const front: [string, string][] = [
    ['backend', paths.backend],
    ['backend-id', String(ends.backendDomid)],
    ['state', INITIALISING],
    ['handle', String(vif.devid)],
    ['mac', vif.mac],
    ['trusted', trusted],
    ['mtu', String(vif.mtu)],
  ];
  const back: [string, string][] = [
    ['frontend', paths.frontend],
    ['frontend-id', String(ends.frontendDomid)],
    ['online', '1'],
    ['state', INITIALISING],
    ['script', vif.script],
    ['mac', vif.mac],
    ['bridge', vif.bridge],
    ['handle', String(vif.devid)],
    ['type', vif.type === 'ioemu' ? 'vif_ioemu' : 'vif'],
    ['mtu', String(vif.mtu)],
    // empty: the backend waits for the hotplug script's `connected` before reporting Connected
    ['hotplug-status', ''],
  ];
  if (vif.vifname !== undefined) back.push(['vifname', vif.vifname]);
  if (vif.ip !== undefined) back.push(['ip', vif.ip]);
  if (vif.gatewaydev !== undefined) back.push(['gatewaydev', vif.gatewaydev]);
  if (vif.rate) back.push(['rate', `${vif.rate.bytesPerInterval},${vif.rate.intervalUsecs}`]);
  if (vif.vlan) back.push(['vlan', vif.vlan.spec]);
  return dirs(paths, ends, front, back);
}

// Beyond Xen (ARCHITECTURE §3): a driver domain that comes back under a new domid (on_crash=restart, or
// created again by name) gets the devices its predecessor served. In ONE transaction: the backend dir is
// written afresh under the new domid (libxl's keys, state 1), the frontend's `backend`/`backend-id` and
// dom0's /libxl copy point at it, every node of the frontend dir grants the new backend read access (the
// frontend's own ring-ref, event-channel… included, or the new backend could not read them: xenstored
// dropped the dead domain's entries when it was released, and any left are handed over), and the old
// backend dir is removed. The frontend's `state` and keys are
// the frontend's: it notices the new backend and runs the handshake again.
import type { XsPerm } from '@dominion/xenstore';
import { deviceDirs, type ToolstackDevice } from './devices.js';
import type { DeviceEnds } from './device-dirs.js';
import type { XsOp } from './xs-write.js';

/** A node of the frontend dir as it is now. */
export interface XsNodePerms {
  path: string;
  perms: XsPerm[];
}

/**
 * `perms` with the entry of `from` given to `to`, and a read entry for `to` added when it has none (the
 * first entry for a domid wins, as xenstored keeps it; entry 0, the owner, stays).
 */
export function retargetPerms(perms: readonly XsPerm[], from: number, to: number): XsPerm[] {
  const out: XsPerm[] = [];
  for (const [i, p] of perms.entries()) {
    const q = i > 0 && p.domid === from ? { ...p, domid: to } : p;
    if (i > 0 && out.some((x, j) => j > 0 && x.domid === q.domid)) continue;
    out.push(q);
  }
  if (!out.some((x, j) => j > 0 && x.domid === to) && out[0]?.domid !== to) out.push({ domid: to, perm: 'r' });
  return out;
}

const under = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);

export interface DeviceMove {
  /** The device as it is after the move. */
  device: ToolstackDevice;
  ops: XsOp[];
}

/**
 * The transaction's steps moving `device` of frontend `fe` to backend domain `newBackendDomid`.
 * `frontendNodes` is the frontend dir and everything under it, read just before.
 */
export function deviceMoveOps(
  fe: number,
  device: ToolstackDevice,
  newBackendDomid: number,
  frontendNodes: readonly XsNodePerms[],
  protocol?: DeviceEnds['protocol'],
): DeviceMove {
  const oldBe = device.backendDomid;
  const moved: ToolstackDevice = { ...device, backendDomid: newBackendDomid };
  const before = deviceDirs(fe, device).paths;
  const { paths, writes } = deviceDirs(fe, moved, protocol);
  const ops: XsOp[] = [];
  for (const n of frontendNodes) {
    if (!under(n.path, paths.frontend)) continue;
    const perms = retargetPerms(n.perms, oldBe, newBackendDomid);
    if (JSON.stringify(perms) !== JSON.stringify(n.perms)) ops.push({ op: 'set-perms', path: n.path, perms });
  }
  const frontendKeys = new Set([`${paths.frontend}/backend`, `${paths.frontend}/backend-id`]);
  const libxlBackend = `${paths.libxl}/backend`;
  for (const w of writes) {
    if (frontendKeys.has(w.path) || w.path === libxlBackend || under(w.path, paths.backend))
      ops.push({ op: 'write', ...w });
  }
  if (before.backend !== paths.backend) ops.push({ op: 'rm', path: before.backend });
  return { device: moved, ops };
}

// The toolstack's vbds and vifs (libxl_device_disk_* / libxl_device_nic_* of Dominion): devices from a config
// resolved to their driver domains, hot attach and detach, the lists xl prints, and the move of every
// device of a driver domain that came back under a new domid. The layout is @dominion/toolstack's; this
// reads and writes XenStore and keeps the frontend domain's record of its devices up to date.
import { randomBytes } from 'node:crypto';
import { XEN_ERRNO, XenbusState, type XenErrno, type XenbusStateValue } from '@dominion/abi';
import { BusError } from '@dominion/bus';
import type { HypervisorClient } from '@dominion/hypervisor';
import type { Logger } from '@dominion/runtime';
import {
  blockListRowFrom,
  deviceDevid,
  deviceDirs,
  deviceLabel,
  deviceMoveOps,
  DeviceRemoval,
  networkListRowFrom,
  resolveBackend,
  writeOps,
  type BlockListRow,
  type DeviceKind,
  type NetworkListRow,
  type ToolstackDevice,
  type XsOp,
} from '@dominion/toolstack';
import { errorPath } from '@dominion/xenbus';
import { randomXenMac, type DiskSpec, type DomainConfig, type VifSpec } from '@dominion/xlcfg';
import type { Dom0Xs } from './dom0-xs.js';

/** A domain with devices: what the manager reads and updates of the toolstack's guest. */
export interface DeviceOwner {
  domid: number;
  name: string;
  type: DomainConfig['type'];
  devices: ToolstackDevice[];
}

const POLL_MS = 50;
/** How long an attach waits for the backend to take the device (InitWait) or refuse it (its error node). */
const ATTACH_ANSWER_MS = 5000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** libxl writes `protocol` for PV guests (Dominion's are x86_64). */
export const protocolOf = (o: Pick<DeviceOwner, 'type'>): 'x86_64-abi' | undefined =>
  o.type === 'pv' ? 'x86_64-abi' : undefined;

export class DeviceManager {
  constructor(
    private readonly xs: () => Dom0Xs,
    private readonly hv: HypervisorClient,
    private readonly owners: () => Iterable<DeviceOwner>,
    /** Persists the owner's record after its devices changed. */
    private readonly save: (o: DeviceOwner) => void,
    private readonly log: Logger,
  ) {}

  private async backendOf(kind: DeviceKind, named: string | undefined, fe: number, label: string) {
    return resolveBackend(kind, named, fe, await this.hv.listDomains(), label);
  }

  private async disk(disk: DiskSpec, fe: number): Promise<ToolstackDevice> {
    const b = await this.backendOf('vbd', disk.backend, fe, `vbd ${disk.vdev}`);
    return { kind: 'vbd', disk, backend: b.name, backendDomid: b.domid };
  }

  private async vif(vif: VifSpec, fe: number, drawn?: string): Promise<ToolstackDevice> {
    const b = await this.backendOf('vif', vif.backend, fe, `vif ${vif.devid}`);
    const mac = vif.mac ?? drawn ?? randomXenMac((n) => randomBytes(n));
    return { kind: 'vif', vif: { ...vif, mac }, backend: b.name, backendDomid: b.domid };
  }

  /** A config's disks and vifs with their driver domains, resolved before the domain exists (fe = -1). */
  async fromConfig(config: DomainConfig): Promise<ToolstackDevice[]> {
    const out: ToolstackDevice[] = [];
    for (const d of config.disks) out.push(await this.disk(d, -1));
    for (const v of config.vifs) out.push(await this.vif(v, -1));
    const seen = new Set<string>();
    for (const d of out) {
      const key = `${d.kind}/${deviceDevid(d)}`;
      if (seen.has(key)) throw new BusError('EEXIST', `${config.name}: ${deviceLabel(d)} is configured twice`);
      seen.add(key);
    }
    return out;
  }

  /**
   * The devices a domain had, for the domain that restarts it (before it exists, fe = -1): each spec as it
   * was (a vif keeps its MAC), its driver domain resolved again by the spec's backend= (or the default),
   * since a driver domain may itself have come back under a new domid.
   */
  async resolveAgain(previous: readonly ToolstackDevice[]): Promise<ToolstackDevice[]> {
    const out: ToolstackDevice[] = [];
    for (const d of previous) out.push(d.kind === 'vbd' ? await this.disk(d.disk, -1) : await this.vif(d.vif, -1));
    return out;
  }

  /** The dirs of every device of a domain being created, for its creation transaction. */
  creationOps(o: DeviceOwner): XsOp[] {
    return o.devices.flatMap((d) => writeOps(deviceDirs(o.domid, d, protocolOf(o)).writes));
  }

  /** xl block-attach / network-attach: the dirs in one transaction, then the record. */
  async attach(o: DeviceOwner, spec: { disk: DiskSpec } | { vif: VifSpec }): Promise<ToolstackDevice> {
    const d = 'disk' in spec ? await this.disk(spec.disk, o.domid) : await this.vif(spec.vif, o.domid);
    if (o.devices.some((x) => x.kind === d.kind && deviceDevid(x) === deviceDevid(d)))
      throw new BusError('EEXIST', `domain ${o.domid} (${o.name}) already has ${deviceLabel(d)}`);
    if (d.kind === 'vif' && o.devices.some((x) => x.kind === 'vif' && x.vif.mac === d.vif.mac))
      throw new BusError('EEXIST', `domain ${o.domid} (${o.name}) already has a vif with mac ${d.vif.mac}`);
    await this.xs().transaction(this.creationOps({ ...o, devices: [d] }));
    // As libxl waits for the backend's hotplug: a refused device (target held elsewhere, duplicate MAC, bad
    // path) fails the attach and leaves nothing, instead of a device stuck Closed in block-list.
    const refusal = await this.backendRefusal(deviceDirs(o.domid, d).paths.backend);
    if (refusal !== undefined) {
      const { paths } = deviceDirs(o.domid, d);
      await this.xs().transaction([paths.frontend, paths.backend, paths.libxl].map((path) => ({ op: 'rm', path })));
      throw new BusError(refusal.kind, `domain ${o.domid}: ${deviceLabel(d)} refused by ${d.backend}: ${refusal.why}`);
    }
    o.devices.push(d);
    this.save(o);
    this.log.info({ domid: o.domid }, `toolstack: ${deviceLabel(d)} of domain ${o.domid} served by ${d.backend}`);
    return d;
  }

  /**
   * xl block-detach / network-detach (libxl's device removal): backend online=0 and Closing, then wait for
   * the frontend to release it (the backend or the frontend Closed, the frontend Initialising, or its dir
   * gone) within `timeoutMs`;
   * ETIMEDOUT otherwise, the device left closing. `force` removes at once. A backend whose driver domain is
   * gone leaves only the frontend side to remove.
   */
  async detach(o: DeviceOwner, d: ToolstackDevice, force: boolean, timeoutMs: number): Promise<void> {
    const xs = this.xs();
    const { paths } = deviceDirs(o.domid, d);
    const removal = new DeviceRemoval(paths, d.backendDomid, o.domid, Date.now(), timeoutMs);
    const stateOf = async (p: string): Promise<XenbusStateValue | undefined> => {
      const v = await xs.read(`${p}/state`);
      return v === undefined || !/^[0-9]+$/.test(v) ? undefined : (Number(v) as XenbusStateValue);
    };
    if ((await stateOf(paths.backend)) !== undefined) await xs.transaction(writeOps(removal.initialWrites()));
    for (;;) {
      const be = await stateOf(paths.backend);
      const fe = await stateOf(paths.frontend);
      // a frontend that never left Initialising (or came back to it) holds nothing of the device
      const closed =
        fe === undefined || fe === XenbusState.XenbusStateClosed || fe === XenbusState.XenbusStateInitialising;
      const step = removal.observe(
        be !== undefined && (closed || force) ? XenbusState.XenbusStateClosed : be,
        Date.now(),
      );
      if (step.kind === 'remove') {
        if (step.outcome === 'timeout')
          throw new BusError(
            'ETIMEDOUT',
            `domain ${o.domid}: ${deviceLabel(d)} was not released by the frontend within ${timeoutMs / 1000} s (backend ${paths.backend} left closing); --force removes it`,
          );
        await xs.transaction(step.paths.map((path) => ({ op: 'rm', path })));
        break;
      }
      await sleep(POLL_MS);
    }
    o.devices.splice(o.devices.indexOf(d), 1);
    this.save(o);
    this.log.info({ domid: o.domid }, `toolstack: ${deviceLabel(d)} of domain ${o.domid} removed`);
  }

  /**
   * The backend's answer to a new device: undefined once it is at InitWait or beyond (or silent for
   * ATTACH_ANSWER_MS: a driver domain that is down picks the device up when it is back), or its refusal from
   * the xenbus error node (`<errno> <message>`) when it set hotplug-status=error or went Closing.
   */
  private async backendRefusal(backend: string): Promise<{ kind: XenErrno; why: string } | undefined> {
    const xs = this.xs();
    const end = Date.now() + ATTACH_ANSWER_MS;
    for (;;) {
      const state = Number((await xs.read(`${backend}/state`)) ?? NaN);
      const hotplug = await xs.read(`${backend}/hotplug-status`);
      if (hotplug === 'error' || state >= XenbusState.XenbusStateClosing) {
        const m = /^(\d+) (.*)$/s.exec((await xs.read(errorPath(backend))) ?? '');
        const kind = m ? (Object.entries(XEN_ERRNO).find(([, n]) => n === Number(m[1]))?.[0] as XenErrno) : undefined;
        return { kind: kind ?? 'EIO', why: m ? m[2] : `backend ${backend} went to state ${state}` };
      }
      if (state >= XenbusState.XenbusStateInitWait && state < XenbusState.XenbusStateClosing) return undefined;
      if (Date.now() > end) {
        this.log.warn({}, `toolstack: backend ${backend} has not answered within ${ATTACH_ANSWER_MS / 1000} s`);
        return undefined;
      }
      await sleep(POLL_MS);
    }
  }

  private async frontendKeys(dir: string, keys: readonly string[]): Promise<Record<string, string | undefined>> {
    const out: Record<string, string | undefined> = {};
    for (const k of keys) out[k] = await this.xs().read(`${dir}/${k}`);
    return out;
  }

  private async devids(domid: number, kind: DeviceKind): Promise<number[]> {
    return (await this.xs().directory(`/local/domain/${domid}/device/${kind}`))
      .filter((n) => /^[0-9]+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** xl block-list: what the frontend dirs say (libxl_device_disk_getinfo). */
  async blockList(domid: number): Promise<BlockListRow[]> {
    const rows: BlockListRow[] = [];
    for (const devid of await this.devids(domid, 'vbd')) {
      const k = await this.frontendKeys(`/local/domain/${domid}/device/vbd/${devid}`, [
        'backend',
        'backend-id',
        'state',
        'event-channel',
        'ring-ref',
      ]);
      rows.push(blockListRowFrom(devid, domid, k));
    }
    return rows;
  }

  /** xl network-list (libxl_device_nic_getinfo). */
  async networkList(domid: number): Promise<NetworkListRow[]> {
    const rows: NetworkListRow[] = [];
    for (const devid of await this.devids(domid, 'vif')) {
      const k = await this.frontendKeys(`/local/domain/${domid}/device/vif/${devid}`, [
        'backend',
        'backend-id',
        'mac',
        'state',
        'event-channel',
        'tx-ring-ref',
        'rx-ring-ref',
      ]);
      rows.push(networkListRowFrom(devid, k));
    }
    return rows;
  }

  /**
   * Driver domain `name` is (back) at `domid`: every device recorded with that backend under another domid
   * moves to it, all in one transaction, and the records follow. Devices whose frontend dir is gone stay
   * as they are. Returns how many moved.
   */
  async moveToBackend(name: string, domid: number): Promise<number> {
    const ops: XsOp[] = [];
    const changes: { o: DeviceOwner; i: number; d: ToolstackDevice }[] = [];
    for (const o of this.owners()) {
      for (const [i, d] of o.devices.entries()) {
        if (d.backend !== name || d.backendDomid === domid) continue;
        const frontend = deviceDirs(o.domid, d).paths.frontend;
        const nodes = await this.xs().treePerms(frontend);
        if (nodes.length === 0) continue;
        const m = deviceMoveOps(o.domid, d, domid, nodes, protocolOf(o));
        ops.push(...m.ops);
        changes.push({ o, i, d: m.device });
      }
    }
    if (changes.length === 0) return 0;
    await this.xs().transaction(ops);
    for (const c of changes) {
      const from = c.o.devices[c.i].backendDomid;
      c.o.devices[c.i] = c.d;
      this.log.info(
        { domid: c.o.domid },
        `toolstack: ${deviceLabel(c.d)} of domain ${c.o.domid} moved from backend domain ${from} to ${name} (domain ${domid})`,
      );
    }
    for (const o of new Set(changes.map((c) => c.o))) this.save(o);
    return changes.length;
  }
}

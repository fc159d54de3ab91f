// The vif backends of this net driver domain: the xenbus handshake (libs/xenbus) on every device under
// /local/domain/<me>/backend/vif, as Linux netback runs it (xen-facts §3, §5). Probe publishes netback's
// features and goes InitWait; when the frontend is Connected (netback ignores Initialised) the vif is
// plugged into the bridge its `bridge` key names, with its `mac`, `ip`, `rate` and `vlan`, and the
// device goes Connected. Dominion has no hotplug script: plugging the vif is vif-bridge's job done here,
// so netback itself writes `hotplug-status=connected` with Connected. A MAC already on the bridge, a
// bridge this domain lacks, or a bad key fails the device: the error goes to its xenbus error node and
// the backend switches to Closing. Each queue's `event-channel` is bound (EVTCHNOP_bind_interdomain) as
// netback's connect_data_rings binds it; a port the frontend did not offer to this domain fails the device.
import type { DomId, EvtchnPort } from '@dominion/abi';
import { messageOf } from '@dominion/bus';
import { VIF_BACKEND_KEYS as B, VIF_TOOLSTACK_BACKEND_KEYS as K } from '@dominion/netif';
import {
  S,
  XenbusBackendDir,
  XenbusKeyReader,
  type XenbusDevice,
  type XenbusKeys,
  type XenbusLogger,
  type XenbusStore,
} from '@dominion/xenbus';
import type { Bridges } from './bridges.js';
import { NetbackError } from './errors.js';
import { readVifConfig } from './vif-config.js';
import { readVifFrontend, type VifFrontend } from './vif-frontend.js';
import { VifPort } from './vif-port.js';

export interface VifConnection {
  vif: VifPort;
  frontend: VifFrontend;
  device: XenbusDevice;
  mtu: number;
  /** This domain's ends of the queues' event channels, bound at connect, closed at disconnect. */
  ports: EvtchnPort[];
}

/** The event-channel hypercalls netback makes (HypervisorClient has them). */
export interface VifEvtchn {
  evtchnBindInterdomain(remoteDom: DomId, remotePort: EvtchnPort): Promise<EvtchnPort>;
  evtchnClose(port: EvtchnPort): Promise<void>;
}

export interface VifBackendsOptions {
  store: XenbusStore;
  /** /local/domain/<me>/backend/vif */
  path: string;
  bridges: Bridges;
  /** Published as multi-queue-max-queues (Linux: one per CPU). Default 1. */
  maxQueues?: number;
  /** Published as `grpc-endpoint` (docs/device-keys.md): where this domain serves the vifs' ring streams. */
  endpoint?: string;
  /** Binds each queue's event-channel at connect; without it the ports are only read. */
  evtchn?: VifEvtchn;
  logger?: XenbusLogger;
  /**
   * The vif is on its bridge and the frontend's rings are known: bind its rings here (vif.bind). Runs
   * before Connected is published; a throw fails the device.
   */
  onConnect?(c: VifConnection): void | Promise<void>;
  /** The vif left its bridge (frontend closed, device removed, netback stopping). */
  onDisconnect?(c: VifConnection, why: string): void | Promise<void>;
}

/** The features netback publishes at probe (Linux netback_probe; only what Dominion's netback does). */
export function vifProbeKeys(maxQueues: number, endpoint?: string): XenbusKeys {
  const keys: XenbusKeys = {
    [B.FEATURE_SG]: '1',
    [B.FEATURE_GSO_TCPV4]: '1',
    [B.FEATURE_RX_COPY]: '1',
    [B.FEATURE_RX_FLIP]: '0',
    [B.MULTI_QUEUE_MAX_QUEUES]: String(maxQueues),
  };
  if (endpoint !== undefined) keys[GRPC_ENDPOINT] = endpoint;
  return keys;
}

/** Dominion's key for the backend's ring service (docs/device-keys.md). */
export const GRPC_ENDPOINT = 'grpc-endpoint';

export class VifBackends {
  private readonly connected = new Map<string, VifConnection>();
  private dir: XenbusBackendDir<VifFrontend> | undefined;

  private constructor(private readonly opts: VifBackendsOptions) {}

  static async start(opts: VifBackendsOptions): Promise<VifBackends> {
    const v = new VifBackends(opts);
    const maxQueues = opts.maxQueues ?? 1;
    v.dir = await XenbusBackendDir.watch<VifFrontend>({
      store: opts.store,
      path: opts.path,
      logger: opts.logger,
      device: () => ({
        logger: opts.logger,
        connectOn: [S.Connected],
        handlers: {
          probe: () => vifProbeKeys(maxQueues, opts.endpoint),
          readFrontend: (r) => readVifFrontend(r, maxQueues),
          connect: (frontend, dev) => v.connect(frontend, dev),
          disconnect: (dev, why) => v.disconnect(dev, why),
        },
      }),
    });
    return v;
  }

  /** The vifs on their bridges now. */
  connections(): VifConnection[] {
    return [...this.connected.values()];
  }

  /** The vif of frontend domain `domid`, device `devid`, if connected. */
  vif(domid: number, devid: number): VifPort | undefined {
    return this.connected.get(`${this.opts.path}/${domid}/${devid}`)?.vif;
  }

  /** Resolves once the watch events so far have been handled. */
  settled(): Promise<void> {
    return this.dir?.settled() ?? Promise.resolve();
  }

  /** Stops following the devices and takes every vif off its bridge (writes nothing to XenStore). */
  async stop(): Promise<void> {
    await this.dir?.stop();
    for (const c of this.connected.values()) await this.disconnect(c.device, 'netback stopped');
  }

  private async connect(frontend: VifFrontend, device: XenbusDevice): Promise<XenbusKeys> {
    const devid = Number(device.backendPath.slice(device.backendPath.lastIndexOf('/') + 1));
    const cfg = await readVifConfig(new XenbusKeyReader(this.opts.store, device.backendPath), {
      domid: device.frontendDomid,
      devid,
    });
    const bridge = this.opts.bridges.get(cfg.bridge);
    const ports = await this.bindPorts(frontend, device);
    let vif: VifPort;
    try {
      vif = new VifPort(bridge, { domid: device.frontendDomid, devid }, cfg.port);
    } catch (e) {
      await this.closePorts(ports, device);
      throw e;
    }
    const c: VifConnection = { vif, frontend, device, mtu: cfg.mtu, ports };
    try {
      await this.opts.onConnect?.(c);
    } catch (e) {
      vif.unplug();
      await this.closePorts(ports, device);
      throw e;
    }
    this.connected.set(device.backendPath, c);
    this.opts.logger?.('info', `${vif.name} (${cfg.port.mac}) plugged into ${bridge.name}`, {
      backend: device.backendPath,
      queues: frontend.transport.queues.length,
    });
    return { [K.HOTPLUG_STATUS]: 'connected' };
  }

  private async bindPorts(frontend: VifFrontend, device: XenbusDevice): Promise<EvtchnPort[]> {
    const hv = this.opts.evtchn;
    const ports: EvtchnPort[] = [];
    if (!hv) return ports;
    for (const q of frontend.transport.queues) {
      try {
        ports.push(await hv.evtchnBindInterdomain(device.frontendDomid, q.eventChannel));
      } catch (e) {
        await this.closePorts(ports, device);
        throw new NetbackError('EINVAL', `${q.dir}/event-channel: port ${q.eventChannel}: ${messageOf(e)}`);
      }
    }
    return ports;
  }

  private async closePorts(ports: EvtchnPort[], device: XenbusDevice): Promise<void> {
    for (const port of ports.splice(0)) {
      await this.opts.evtchn?.evtchnClose(port).catch((e: unknown) =>
        this.opts.logger?.('warn', `closing event channel ${port}: ${messageOf(e)}`, {
          backend: device.backendPath,
        }),
      );
    }
  }

  private async disconnect(device: XenbusDevice, why: string): Promise<void> {
    const c = this.connected.get(device.backendPath);
    if (c === undefined) return;
    this.connected.delete(device.backendPath);
    c.vif.unplug();
    try {
      await this.closePorts(c.ports, device);
      await this.opts.onDisconnect?.(c, why);
    } finally {
      this.opts.logger?.('info', `${c.vif.name} unplugged from ${c.vif.bridge} (${why})`, {
        backend: device.backendPath,
      });
    }
  }
}

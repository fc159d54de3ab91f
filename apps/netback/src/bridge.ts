// A bridge of the net driver domain (xenbr0, ...): libs/switch's learning switch with the I/O around it.
// Ports plug in with a link the bridge sends frames through; the switch decides, the bridge delivers.
import { EthernetSwitch, SwitchError, type PortConfig, type PortCounters, type PortSpec } from '@dominion/switch';
import {
  BridgePort,
  type BridgeLink,
  type BridgePortKind,
  type BridgePortStats,
  type PortHost,
} from './bridge-port.js';
import { NetbackError } from './errors.js';

export interface BridgeOptions {
  /** Milliseconds, monotonic; default performance.now. */
  now?: () => number;
  /** MAC ageing time (default 300 s, as Linux bridges). */
  ageingMs?: number;
  /** Frames a port may have waiting for rate credit (default 256, a tx ring's worth). */
  maxBacklog?: number;
}

export const DEFAULT_MAX_BACKLOG = 256;

export class Bridge implements PortHost {
  readonly switch: EthernetSwitch;
  private readonly ports = new Map<string, BridgePort>();
  private readonly clock: () => number;
  private readonly maxBacklog: number;

  constructor(
    readonly name: string,
    opts: BridgeOptions = {},
  ) {
    this.switch = new EthernetSwitch({ name, ageingMs: opts.ageingMs });
    this.clock = opts.now ?? (() => performance.now());
    this.maxBacklog = opts.maxBacklog ?? DEFAULT_MAX_BACKLOG;
  }

  /** Plugs a port in; EEXIST for its name or MAC already on this bridge, EINVAL for a bad configuration. */
  attach(cfg: PortConfig, kind: BridgePortKind, link: BridgeLink): BridgePort {
    try {
      this.switch.addPort(cfg, this.clock());
    } catch (e) {
      if (e instanceof SwitchError) throw new NetbackError(e.kind, e.message);
      throw e;
    }
    const port = new BridgePort(this, cfg.name, kind, link, this.maxBacklog);
    this.ports.set(cfg.name, port);
    return port;
  }

  port(name: string): BridgePort | undefined {
    return this.ports.get(name);
  }

  list(): BridgePort[] {
    return [...this.ports.values()];
  }

  stats(): BridgePortStats[] {
    return this.list().map((p) => p.stats());
  }

  /** Unplugs every port. */
  close(): void {
    for (const p of this.list()) p.detach();
  }

  // PortHost: what the ports call back.

  now(): number {
    return this.clock();
  }

  forward(port: BridgePort, frame: Uint8Array) {
    const r = this.switch.ingress(port.name, frame, this.clock());
    if (r.verdict === 'deferred') return r;
    if (r.verdict === 'dropped') return { verdict: 'dropped' as const, reason: r.reason };
    for (const d of r.deliveries) {
      const out = this.ports.get(d.port);
      if (out !== undefined && !this.transmit(out, d.frame)) out.txDropped++;
    }
    return { verdict: 'forwarded' as const, deliveries: r.deliveries.length };
  }

  /** One port's failure to take a frame (a throwing link included) is that port's drop, nobody else's. */
  private transmit(port: BridgePort, frame: Uint8Array): boolean {
    try {
      return port.link.transmit(frame);
    } catch {
      return false;
    }
  }

  switchCounters(port: string): PortCounters {
    return this.switch.counters(port);
  }

  spec(port: string): PortSpec {
    return this.switch.portConfig(port);
  }

  release(port: BridgePort): void {
    if (this.ports.get(port.name) !== port) return;
    this.ports.delete(port.name);
    this.switch.removePort(port.name);
  }
}

// The uplinks of this driver domain, opened from their specs and closed together.
import type { Bridges } from './bridges.js';
import type { UplinkSpec } from './config.js';
import { DatagramUplink, type DatagramUplinkCounters } from './dgram-uplink.js';
import type { NetbackLogger } from './logger.js';
import { TapUplink } from './tap-uplink.js';

export type Uplink = { kind: 'dgram'; uplink: DatagramUplink } | { kind: 'tap'; uplink: TapUplink };

export interface UplinkStatus {
  bridge: string;
  port: string;
  kind: 'dgram' | 'tap';
  local: string;
  remote?: string;
  counters: DatagramUplinkCounters;
  /** TAP only: socat's pid and how often it was restarted. */
  pid?: number;
  restarts?: number;
}

export class Uplinks {
  private readonly list: Uplink[] = [];

  constructor(
    private readonly bridges: Bridges,
    private readonly opts: { socat?: string; logger?: NetbackLogger } = {},
  ) {}

  async open(spec: UplinkSpec): Promise<Uplink> {
    const bridge = this.bridges.get(spec.bridge);
    const u: Uplink =
      spec.kind === 'dgram'
        ? {
            kind: 'dgram',
            uplink: await DatagramUplink.open({
              bridge,
              name: spec.name,
              bind: spec.bind,
              remote: spec.remote,
              port: spec.port,
              logger: this.opts.logger,
            }),
          }
        : {
            kind: 'tap',
            uplink: await TapUplink.open({
              bridge,
              tap: spec.tap,
              name: spec.name,
              port: spec.port,
              linkUp: spec.linkUp,
              socat: this.opts.socat,
              logger: this.opts.logger,
            }),
          };
    this.list.push(u);
    return u;
  }

  all(): Uplink[] {
    return [...this.list];
  }

  status(): UplinkStatus[] {
    return this.list.map((u) => {
      const d = u.kind === 'dgram' ? u.uplink : u.uplink.dgram;
      const r = d.remote;
      return {
        bridge: d.port.bridge,
        port: d.name,
        kind: u.kind,
        local: `${d.local.host}:${d.local.port}`,
        remote: r ? `${r.host}:${r.port}` : undefined,
        counters: { ...d.counters },
        ...(u.kind === 'tap' ? { pid: u.uplink.pid, restarts: u.uplink.restarts } : {}),
      };
    });
  }

  async close(): Promise<void> {
    for (const u of this.list.splice(0).reverse()) await u.uplink.close();
  }
}

// One port of a bridge: what plugs into it (a vif, a datagram or TAP uplink) gives frames to input() and
// takes the frames the bridge sends it through its link. A port's frames enter the bridge in order; one
// that must wait for rate credit (`rate=`) holds the ones behind it, as netback leaves a vif's tx
// requests on the ring until the credit timer fires. The wait is bounded: past `maxBacklog` frames a
// new one is dropped and counted, never queued.
import type { DropReason, PortCounters, PortSpec } from '@dominion/switch';

/** Where a bridge sends the frames leaving through a port. */
export interface BridgeLink {
  /** Takes one frame; false when the port had to drop it (a guest with no free rx buffer, no peer yet). */
  transmit(frame: Uint8Array): boolean;
}

export type BridgePortKind = 'vif' | 'dgram' | 'tap';

export type PortInputResult =
  { verdict: 'forwarded'; deliveries: number } | { verdict: 'dropped'; reason: DropReason | 'backlog' | 'detached' };

export interface BridgePortCounters extends PortCounters {
  /** Frames the bridge sent this port that the port could not take (counted in txFrames too). */
  txDropped: number;
  /** Frames refused because `maxBacklog` frames were already waiting for rate credit. */
  backlogDropped: number;
}

export interface BridgePortStats {
  bridge: string;
  port: string;
  kind: BridgePortKind;
  owner: string;
  mac?: string;
  ips?: string[];
  counters: BridgePortCounters;
}

/** What a port needs of its bridge (Bridge implements it). */
export interface PortHost {
  readonly name: string;
  forward(port: BridgePort, frame: Uint8Array): { verdict: 'deferred'; until: number } | PortInputResult;
  now(): number;
  switchCounters(port: string): PortCounters;
  spec(port: string): PortSpec;
  release(port: BridgePort): void;
}

interface Waiting {
  frame: Uint8Array;
  resolve: (r: PortInputResult) => void;
}

export class BridgePort {
  txDropped = 0;
  backlogDropped = 0;
  private readonly backlog: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;
  private detached = false;

  constructor(
    private readonly host: PortHost,
    readonly name: string,
    readonly kind: BridgePortKind,
    readonly link: BridgeLink,
    private readonly maxBacklog: number,
  ) {}

  get bridge(): string {
    return this.host.name;
  }

  get attached(): boolean {
    return !this.detached;
  }

  /** A frame into the bridge from this port; resolves once the bridge took it (after any rate wait). */
  input(frame: Uint8Array): Promise<PortInputResult> {
    if (this.detached) return Promise.resolve({ verdict: 'dropped', reason: 'detached' });
    if (this.backlog.length === 0) {
      const r = this.host.forward(this, frame);
      if (r.verdict !== 'deferred') return Promise.resolve(r);
      return new Promise((resolve) => {
        this.backlog.push({ frame, resolve });
        this.retryAt(r.until);
      });
    }
    if (this.backlog.length >= this.maxBacklog) {
      this.backlogDropped++;
      return Promise.resolve({ verdict: 'dropped', reason: 'backlog' });
    }
    return new Promise((resolve) => this.backlog.push({ frame, resolve }));
  }

  /** The switch's counters for this port plus what only the port sees. */
  counters(): BridgePortCounters {
    return { ...this.host.switchCounters(this.name), txDropped: this.txDropped, backlogDropped: this.backlogDropped };
  }

  stats(): BridgePortStats {
    const spec = this.host.spec(this.name);
    return {
      bridge: this.host.name,
      port: this.name,
      kind: this.kind,
      owner: spec.owner,
      mac: spec.mac,
      ips: spec.ips ? [...spec.ips] : undefined,
      counters: this.counters(),
    };
  }

  /** Unplugs the port; frames still waiting for credit are dropped. */
  detach(): void {
    if (this.detached) return;
    this.detached = true;
    clearTimeout(this.timer);
    for (const w of this.backlog.splice(0)) w.resolve({ verdict: 'dropped', reason: 'detached' });
    this.host.release(this);
  }

  private retryAt(until: number): void {
    this.timer = setTimeout(() => this.drain(), Math.max(0, until - this.host.now()));
  }

  private drain(): void {
    this.timer = undefined;
    while (this.backlog.length > 0 && !this.detached) {
      const head = this.backlog[0];
      const r = this.host.forward(this, head.frame);
      if (r.verdict === 'deferred') return this.retryAt(r.until);
      this.backlog.shift();
      head.resolve(r);
    }
  }
}

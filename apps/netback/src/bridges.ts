// The bridges of one net driver domain, by name. As in Xen, a bridge lives in the driver domain that
// serves its vifs; `bridge=` in a vif spec names one of them (default xenbr0).
import type { BridgePortStats } from './bridge-port.js';
import { Bridge, type BridgeOptions } from './bridge.js';
import { NetbackError } from './errors.js';

export const DEFAULT_BRIDGE = 'xenbr0';

/** A Linux interface name (IFNAMSIZ 16 with the NUL), as brctl would accept. */
export const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

export class Bridges {
  private readonly bridges = new Map<string, Bridge>();

  constructor(names: readonly string[] = [DEFAULT_BRIDGE], opts: BridgeOptions = {}) {
    for (const name of names) {
      if (!IFNAME.test(name)) {
        throw new NetbackError('EINVAL', `bridge name ${JSON.stringify(name)} is not 1..15 of [A-Za-z0-9_.-]`);
      }
      if (this.bridges.has(name)) throw new NetbackError('EEXIST', `bridge ${name} is listed twice`);
      this.bridges.set(name, new Bridge(name, opts));
    }
  }

  /** ENOENT for a bridge this driver domain does not have. */
  get(name: string): Bridge {
    const b = this.bridges.get(name);
    if (b === undefined) {
      throw new NetbackError('ENOENT', `no bridge ${name} here (bridges: ${this.names().join(', ') || 'none'})`);
    }
    return b;
  }

  names(): string[] {
    return [...this.bridges.keys()];
  }

  list(): Bridge[] {
    return [...this.bridges.values()];
  }

  /** Every port of every bridge with its counters, for `xl network-list` and stats. */
  stats(): BridgePortStats[] {
    return this.list().flatMap((b) => b.stats());
  }

  close(): void {
    for (const b of this.list()) b.close();
  }
}

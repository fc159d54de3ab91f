// A learning Ethernet switch, the bridge in a net driver domain, as a pure engine: a frame in on a port
// becomes the deliveries to make, with no I/O and an injected clock. Bad frames are dropped and counted
// on their port; only a caller's mistake (an unknown port, a bad configuration) throws.
import { isGroupMac } from './addr.js';
import { zeroCounters, type DropReason, type PortCounters } from './counters.js';
import { SwitchError } from './errors.js';
import { l3Source, parseEth, tag, untag } from './frame.js';
import { DEFAULT_AGEING_MS, MacTable, type MacTableEntry } from './mac-table.js';
import { portSpec, type PortConfig, type PortSpec } from './port.js';
import { CreditLimiter } from './rate-limiter.js';

export interface Delivery {
  port: string;
  /** The input frame itself when no VLAN tag changes; deliveries may share it. */
  frame: Uint8Array;
}

export type IngressResult =
  | { verdict: 'forwarded'; deliveries: Delivery[] }
  | { verdict: 'dropped'; reason: DropReason; deliveries: [] }
  /** Not enough rate credit: nothing was counted or learned; offer the same frame again at `until`. */
  | { verdict: 'deferred'; until: number; deliveries: [] };

export interface SwitchOptions {
  /** For messages (the bridge name, e.g. xenbr0). */
  name?: string;
  ageingMs?: number;
}

interface Port {
  spec: PortSpec;
  counters: PortCounters;
  limiter?: CreditLimiter;
}

export class EthernetSwitch {
  readonly name: string;
  private readonly ports = new Map<string, Port>();
  private readonly fdb: MacTable;

  constructor(opts: SwitchOptions = {}) {
    this.name = opts.name ?? 'switch';
    this.fdb = new MacTable(opts.ageingMs ?? DEFAULT_AGEING_MS);
  }

  /** EEXIST for a port name already plugged in or a MAC another port already claims. */
  addPort(cfg: PortConfig, now = 0): void {
    const spec = portSpec(cfg);
    if (this.ports.has(spec.name)) throw new SwitchError('EEXIST', `${this.name}: port ${spec.name} already exists`);
    if (spec.mac !== undefined) {
      for (const other of this.ports.values()) {
        if (other.spec.mac === spec.mac) {
          throw new SwitchError(
            'EEXIST',
            `${this.name}: MAC ${spec.mac} of port ${spec.name} is already on port ${other.spec.name} (owner ${other.spec.owner})`,
          );
        }
      }
    }
    const limiter = spec.rate ? new CreditLimiter(spec.rate, now) : undefined;
    this.ports.set(spec.name, { spec, counters: zeroCounters(), limiter });
  }

  removePort(name: string): void {
    this.port(name);
    this.ports.delete(name);
    this.fdb.forgetPort(name);
  }

  portNames(): string[] {
    return [...this.ports.keys()];
  }

  portConfig(name: string): PortSpec {
    return this.port(name).spec;
  }

  counters(name: string): PortCounters {
    const c = this.port(name).counters;
    return { ...c, drops: { ...c.drops } };
  }

  macTable(now: number): MacTableEntry[] {
    return this.fdb.list(now);
  }

  ingress(portName: string, frame: Uint8Array, now: number): IngressResult {
    const port = this.port(portName);
    const until = port.limiter?.admit(frame.length, now);
    if (until !== undefined) {
      port.counters.deferred++;
      return { verdict: 'deferred', until, deliveries: [] };
    }
    port.counters.rxFrames++;
    port.counters.rxBytes += frame.length;
    const drop = (reason: DropReason): IngressResult => {
      port.counters.drops[reason]++;
      return { verdict: 'dropped', reason, deliveries: [] };
    };

    const eth = parseEth(frame);
    if (eth === 'runt') return drop('runt');
    const spec = port.spec;
    if (spec.mac !== undefined && eth.src !== spec.mac) return drop('spoofed-mac');
    if (spec.ips !== undefined) {
      const l3 = l3Source(frame, eth);
      if (l3 === 'runt') return drop('runt');
      if (l3 !== undefined && !l3.unconfigured && !spec.ips.has(l3.ip)) return drop('spoofed-ip');
    }
    const vid = eth.vid === undefined || eth.vid === 0 ? spec.pvid : eth.vid;
    if (!spec.vlans.has(vid)) return drop('vlan');

    if (!isGroupMac(eth.src)) this.fdb.learn(vid, eth.src, spec.name, now);
    const known = isGroupMac(eth.dst) ? undefined : this.fdb.lookup(vid, eth.dst, now);
    if (known === spec.name) return drop('same-port');
    const targets = known !== undefined ? [known] : [...this.ports.keys()].filter((n) => n !== spec.name);

    const plain = eth.vid === undefined ? frame : untag(frame);
    let tagged: Uint8Array | undefined;
    const deliveries: Delivery[] = [];
    for (const name of targets) {
      const out = this.ports.get(name);
      const untagged = out?.spec.vlans.get(vid);
      if (out === undefined || untagged === undefined) continue;
      const bytes = untagged ? plain : (tagged ??= tag(plain, vid));
      out.counters.txFrames++;
      out.counters.txBytes += bytes.length;
      deliveries.push({ port: name, frame: bytes });
    }
    return { verdict: 'forwarded', deliveries };
  }

  private port(name: string): Port {
    const p = this.ports.get(name);
    if (p === undefined) throw new SwitchError('ENOENT', `${this.name}: no port ${name}`);
    return p;
  }
}

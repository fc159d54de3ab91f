// The forwarding database: which port a source MAC was last seen on, per VLAN (independent learning, as a
// Linux bridge with vlan_filtering), forgotten after the ageing time without traffic from it.

/** Linux bridges' default ageing_time. */
export const DEFAULT_AGEING_MS = 300_000;

interface Entry {
  port: string;
  seen: number;
}

export interface MacTableEntry {
  vid: number;
  mac: string;
  port: string;
  /** Milliseconds since the MAC was last seen as a source. */
  age: number;
}

export class MacTable {
  private readonly entries = new Map<string, Entry>();

  constructor(readonly ageingMs = DEFAULT_AGEING_MS) {}

  learn(vid: number, mac: string, port: string, now: number): void {
    this.entries.set(`${vid}/${mac}`, { port, seen: now });
  }

  /** The port `mac` was last seen on in `vid`, unless that was longer ago than the ageing time. */
  lookup(vid: number, mac: string, now: number): string | undefined {
    const key = `${vid}/${mac}`;
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (now - e.seen > this.ageingMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e.port;
  }

  /** Drops what was learned on a port that left the switch. */
  forgetPort(port: string): void {
    for (const [key, e] of this.entries) if (e.port === port) this.entries.delete(key);
  }

  /** Live entries (aged ones removed), like `bridge fdb show`. */
  list(now: number): MacTableEntry[] {
    const out: MacTableEntry[] = [];
    for (const [key, e] of this.entries) {
      if (now - e.seen > this.ageingMs) {
        this.entries.delete(key);
        continue;
      }
      const slash = key.indexOf('/');
      out.push({ vid: Number(key.slice(0, slash)), mac: key.slice(slash + 1), port: e.port, age: now - e.seen });
    }
    return out;
  }
}

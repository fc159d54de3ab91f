// The ARP cache (Linux's neighbour table in miniature). An address being resolved is INCOMPLETE: packets for
// it wait in a bounded queue (the oldest is dropped when it is full, as Linux does with unres_qlen) while a
// request goes out every retransMs, up to `solicits` times; then the address is given up on and its queue
// dropped. A resolved entry is REACHABLE for reachableMs after it was last confirmed; after that it is
// forgotten and the next packet resolves it again. Ageing is checked on lookup: no timer runs for a
// resolved entry.
import type { IpClock } from './clock.js';
import type { ArpCounters } from './counters.js';

export interface ArpOptions {
  /** How long a reply keeps an entry usable (Linux base_reachable_time: 30 s). */
  reachableMs: number;
  /** Gap between requests for an unresolved address (Linux retrans_time: 1 s). */
  retransMs: number;
  /** Requests sent before giving up (Linux mcast_solicit: 3). */
  solicits: number;
  /** Packets held per unresolved address. */
  queueLen: number;
  /** Entries kept; the oldest resolved one makes room. */
  maxEntries: number;
}

export const DEFAULT_ARP_OPTIONS: ArpOptions = {
  reachableMs: 30_000,
  retransMs: 1_000,
  solicits: 3,
  queueLen: 8,
  maxEntries: 256,
};

/** A packet waiting for its next hop's MAC: the IPv4 packets (fragments of one datagram) and who to tell
 * when the address cannot be resolved. */
export interface PendingPacket {
  packets: Buffer[];
  onUnreachable?: () => void;
}

export interface ArpEntry {
  ip: number;
  state: 'REACHABLE' | 'INCOMPLETE';
  mac?: string;
  /** Milliseconds since the entry was last confirmed (REACHABLE) or first requested (INCOMPLETE). */
  ageMs: number;
}

type Entry =
  | { state: 'REACHABLE'; mac: string; confirmed: number }
  | { state: 'INCOMPLETE'; since: number; queue: PendingPacket[]; sent: number; cancel: () => void };

export interface ArpTableHooks {
  solicit(ip: number): void;
  transmit(mac: string, pending: PendingPacket): void;
  /** Packets dropped without reaching the wire. */
  dropped(count: number): void;
}

export class ArpTable {
  private readonly entries = new Map<number, Entry>();

  constructor(
    private readonly opts: ArpOptions,
    private readonly clock: IpClock,
    private readonly counters: ArpCounters,
    private readonly hooks: ArpTableHooks,
  ) {}

  lookup(ip: number): string | undefined {
    const e = this.entries.get(ip);
    if (e?.state !== 'REACHABLE') return undefined;
    if (this.clock.now() - e.confirmed >= this.opts.reachableMs) {
      this.entries.delete(ip);
      return undefined;
    }
    return e.mac;
  }

  has(ip: number): boolean {
    return this.entries.has(ip);
  }

  /** Records `ip` at `mac` and sends whatever was waiting for it. */
  confirm(ip: number, mac: string): void {
    const e = this.entries.get(ip);
    this.entries.delete(ip);
    this.makeRoom();
    this.entries.set(ip, { state: 'REACHABLE', mac, confirmed: this.clock.now() });
    if (e?.state === 'INCOMPLETE') {
      e.cancel();
      for (const p of e.queue) this.hooks.transmit(mac, p);
    }
  }

  /** Queues `pending` until `ip` resolves, soliciting it if this is the first packet for it. */
  resolve(ip: number, pending: PendingPacket): void {
    let e = this.entries.get(ip);
    if (e?.state === 'REACHABLE') this.entries.delete(ip);
    if (e?.state !== 'INCOMPLETE') {
      if (!this.makeRoom()) {
        this.counters.unresolvedDiscards++;
        this.hooks.dropped(pending.packets.length);
        return;
      }
      e = { state: 'INCOMPLETE', since: this.clock.now(), queue: [], sent: 0, cancel: () => undefined };
      this.entries.set(ip, e);
      this.solicit(ip, e);
    }
    e.queue.push(pending);
    while (e.queue.length > this.opts.queueLen) {
      const old = e.queue.shift()!;
      this.counters.unresolvedDiscards++;
      this.hooks.dropped(old.packets.length);
    }
  }

  list(): ArpEntry[] {
    const now = this.clock.now();
    const out: ArpEntry[] = [];
    for (const [ip, e] of this.entries) {
      if (e.state === 'REACHABLE') {
        if (now - e.confirmed < this.opts.reachableMs)
          out.push({ ip, state: e.state, mac: e.mac, ageMs: now - e.confirmed });
      } else out.push({ ip, state: e.state, ageMs: now - e.since });
    }
    return out;
  }

  /** Forgets everything, dropping queued packets (interface down). */
  clear(): void {
    for (const e of this.entries.values()) {
      if (e.state !== 'INCOMPLETE') continue;
      e.cancel();
      this.hooks.dropped(e.queue.reduce((n, p) => n + p.packets.length, 0));
    }
    this.entries.clear();
  }

  private solicit(ip: number, e: Extract<Entry, { state: 'INCOMPLETE' }>): void {
    if (e.sent >= this.opts.solicits) {
      this.entries.delete(ip);
      this.counters.resolveFailed++;
      this.hooks.dropped(e.queue.reduce((n, p) => n + p.packets.length, 0));
      for (const p of e.queue) p.onUnreachable?.();
      return;
    }
    e.sent++;
    this.hooks.solicit(ip);
    e.cancel = this.clock.setTimer(() => this.solicit(ip, e), this.opts.retransMs);
  }

  /** Whether there is room for one more entry, evicting the oldest resolved one if needed. */
  private makeRoom(): boolean {
    if (this.entries.size < this.opts.maxEntries) return true;
    for (const [ip, e] of this.entries) {
      if (e.state === 'REACHABLE') {
        this.entries.delete(ip);
        return true;
      }
    }
    return false;
  }
}

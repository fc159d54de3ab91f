// IPv4 fragment reassembly (RFC 791 §3.2, RFC 815), bounded: at most maxDatagrams in progress and maxBytes
// held in all; a datagram not complete within timeoutMs (Linux ipfrag_time: 30 s) is dropped. A fragment
// over a limit, one that would make the datagram exceed 65535 bytes, or one that overlaps another
// (differently from an exact duplicate) fails its whole datagram, as Linux does since 4.19. Each failure
// counts ReasmFails once; the fragments dropped are reported so the link counts them as rx dropped.
import type { IpClock } from './clock.js';
import type { IpCounters } from './counters.js';
import { IPV4_HLEN, IPV4_MAX_LEN, type Ipv4Header } from './ipv4.js';

export interface ReassemblyOptions {
  timeoutMs: number;
  maxDatagrams: number;
  maxBytes: number;
}

export const DEFAULT_REASSEMBLY_OPTIONS: ReassemblyOptions = {
  timeoutMs: 30_000,
  maxDatagrams: 64,
  maxBytes: 1 << 20,
};

interface Partial {
  parts: Array<{ offset: number; data: Uint8Array }>;
  /** Payload length, known once the last fragment (MF clear) arrived. */
  total?: number;
  bytes: number;
  cancel: () => void;
}

export class Reassembler {
  private readonly partials = new Map<string, Partial>();
  private held = 0;

  constructor(
    private readonly opts: ReassemblyOptions,
    private readonly clock: IpClock,
    private readonly counters: IpCounters,
    /** Fragments discarded (they were received frames): the link counts them as dropped. */
    private readonly dropped: (fragments: number) => void,
  ) {}

  /** The whole payload once `header`'s datagram is complete; undefined while fragments are missing or
   * when this one was dropped. */
  add(header: Ipv4Header, payload: Uint8Array): Uint8Array | undefined {
    this.counters.ReasmReqds++;
    const key = `${header.src}/${header.dst}/${header.protocol}/${header.id}`;
    const end = header.fragOffset + payload.length;
    let p = this.partials.get(key);
    if (end + IPV4_HLEN > IPV4_MAX_LEN || (header.mf && payload.length % 8 !== 0)) return this.fail(key, p, 1);
    if (!p) {
      if (this.partials.size >= this.opts.maxDatagrams) return this.fail(key, undefined, 1);
      const created: Partial = { parts: [], bytes: 0, cancel: () => undefined };
      created.cancel = this.clock.setTimer(() => {
        this.counters.ReasmTimeout++;
        this.fail(key, created, 0);
      }, this.opts.timeoutMs);
      this.partials.set(key, created);
      p = created;
    }
    for (const q of p.parts) {
      const qEnd = q.offset + q.data.length;
      if (q.offset === header.fragOffset && qEnd === end) {
        this.dropped(1); // an exact duplicate adds nothing
        return undefined;
      }
      if (header.fragOffset < qEnd && q.offset < end) return this.fail(key, p, 1);
    }
    if (!header.mf) {
      if (p.total !== undefined || p.parts.some((q) => q.offset + q.data.length > end)) return this.fail(key, p, 1);
      p.total = end;
    } else if (p.total !== undefined && end > p.total) return this.fail(key, p, 1);
    if (this.held + payload.length > this.opts.maxBytes) return this.fail(key, p, 1);
    p.parts.push({ offset: header.fragOffset, data: Uint8Array.from(payload) });
    p.bytes += payload.length;
    this.held += payload.length;
    if (p.total === undefined || p.bytes !== p.total) return undefined;
    // No overlaps and bytes == total: the parts tile [0, total) exactly.
    this.forget(key, p);
    const whole = new Uint8Array(p.total);
    for (const q of p.parts) whole.set(q.data, q.offset);
    this.counters.ReasmOKs++;
    return whole;
  }

  get inProgress(): number {
    return this.partials.size;
  }

  clear(): void {
    for (const [key, p] of this.partials) this.fail(key, p, 0);
  }

  private fail(key: string, p: Partial | undefined, incoming: number): undefined {
    this.counters.ReasmFails++;
    if (p) this.forget(key, p);
    this.dropped((p?.parts.length ?? 0) + incoming);
    return undefined;
  }

  private forget(key: string, p: Partial): void {
    p.cancel();
    this.held -= p.bytes;
    this.partials.delete(key);
  }
}

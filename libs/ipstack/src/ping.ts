// ping as iputils does it: echo requests with sequence numbers from 1 every intervalMs, each answered or
// lost; a reply later than timeoutMs after its request (iputils -W) counts as lost, a second reply to the
// same request as a duplicate. Round-trip times are measured from the moment the request is handed to
// IP, so the first one includes ARP resolution, as with the real ping.
import type { IpClock } from './clock.js';
import { IpStackError } from './errors.js';

export interface PingOptions {
  /** Echo requests to send (iputils -c). */
  count?: number;
  /** Data bytes per request, after the 8-byte ICMP header (iputils -s, default 56). */
  size?: number;
  /** Gap between requests (iputils -i, default 1 s). */
  intervalMs?: number;
  /** How long to wait for each reply (iputils -W, default 1 s). */
  timeoutMs?: number;
  ttl?: number;
  /** Each reply or error as it happens, for a shell that prints as it goes. */
  onEvent?: (event: PingEvent) => void;
}

export type PingEvent =
  | { kind: 'reply'; seq: number; from: string; bytes: number; ttl: number; timeMs: number; duplicate: boolean }
  | { kind: 'error'; seq: number; from: string; message: string };

export interface PingResult {
  dst: string;
  size: number;
  transmitted: number;
  received: number;
  duplicates: number;
  errors: number;
  /** Percentage of requests without a reply. */
  loss: number;
  /** From the first request to the end of the run. */
  elapsedMs: number;
  /** One per answered request, in milliseconds with microsecond resolution. */
  rtts: number[];
  rtt?: { min: number; avg: number; max: number; mdev: number };
  events: PingEvent[];
}

/** What a ping needs from the stack. */
export interface PingHost {
  readonly clock: IpClock;
  /** A fresh ICMP identifier for the run. */
  allocateEchoId(): number;
  /** Sends an echo request; `onUnreachable` when the next hop cannot be resolved. */
  sendEcho(dst: number, id: number, seq: number, data: Uint8Array, ttl: number, onUnreachable: () => void): void;
  /** Delivers echo replies and ICMP errors about requests carrying `id`; returns the unsubscribe. */
  listenEcho(id: number, listener: EchoListener): () => void;
  /** The address the stack sends from, for "From <addr> ... Destination Host Unreachable". */
  readonly sourceAddress: string;
}

export interface EchoListener {
  reply(seq: number, from: string, ttl: number, bytes: number): void;
  error(seq: number, from: string, message: string): void;
}

export const ICMP_DATA_DEFAULT = 56;
/** The largest echo data an IPv4 datagram can carry: 65535 - 20 (IP) - 8 (ICMP). */
export const ICMP_DATA_MAX = 65507;

export function runPing(host: PingHost, dst: number, dstText: string, opts: PingOptions = {}): Promise<PingResult> {
  const count = opts.count ?? 4;
  const size = opts.size ?? ICMP_DATA_DEFAULT;
  const intervalMs = opts.intervalMs ?? 1000;
  const timeoutMs = opts.timeoutMs ?? 1000;
  const ttl = opts.ttl ?? 64;
  if (!Number.isInteger(count) || count < 1)
    throw new IpStackError('EINVAL', `ping ${dstText}: count ${count} is not a positive integer`);
  if (!Number.isInteger(size) || size < 0 || size > ICMP_DATA_MAX)
    throw new IpStackError('EINVAL', `ping ${dstText}: size ${size} is outside 0..${ICMP_DATA_MAX}`);
  if (!(intervalMs >= 0) || !(timeoutMs > 0))
    throw new IpStackError(
      'EINVAL',
      `ping ${dstText}: interval ${intervalMs} ms or timeout ${timeoutMs} ms out of range`,
    );

  const clock = host.clock;
  const id = host.allocateEchoId();
  const data = new Uint8Array(size).map((_, i) => i & 0xff);
  const sentAt = new Map<number, number>();
  const answered = new Set<number>();
  const closed = new Set<number>();
  const result: PingResult = {
    dst: dstText,
    size,
    transmitted: 0,
    received: 0,
    duplicates: 0,
    errors: 0,
    loss: 0,
    elapsedMs: 0,
    rtts: [],
    events: [],
  };
  const timers: Array<() => void> = [];
  const start = clock.now();

  return new Promise<PingResult>((resolve, reject) => {
    let finished = false;
    const event = (e: PingEvent): void => {
      result.events.push(e);
      opts.onEvent?.(e);
    };
    const finish = (): void => {
      if (finished) return;
      finished = true;
      unlisten();
      for (const cancel of timers) cancel();
      result.elapsedMs = clock.now() - start;
      result.loss = ((result.transmitted - result.received) * 100) / result.transmitted;
      result.rtt = summarise(result.rtts);
      resolve(result);
    };
    const settle = (seq: number): void => {
      closed.add(seq);
      if (result.transmitted === count && closed.size === count) finish();
    };
    const error = (seq: number, from: string, message: string): void => {
      if (finished || closed.has(seq) || !sentAt.has(seq)) return;
      result.errors++;
      event({ kind: 'error', seq, from, message });
      settle(seq);
    };
    const unlisten = host.listenEcho(id, {
      reply(seq, from, replyTtl, bytes) {
        const t0 = sentAt.get(seq);
        if (finished || t0 === undefined) return;
        const duplicate = answered.has(seq);
        if (!duplicate && closed.has(seq)) return; // already given up on
        const timeMs = Math.round((clock.now() - t0) * 1000) / 1000;
        if (duplicate) result.duplicates++;
        else {
          answered.add(seq);
          result.received++;
          result.rtts.push(timeMs);
        }
        event({ kind: 'reply', seq, from, bytes, ttl: replyTtl, timeMs, duplicate });
        if (!duplicate) settle(seq);
      },
      error,
    });
    const send = (seq: number): void => {
      if (finished) return;
      sentAt.set(seq, clock.now());
      result.transmitted++;
      timers.push(clock.setTimer(() => settle(seq), timeoutMs));
      if (seq < count) timers.push(clock.setTimer(() => send(seq + 1), intervalMs));
      try {
        host.sendEcho(dst, id, seq, data, ttl, () => error(seq, host.sourceAddress, 'Destination Host Unreachable'));
      } catch (e) {
        // The first request failing (no route, interface down) fails the run as `ping: connect:` does;
        // a later one (the interface went down meanwhile) is that request's error.
        if (seq > 1) return error(seq, host.sourceAddress, e instanceof Error ? e.message : String(e));
        finished = true;
        unlisten();
        for (const cancel of timers) cancel();
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    };
    send(1);
  });
}

/** min/avg/max/mdev as iputils computes them from whole microseconds: the average truncated to a
 * microsecond, mdev = floor(sqrt(E[t²] - E[t]²)). */
function summarise(rtts: number[]): PingResult['rtt'] {
  if (rtts.length === 0) return undefined;
  const us = rtts.map((ms) => Math.round(ms * 1000));
  const n = us.length;
  const avg = us.reduce((a, b) => a + b, 0) / n;
  const avg2 = us.reduce((a, b) => a + b * b, 0) / n;
  return {
    min: Math.min(...us) / 1000,
    avg: Math.floor(avg) / 1000,
    max: Math.max(...us) / 1000,
    mdev: Math.floor(Math.sqrt(Math.max(0, avg2 - avg * avg))) / 1000,
  };
}

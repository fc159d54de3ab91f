// The hypervisor on the bus: one responder per hypercall on `xen.hv.*.<op>` (the caller is the subject's
// domid), effects published before the reply, and the liveness tick. Takes an injected NatsConnection;
// apps/hypervisor hosts it, tests and benchmarks host it directly.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { busServe, encodeJson, subjects } from '@dominion/bus';
import type { Effects } from './effects.js';
import { HYPERCALL_NAMES, type HypercallName, type VirqEvent } from './hypercalls.js';
import type { Hypervisor } from './hypervisor.js';

const EMPTY = new Uint8Array(0);

export interface ServeHypervisorOptions {
  /** Liveness check period, ms (default: a quarter of the deadline, at most the beat). */
  tickMs?: number;
  /** Every console-ring line, as it is written. */
  onLog?: (line: string) => void;
  /** Failures that are not the caller's fault. */
  onInternalError?: (e: unknown, subject: string) => void;
  /** A request whose reply subject is not the caller's own inbox was dropped. */
  onRefusedReply?: (caller: number | undefined, subject: string, reply: string) => void;
  /**
   * Wraps a hypercall (the app adds identity work around createdomain/destroydomain); `run` performs it on
   * the engine and publishes its effects.
   */
  intercept?: (op: HypercallName, caller: number, body: unknown, run: HypercallRunner) => unknown;
}

export type HypercallRunner = (caller: number, op: HypercallName, body: unknown) => unknown;

export interface HypervisorServer {
  close(): void;
}

/**
 * Publishes what the engine asked for. Port-state pushes go out first: they precede the hypercall's reply
 * on the hypervisor's one connection, so a domain sees its port's new state before the call returns.
 */
export function publishEffects(nc: NatsConnection, fx: Effects, onLog?: (line: string) => void): void {
  for (const st of fx.portChanges) nc.publish(subjects.evtchnCtl(st.dom), encodeJson(st));
  for (const v of fx.virqs)
    nc.publish(subjects.virq(v.domid), encodeJson({ virq: v.virq, port: v.port } satisfies VirqEvent));
  for (const n of fx.notifications) nc.publish(subjects.evtchn(n.dst, n.port, n.src), EMPTY);
  if (onLog) for (const line of fx.log) onLog(line);
}

export function serveHypervisor(
  nc: NatsConnection,
  hv: Hypervisor,
  opts: ServeHypervisorOptions = {},
): HypervisorServer {
  const run: HypercallRunner = (caller, op, body) => {
    const { result, effects } = hv.hypercall(caller, op, body);
    publishEffects(nc, effects, opts.onLog);
    return result;
  };
  const subs: Subscription[] = HYPERCALL_NAMES.map((op) =>
    busServe(
      nc,
      subjects.hvAny(op),
      (body, ctx) => (opts.intercept ? opts.intercept(op, ctx.caller, body, run) : run(ctx.caller, op, body)),
      { onInternalError: opts.onInternalError, onRefusedReply: opts.onRefusedReply },
    ),
  );
  const tickMs = opts.tickMs ?? Math.max(10, Math.min(hv.liveness.beatMs, Math.floor(hv.liveness.deadlineMs / 4)));
  const timer = setInterval(() => publishEffects(nc, hv.tick(), opts.onLog), tickMs);
  timer.unref();
  return {
    close: () => {
      clearInterval(timer);
      for (const s of subs) s.unsubscribe();
    },
  };
}

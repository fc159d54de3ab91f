// Liveness of a domain's process, and Xen's running/blocked flags derived from what it reports.
//
// Every domain process sends a heartbeat hypercall every `beatMs` carrying its cumulative CPU time.
// - running vs blocked (only for a domain that is neither paused, shut down nor dying, as in Xen where
//   paused or shut-down vCPUs are neither): the domain is RUNNING iff its last heartbeat is at most
//   `windowMs` old and its CPU time advanced, between its last two heartbeats, by at least
//   `runningCpuFraction` of the wall time between them (an idle Node process still burns a little CPU on
//   timers and pings; that is not "running"). Otherwise it is BLOCKED: alive, or not yet heard from, but idle.
// - death: liveness is armed by the first heartbeat (a domain whose process never came up is reported by
//   the launcher through the reportexit hypercall instead). An armed domain that is neither paused nor shut
//   down and has not beaten for `deadlineMs` is shut down with reason crash. The deadline spans several
//   missed beats so that a loaded CI machine does not kill healthy domains. Unpausing restarts the wait.
//   Domain-0 is exempt: the hypervisor cannot outlive its control domain in Xen either, and there is no one
//   left to act on its crash.

export interface LivenessConfig {
  beatMs: number;
  deadlineMs: number;
  windowMs: number;
  runningCpuFraction: number;
}

export const DEFAULT_LIVENESS: LivenessConfig = {
  beatMs: 1000,
  deadlineMs: 10_000,
  windowMs: 3000,
  runningCpuFraction: 0.05,
};

export interface Beat {
  at: number;
  cpuTime: number;
}

/** Whether the CPU time reported by the last two beats says the domain is running at `now`. */
export function isRunning(prev: Beat | undefined, last: Beat | undefined, now: number, cfg: LivenessConfig): boolean {
  if (!prev || !last || now - last.at > cfg.windowMs) return false;
  const wallS = (last.at - prev.at) / 1000;
  if (wallS <= 0) return false;
  return (last.cpuTime - prev.cpuTime) / wallS >= cfg.runningCpuFraction;
}

// The six state characters of `xl list` (tools/xl/xl_info.c): r running, b blocked, p paused, s shut down,
// the shutdown-reason character, d dying; '-' for each flag not set. They are independent flags, so a
// crashed domain kept by on_crash=preserve prints `---sc-`.
import type { DomainStateFlags } from './domain-info.js';

/** Indexed by SHUTDOWN_* code: poweroff, reboot, suspend, crash, watchdog, soft_reset. */
const SHUTDOWN_REASON_CHARS = '-rscwS';

export function domainStateString(info: DomainStateFlags): string {
  const reason = info.shutdown ? (SHUTDOWN_REASON_CHARS[info.shutdown_code ?? 0] ?? '-') : '-';
  return (
    (info.running ? 'r' : '-') +
    (info.blocked ? 'b' : '-') +
    (info.paused ? 'p' : '-') +
    (info.shutdown ? 's' : '-') +
    reason +
    (info.dying ? 'd' : '-')
  );
}

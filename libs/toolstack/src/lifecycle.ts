// What xl does when a domain shuts down (xl_vmcontrol.c handle_domain_death): the reason picks the
// config's on_* action; suspend leaves the domain alone. coredump-* dump the core first; restart and
// rename-restart start the domain again from its config under its own name and a new domid;
// rename-restart first keeps the dead domain renamed `<name>-<YYYYMMDDTHHMMZ>` (UTC, strftime
// "-%Y%m%dT%H%MZ") with a new uuid (xl's preserve_domain()). preserve does nothing: the domain stays, shut
// down, under its own name (handle_domain_death's PRESERVE case; xen-facts §8 says it is renamed, but in
// xl_vmcontrol.c only rename-restart calls preserve_domain()).
import type { ShutdownReason } from '@dominion/abi';
import type { DomainConfig, ShutdownAction } from '@dominion/xlcfg';

export interface LifecycleDecision {
  reason: ShutdownReason;
  /** Undefined for suspend: nothing happens. */
  action?: ShutdownAction;
  /** Dump the core to XEN_DUMP_DIR/<name> first. */
  coredump: boolean;
  /** Destroy the dead domain (every action but preserve, rename-restart and soft-reset). */
  destroy: boolean;
  /** Create it again from the same config (same name). */
  restart: boolean;
  /** rename-restart: keep the dead domain in place under this name (preserve keeps it under its own). */
  preserveAs?: string;
  /** Reset the domain in place, keeping its domid (soft-reset). */
  softReset: boolean;
}

type OnActions = Pick<DomainConfig, 'onPoweroff' | 'onReboot' | 'onCrash' | 'onWatchdog' | 'onSoftReset'>;

const KEY: Record<Exclude<ShutdownReason, 'suspend'>, keyof OnActions> = {
  poweroff: 'onPoweroff',
  reboot: 'onReboot',
  crash: 'onCrash',
  watchdog: 'onWatchdog',
  soft_reset: 'onSoftReset',
};

/** xl's suffix: "-%Y%m%dT%H%MZ" of the time, in UTC. */
export function preservedName(name: string, nowMs: number): string {
  const t = new Date(nowMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${name}-${t.getUTCFullYear()}${two(t.getUTCMonth() + 1)}${two(t.getUTCDate())}T${two(t.getUTCHours())}${two(t.getUTCMinutes())}Z`;
}

export function lifecycleDecision(
  reason: ShutdownReason,
  name: string,
  cfg: OnActions,
  nowMs: number,
): LifecycleDecision {
  const none: LifecycleDecision = { reason, coredump: false, destroy: false, restart: false, softReset: false };
  if (reason === 'suspend') return none;
  const action = cfg[KEY[reason]];
  const d: LifecycleDecision = { ...none, action };
  switch (action) {
    case 'destroy':
      return { ...d, destroy: true };
    case 'restart':
      return { ...d, destroy: true, restart: true };
    case 'rename-restart':
      return { ...d, restart: true, preserveAs: preservedName(name, nowMs) };
    case 'preserve':
      return d;
    case 'coredump-destroy':
      return { ...d, coredump: true, destroy: true };
    case 'coredump-restart':
      return { ...d, coredump: true, destroy: true, restart: true };
    case 'soft-reset':
      return { ...d, softReset: true };
  }
}

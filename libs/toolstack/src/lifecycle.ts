// What xl does when a domain shuts down (xl_vmcontrol.c handle_domain_death): the reason picks the
// config's on_* action; suspend leaves the domain alone. coredump-* dump the core first; restart and
// rename-restart start the domain again from its config under its own name, a new domid and uuid;
// rename-restart and preserve keep the dead domain renamed `<name>-<YYYYMMDDTHHMMZ>` (UTC, strftime
// "-%Y%m%dT%H%MZ"). That preserve renames follows xen-facts §8; in xl the rename is preserve_domain(),
// which xl's own code calls on the rename-restart path.
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
  /** Keep the dead domain in place (paused, for inspection) under this name. */
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
      return { ...d, preserveAs: preservedName(name, nowMs) };
    case 'coredump-destroy':
      return { ...d, coredump: true, destroy: true };
    case 'coredump-restart':
      return { ...d, coredump: true, destroy: true, restart: true };
    case 'soft-reset':
      return { ...d, softReset: true };
  }
}

import { lifecycleDecision, preservedName } from '@dominion/toolstack';
import { SHUTDOWN_DEFAULTS } from '@dominion/xlcfg';

const defaults = {
  onPoweroff: SHUTDOWN_DEFAULTS.on_poweroff,
  onReboot: SHUTDOWN_DEFAULTS.on_reboot,
  onWatchdog: SHUTDOWN_DEFAULTS.on_watchdog,
  onCrash: SHUTDOWN_DEFAULTS.on_crash,
  onSoftReset: SHUTDOWN_DEFAULTS.on_soft_reset,
};
// 2026-11-25 10:40:59 UTC
const NOW = Date.UTC(2026, 10, 25, 10, 40, 59);

describe('lifecycle decisions', () => {
  it.each([
    ['poweroff', 'destroy', { destroy: true, restart: false }],
    ['reboot', 'restart', { destroy: true, restart: true }],
    ['crash', 'destroy', { destroy: true, restart: false }],
    ['watchdog', 'destroy', { destroy: true, restart: false }],
  ] as const)('%s with the defaults: %s', (reason, action, flags) => {
    const d = lifecycleDecision(reason, 'g', defaults, NOW);
    expect({ action: d.action, destroy: d.destroy, restart: d.restart, preserveAs: d.preserveAs }).toEqual({
      action,
      ...flags,
      preserveAs: undefined,
    });
  });

  it('soft_reset resets in place', () => {
    expect(lifecycleDecision('soft_reset', 'g', defaults, NOW)).toMatchObject({
      action: 'soft-reset',
      softReset: true,
      destroy: false,
      restart: false,
    });
  });

  it('does nothing on suspend', () => {
    expect(lifecycleDecision('suspend', 'g', defaults, NOW)).toEqual({
      reason: 'suspend',
      coredump: false,
      destroy: false,
      restart: false,
      softReset: false,
    });
  });

  it('preserve keeps the domain as it is, under its own name (xl handle_domain_death: nothing done)', () => {
    const d = lifecycleDecision('crash', 'web', { ...defaults, onCrash: 'preserve' }, NOW);
    expect(d).toMatchObject({ action: 'preserve', destroy: false, restart: false });
    expect(d.preserveAs).toBeUndefined();
  });

  it('rename-restart keeps the old one renamed and starts a new one', () => {
    expect(lifecycleDecision('crash', 'web', { ...defaults, onCrash: 'rename-restart' }, NOW)).toMatchObject({
      destroy: false,
      restart: true,
      preserveAs: 'web-20261125T1040Z',
    });
  });

  it('coredump-* dump first', () => {
    expect(lifecycleDecision('watchdog', 'g', { ...defaults, onWatchdog: 'coredump-restart' }, NOW)).toMatchObject({
      coredump: true,
      destroy: true,
      restart: true,
    });
    expect(lifecycleDecision('crash', 'g', { ...defaults, onCrash: 'coredump-destroy' }, NOW)).toMatchObject({
      coredump: true,
      destroy: true,
      restart: false,
    });
  });

  it('uses UTC with zero padding', () => {
    expect(preservedName('x', Date.UTC(2027, 0, 2, 3, 4))).toBe('x-20270102T0304Z');
  });
});

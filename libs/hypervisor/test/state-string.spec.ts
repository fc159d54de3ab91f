import { domainStateString } from '../src/state-string.js';
import type { DomainStateFlags } from '../src/domain-info.js';
import { create, makeHv } from './helpers.js';

const none: DomainStateFlags = { running: false, blocked: false, paused: false, shutdown: false, dying: false };

describe('domainStateString (xl list State column, tools/xl/xl_info.c)', () => {
  it.each<[string, Partial<DomainStateFlags>]>([
    ['r-----', { running: true }],
    ['-b----', { blocked: true }],
    ['--p---', { paused: true }],
    ['---s--', { shutdown: true, shutdown_code: 0 }], // poweroff prints '-'
    ['---sr-', { shutdown: true, shutdown_code: 1 }],
    ['---ss-', { shutdown: true, shutdown_code: 2 }],
    ['---sc-', { shutdown: true, shutdown_code: 3 }], // crashed, kept by on_crash=preserve
    ['---sw-', { shutdown: true, shutdown_code: 4 }],
    ['---sS-', { shutdown: true, shutdown_code: 5 }],
    ['--ps-d', { paused: true, shutdown: true, shutdown_code: 0, dying: true }],
    ['------', {}],
  ])('%s', (want, flags) => {
    expect(domainStateString({ ...none, ...flags })).toBe(want);
  });

  it('ignores a reason code when the domain is not shut down (the flags are independent)', () => {
    expect(domainStateString({ ...none, blocked: true, shutdown_code: 3 })).toBe('-b----');
  });

  it('reads the engine: created paused, blocked when idle, running when CPU time advances, crashed', () => {
    const { hv, clock } = makeHv();
    const d = create(hv, 'web');
    const state = (): string => domainStateString(hv.getDomainInfo(0, d) as DomainStateFlags);
    expect(state()).toBe('--p---');
    hv.hypercall(0, 'unpausedomain', { domid: d });
    expect(state()).toBe('-b----');
    hv.hypercall(d, 'heartbeat', { cpu_time: 1 });
    clock.advance(1000);
    hv.hypercall(d, 'heartbeat', { cpu_time: 1.5 }); // 50% of a CPU over the last beat
    expect(state()).toBe('r-----');
    clock.advance(1000);
    hv.hypercall(d, 'heartbeat', { cpu_time: 1.501 }); // 0.1%: idle
    expect(state()).toBe('-b----');
    hv.hypercall(d, 'shutdown', { reason: 'crash' });
    expect(state()).toBe('---sc-');
  });
});

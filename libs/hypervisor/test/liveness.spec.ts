import { VIRQ } from '@dominion/abi';
import { create, makeHv } from './helpers.js';

describe('liveness', () => {
  function setup(): ReturnType<typeof makeHv> & { d: number; port: number } {
    const env = makeHv({ liveness: { beatMs: 1000, deadlineMs: 10_000 } });
    const port = (env.hv.hypercall(0, 'evtchn_bind_virq', { virq: VIRQ.VIRQ_DOM_EXC }).result as { port: number }).port;
    const d = create(env.hv, 'g');
    env.hv.hypercall(0, 'unpausedomain', { domid: d });
    return { ...env, d, port };
  }

  it('crashes a domain silent past the deadline, raising VIRQ_DOM_EXC and logging why', () => {
    const { hv, clock, d, port } = setup();
    hv.hypercall(d, 'heartbeat', { cpu_time: 0.5 });
    for (let i = 0; i < 10; i++) {
      clock.advance(1000); // ten missed beats still within the deadline
      expect(hv.tick()).toMatchObject({ virqs: [], log: [] });
    }
    clock.advance(1);
    const fx = hv.tick();
    expect(fx.virqs).toEqual([{ domid: 0, virq: VIRQ.VIRQ_DOM_EXC, port }]);
    expect(fx.log).toEqual([
      expect.stringMatching(/d1: domain "g" crashed: no heartbeat for 10\.0 s \(deadline 10 s\)$/),
    ]);
    expect(hv.getDomainInfo(0, d)).toMatchObject({ shutdown: true, shutdown_reason: 'crash' });
    // Once crashed it is not crashed again.
    clock.advance(20_000);
    expect(hv.tick().virqs).toEqual([]);
    // Its process, if it beats again, is told it is shut down.
    expect(hv.hypercall(d, 'heartbeat', { cpu_time: 1 }).result).toEqual({
      beat_ms: 1000,
      deadline_ms: 10_000,
      shutdown: true,
      shutdown_reason: 'crash',
    });
  });

  it('keeps a beating domain alive however long it runs', () => {
    const { hv, clock, d } = setup();
    for (let i = 0; i < 50; i++) {
      clock.advance(3000);
      expect(hv.hypercall(d, 'heartbeat', { cpu_time: i }).result).toMatchObject({ shutdown: false });
      expect(hv.tick().virqs).toEqual([]);
    }
    expect(hv.getDomainInfo(0, d)).toMatchObject({ shutdown: false, cpu_time: 49, last_heartbeat: clock.now() });
  });

  it('is armed by the first heartbeat, is suspended while paused and restarts on unpause', () => {
    const { hv, clock, d } = setup();
    clock.advance(60_000);
    expect(hv.tick().virqs).toEqual([]); // never beat: the launcher reports it instead
    hv.hypercall(d, 'heartbeat', { cpu_time: 0 });
    hv.hypercall(0, 'pausedomain', { domid: d });
    clock.advance(60_000);
    expect(hv.tick().log).toEqual([]);
    hv.hypercall(0, 'unpausedomain', { domid: d });
    clock.advance(9_000);
    expect(hv.tick().log).toEqual([]);
    clock.advance(1_001);
    expect(hv.tick().log).toEqual([expect.stringMatching(/crashed: no heartbeat/)]);
  });

  it('never crashes Domain-0', () => {
    const { hv, clock } = setup();
    hv.hypercall(0, 'heartbeat', { cpu_time: 0 });
    clock.advance(100_000);
    hv.tick();
    expect(hv.getDomainInfo(0, 0)).toMatchObject({ shutdown: false });
  });

  it('reportexit (control domain, from the launcher) crashes the domain at once; EPERM for anyone else', () => {
    const { hv, d, port } = setup();
    const other = create(hv, 'other');
    expect(() => hv.hypercall(other, 'reportexit', { domid: d, code: 1 })).toThrow(
      expect.objectContaining({ kind: 'EPERM' }),
    );
    const { effects } = hv.hypercall(0, 'reportexit', { domid: d, signal: 'SIGKILL' });
    expect(effects.virqs).toEqual([{ domid: 0, virq: 3, port }]);
    expect(effects.log).toEqual([expect.stringMatching(/d1: domain "g" crashed: process exited \(signal SIGKILL\)$/)]);
    expect(hv.getDomainInfo(0, d)).toMatchObject({ shutdown: true, shutdown_code: 3 });
    // An exit after a clean shutdown is not a crash.
    const e = create(hv, 'clean');
    hv.hypercall(e, 'shutdown', { reason: 'poweroff' });
    expect(hv.hypercall(0, 'reportexit', { domid: e, code: 0 }).effects.virqs).toEqual([]);
    expect(hv.getDomainInfo(0, e)).toMatchObject({ shutdown_reason: 'poweroff' });
  });
});

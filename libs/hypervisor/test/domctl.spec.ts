import { DOMID, VIRQ } from '@dominion/abi';
import type { DomainInfo } from '../src/domain-info.js';
import { create, failure, GiB, makeHv, MiB } from './helpers.js';

describe('domain table and lifecycle', () => {
  it('boots with Domain-0, the control domain, running its share of the host', () => {
    const { hv } = makeHv();
    const [d0] = hv.hypercall(0, 'getdomaininfo', {}).result as DomainInfo[];
    expect(d0).toMatchObject({
      domid: 0,
      name: 'Domain-0',
      uuid: '00000000-0000-0000-0000-000000000000',
      privilege: 'control',
      paused: false,
      current_memkb: 1 * GiB,
      vcpu_online: 4,
      weight: 256,
      cap: 0,
    });
    expect(hv.hypercall(0, 'physinfo', {}).result).toEqual({
      nr_cpus: 4,
      total_memkb: 8 * GiB,
      free_memkb: 7 * GiB,
      nr_domains: 1,
    });
  });

  it('creates domains paused with the given resources, as Xen does', () => {
    const { hv } = makeHv();
    const { result, effects } = hv.hypercall(0, 'createdomain', {
      name: 'web',
      type: 'hvm',
      target_memkb: 512 * MiB,
      max_memkb: 1 * GiB,
      vcpus: 2,
      weight: 512,
      cap: 50,
      driver_domain: true,
      max_event_channels: 63,
      uuid: '6f0c7a6e-3b39-4b8f-9c61-2f1d7d3a9b10',
    });
    expect(result).toEqual({ domid: 1 });
    expect(hv.getDomainInfo(0, 1)).toMatchObject({
      name: 'web',
      type: 'hvm',
      privilege: 'driver',
      uuid: '6f0c7a6e-3b39-4b8f-9c61-2f1d7d3a9b10',
      paused: true,
      running: false,
      blocked: false,
      shutdown: false,
      current_memkb: 512 * MiB,
      max_memkb: 1 * GiB,
      vcpu_online: 2,
      weight: 512,
      cap: 50,
      max_event_channels: 63,
      cpu_time: 0,
    });
    expect(effects.log).toEqual([
      expect.stringMatching(
        /^\(XEN\) \[ +\d+\.\d{6}\] d1: created "web" \(hvm, driver domain, 512 MiB, 2 vCPUs\), paused$/,
      ),
    ]);
  });

  it('refuses a second domain of the same name (EEXIST) and names that are not names (EINVAL)', () => {
    const { hv } = makeHv();
    create(hv, 'web');
    expect(failure(() => create(hv, 'web'))).toMatchObject({
      kind: 'EEXIST',
      message: expect.stringMatching(/"web" exists \(domain 1\)/),
    });
    expect(failure(() => create(hv, '42')).message).toMatch(/name "42" is all digits/);
    expect(failure(() => create(hv, 'a\nb')).message).toMatch(/control characters/);
    expect(create(hv, 'web2')).toBe(2);
  });

  it('only the control domain creates, destroys, pauses, unpauses and sets memory (EPERM beside the allowed call)', () => {
    const { hv } = makeHv();
    const g = create(hv, 'guest');
    const h = create(hv, 'drv', { driver_domain: true });
    // Each unprivileged domain aims at the other one.
    const refused = (t: number): Array<[string, Record<string, unknown>]> => [
      ['createdomain', { name: 'x', target_memkb: 1024 }],
      ['destroydomain', { domid: t }],
      ['pausedomain', { domid: t }],
      ['unpausedomain', { domid: t }],
      ['setmaxmem', { domid: t, max_memkb: 1 * GiB }],
      ['settarget', { domid: t, target_memkb: 128 * MiB }],
      ['sched_credit', { domid: t, weight: 1 }],
      ['shutdown', { domid: t, reason: 'poweroff' }],
      ['getdomaininfo', { domid: t }],
      ['getdomaininfo', {}],
      ['physinfo', {}],
      ['dmesg', {}],
      ['reportexit', { domid: t, code: 1 }],
      ['evtchn_alloc_unbound', { dom: t, remote_dom: 0 }],
      ['evtchn_status', { dom: t, port: 1 }],
    ];
    for (const [caller, t] of [
      [g, h],
      [h, g],
    ]) {
      for (const [op, args] of refused(t)) {
        const e = failure(() => hv.hypercall(caller, op, args));
        expect([op, e.kind]).toEqual([op, 'EPERM']);
        expect(e.message).toMatch(new RegExp(`^${op}: domain ${caller} may not .*: it is not the control domain$`));
        // An unknown target is still EPERM for the unprivileged: it cannot probe the domain table.
        if ('domid' in args)
          expect([op, failure(() => hv.hypercall(caller, op, { ...args, domid: 999 })).kind]).toEqual([op, 'EPERM']);
      }
    }
    // The same calls succeed from dom0.
    for (const [op, args] of refused(h).filter(([op]) => !['destroydomain', 'reportexit', 'shutdown'].includes(op)))
      expect(() => hv.hypercall(0, op, args)).not.toThrow();
    hv.hypercall(0, 'shutdown', { domid: h, reason: 'poweroff' });
    hv.hypercall(0, 'destroydomain', { domid: h });
    // A domain may look at itself and shut itself down.
    expect((hv.hypercall(g, 'getdomaininfo', { domid: DOMID.DOMID_SELF }).result as DomainInfo).name).toBe('guest');
    hv.hypercall(g, 'shutdown', { reason: 'reboot' });
    expect(hv.getDomainInfo(0, g)).toMatchObject({ shutdown: true, shutdown_reason: 'reboot', shutdown_code: 1 });
  });

  it('answers ESRCH for unknown domains and callers, EINVAL for self-destruction', () => {
    const { hv } = makeHv();
    expect(failure(() => hv.hypercall(0, 'destroydomain', { domid: 7 }))).toMatchObject({
      kind: 'ESRCH',
      message: 'destroydomain: domain 7 does not exist',
    });
    expect(failure(() => hv.hypercall(0, 'getdomaininfo', { domid: 7 })).kind).toBe('ESRCH');
    expect(failure(() => hv.hypercall(9, 'heartbeat', { cpu_time: 1 }))).toMatchObject({
      kind: 'ESRCH',
      message: 'heartbeat: the calling domain 9 does not exist',
    });
    expect(failure(() => hv.hypercall(0, 'destroydomain', { domid: 0 }))).toMatchObject({
      kind: 'EINVAL',
      message: expect.stringMatching(/cannot destroy itself/),
    });
    expect(failure(() => hv.hypercall(0, 'pausedomain', { domid: 0 })).kind).toBe('EINVAL');
  });

  it('counts pauses like Xen: unpausing a running domain is EINVAL, two pauses need two unpauses', () => {
    const { hv } = makeHv();
    const d = create(hv, 'g');
    hv.hypercall(0, 'unpausedomain', { domid: d });
    expect(failure(() => hv.hypercall(0, 'unpausedomain', { domid: d }))).toMatchObject({
      kind: 'EINVAL',
      message: 'unpausedomain: domain 1 is not paused',
    });
    hv.hypercall(0, 'pausedomain', { domid: d });
    hv.hypercall(0, 'pausedomain', { domid: d });
    hv.hypercall(0, 'unpausedomain', { domid: d });
    expect(hv.getDomainInfo(0, d)).toMatchObject({ paused: true });
    hv.hypercall(0, 'unpausedomain', { domid: d });
    expect(hv.getDomainInfo(0, d)).toMatchObject({ paused: false, blocked: true });
  });

  it('keeps the first shutdown reason; destroying frees memory and the domain', () => {
    const { hv } = makeHv();
    const d = create(hv, 'g', { target_memkb: 2 * GiB });
    hv.hypercall(d, 'shutdown', { reason: 'poweroff' });
    hv.hypercall(0, 'shutdown', { domid: d, reason: 'crash' });
    expect(hv.getDomainInfo(0, d)).toMatchObject({ shutdown: true, shutdown_reason: 'poweroff' });
    expect(hv.physinfo(0).free_memkb).toBe(5 * GiB);
    hv.hypercall(0, 'destroydomain', { domid: d });
    expect(hv.physinfo(0).free_memkb).toBe(7 * GiB);
    expect(failure(() => hv.getDomainInfo(0, d)).kind).toBe('ESRCH');
    expect(hv.hypercall(0, 'dmesg', {}).result).toMatchObject({
      lines: expect.arrayContaining([
        expect.stringMatching(/d1: shut down "g": reason poweroff$/),
        expect.stringMatching(/d1: destroyed "g", 2048 MiB freed$/),
      ]),
    });
  });
});

describe('memory accounting', () => {
  it('refuses a domain bigger than free memory with ENOMEM naming requested and free, and accepts one that fits', () => {
    const { hv } = makeHv();
    const e = failure(() => hv.hypercall(0, 'createdomain', { name: 'big', target_memkb: 7 * GiB + 1 }));
    expect(e).toEqual(
      expect.objectContaining({
        kind: 'ENOMEM',
        message: 'createdomain "big": 7340033 KiB requested, 7340032 KiB free',
      }),
    );
    expect(create(hv, 'fits', { target_memkb: 7 * GiB })).toBe(1);
    expect(hv.physinfo(0).free_memkb).toBe(0);
    expect(failure(() => create(hv, 'one-more', { target_memkb: 1 })).kind).toBe('ENOMEM');
  });

  it('setmaxmem: ENOMEM beyond what could ever be given, EINVAL below the current allocation', () => {
    const { hv } = makeHv();
    const d = create(hv, 'g', { target_memkb: 1 * GiB }); // 6 GiB left free
    expect(failure(() => hv.hypercall(0, 'setmaxmem', { domid: d, max_memkb: 7 * GiB + 1 }))).toMatchObject({
      kind: 'ENOMEM',
      message: 'setmaxmem d1: 7340033 KiB requested (6291457 KiB above its current allocation), 6291456 KiB free',
    });
    hv.hypercall(0, 'setmaxmem', { domid: d, max_memkb: 7 * GiB });
    expect(hv.getDomainInfo(0, d)).toMatchObject({ max_memkb: 7 * GiB, current_memkb: 1 * GiB });
    expect(failure(() => hv.hypercall(0, 'setmaxmem', { domid: d, max_memkb: 1 * GiB - 1 })).kind).toBe('EINVAL');
    expect(failure(() => create(hv, 'x', { target_memkb: 1 * GiB, max_memkb: 512 * MiB })).message).toMatch(
      /max_memkb 524288 is below target_memkb 1048576/,
    );
  });

  it('settarget moves the allocation within maxmem and free memory', () => {
    const { hv } = makeHv();
    const d = create(hv, 'g', { target_memkb: 1 * GiB, max_memkb: 2 * GiB });
    hv.hypercall(0, 'settarget', { domid: d, target_memkb: 2 * GiB });
    expect(hv.getDomainInfo(0, d)).toMatchObject({ current_memkb: 2 * GiB, target_memkb: 2 * GiB });
    expect(hv.physinfo(0).free_memkb).toBe(5 * GiB);
    expect(failure(() => hv.hypercall(0, 'settarget', { domid: d, target_memkb: 2 * GiB + 1 })).message).toMatch(
      /above its maxmem/,
    );
    hv.hypercall(0, 'settarget', { domid: d, target_memkb: 256 * MiB });
    expect(hv.physinfo(0).free_memkb).toBe(6 * GiB + 768 * MiB);
    const big = create(hv, 'big', { target_memkb: 6 * GiB + 768 * MiB });
    expect(big).toBe(2);
    expect(failure(() => hv.hypercall(0, 'settarget', { domid: d, target_memkb: 256 * MiB + 1 })).kind).toBe('ENOMEM');
  });
});

describe('VIRQ_DOM_EXC', () => {
  it('is raised to the domain that bound it on every shutdown, crash and destruction, and not on pause', () => {
    const { hv } = makeHv();
    const port = (hv.hypercall(0, 'evtchn_bind_virq', { virq: VIRQ.VIRQ_DOM_EXC }).result as { port: number }).port;
    const a = create(hv, 'a');
    const b = create(hv, 'b');
    const dom0Exc = [{ domid: 0, virq: 3, port }];
    expect(hv.hypercall(0, 'pausedomain', { domid: a }).effects.virqs).toEqual([]);
    expect(hv.hypercall(a, 'shutdown', { reason: 'poweroff' }).effects.virqs).toEqual(dom0Exc);
    expect(hv.hypercall(a, 'shutdown', { reason: 'poweroff' }).effects.virqs).toEqual([]); // no change, no VIRQ
    expect(hv.hypercall(0, 'shutdown', { domid: b, reason: 'crash' }).effects.virqs).toEqual(dom0Exc);
    expect(hv.hypercall(0, 'destroydomain', { domid: a }).effects.virqs).toEqual(dom0Exc);
  });

  it('is raised to no one while no one has bound it', () => {
    const { hv } = makeHv();
    const a = create(hv, 'a');
    expect(hv.hypercall(a, 'shutdown', { reason: 'crash' }).effects.virqs).toEqual([]);
  });
});

describe('malformed hypercalls', () => {
  it.each<[string, unknown, RegExp]>([
    ['createdomain', { name: 'x' }, /^createdomain: target_memkb must be an integer in 1\.\.\d+, got nothing$/],
    ['createdomain', { name: 'x', target_memkb: 1024, memory: 5 }, /^createdomain: unknown argument "memory"$/],
    ['createdomain', { name: 'x', target_memkb: 1024, type: 'kvm' }, /type must be one of pv, pvh, hvm, got "kvm"/],
    ['createdomain', [1, 2], /^createdomain: arguments must be a JSON object, got \[1,2\]$/],
    ['shutdown', { reason: 'halt' }, /reason must be one of poweroff, reboot, suspend, crash, watchdog, soft_reset/],
    ['destroydomain', { domid: -1 }, /domid must be an integer in 0\.\.32752, got -1/],
    ['evtchn_close', { port: '3' }, /port must be an integer/],
    ['heartbeat', { cpu_time: 'lots' }, /cpu_time must be a number/],
  ])('%s %j -> EINVAL', (op, body, re) => {
    const { hv } = makeHv();
    const e = failure(() => hv.hypercall(0, op, body));
    expect(e.kind).toBe('EINVAL');
    expect(e.message).toMatch(re);
  });

  it('answers ENOSYS for an unknown hypercall and keeps working', () => {
    const { hv } = makeHv();
    expect(failure(() => hv.hypercall(0, 'kexec', {}))).toMatchObject({
      kind: 'ENOSYS',
      message: 'no hypercall "kexec"',
    });
    expect(create(hv, 'after')).toBe(1);
  });
});

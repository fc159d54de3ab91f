// Values written out by hand from reference/xen-facts.md §7, §8 (xen.h, sched.h).
import {
  DOMID,
  DOMID_0,
  DOMID_MAX,
  HYPERVISOR,
  SHUTDOWN,
  SHUTDOWN_REASONS,
  VIRQ,
  VIRQ_GLOBAL,
  XEN_PAGE_SHIFT,
  XEN_PAGE_SIZE,
  isDomId,
  shutdownCode,
} from '@dominion/abi';

describe('domain ids', () => {
  it('has the reserved DOMID_* values', () => {
    expect(DOMID).toEqual({
      DOMID_FIRST_RESERVED: 0x7ff0,
      DOMID_SELF: 0x7ff0,
      DOMID_IO: 0x7ff1,
      DOMID_XEN: 0x7ff2,
      DOMID_COW: 0x7ff3,
      DOMID_INVALID: 0x7ff4,
      DOMID_ANY: 0x7ff5,
      DOMID_IDLE: 0x7fff,
    });
    expect(DOMID_0).toBe(0);
    expect(DOMID_MAX).toBe(0x7fef);
  });

  it('accepts real domain ids only', () => {
    expect(isDomId(0)).toBe(true);
    expect(isDomId(0x7fef)).toBe(true);
    expect(isDomId(0x7ff0)).toBe(false); // DOMID_SELF
    expect(isDomId(-1)).toBe(false);
    expect(isDomId(1.5)).toBe(false);
    expect(isDomId('1')).toBe(false);
  });
});

describe('SCHEDOP_shutdown reasons', () => {
  it('has the sched.h codes', () => {
    expect(SHUTDOWN).toEqual({
      SHUTDOWN_poweroff: 0,
      SHUTDOWN_reboot: 1,
      SHUTDOWN_suspend: 2,
      SHUTDOWN_crash: 3,
      SHUTDOWN_watchdog: 4,
      SHUTDOWN_soft_reset: 5,
    });
    expect(SHUTDOWN_REASONS).toEqual(['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset']);
    expect(shutdownCode('poweroff')).toBe(0);
    expect(shutdownCode('crash')).toBe(3);
    expect(shutdownCode('soft_reset')).toBe(5);
  });
});

describe('VIRQs', () => {
  it('has the xen.h numbers', () => {
    expect(VIRQ).toEqual({
      VIRQ_TIMER: 0,
      VIRQ_DEBUG: 1,
      VIRQ_CONSOLE: 2,
      VIRQ_DOM_EXC: 3,
      VIRQ_TBUF: 4,
      VIRQ_DEBUGGER: 6,
      VIRQ_XENOPROF: 7,
      VIRQ_CON_RING: 8,
      VIRQ_PCPU_STATE: 9,
      VIRQ_MEM_EVENT: 10,
      VIRQ_ARGO: 11,
      VIRQ_ENOMEM: 12,
      VIRQ_XENPMU: 13,
    });
  });

  it('marks the global VIRQs (one domain at a time), not the per-vCPU or per-domain ones', () => {
    expect([...VIRQ_GLOBAL].sort((a, b) => a - b)).toEqual([2, 3, 4, 6, 8, 9, 10, 12]);
    expect(VIRQ_GLOBAL.has(0)).toBe(false); // TIMER is per vCPU
    expect(VIRQ_GLOBAL.has(11)).toBe(false); // ARGO is per domain
  });
});

describe('hypercalls and pages', () => {
  it('has the __HYPERVISOR_* numbers', () => {
    expect(HYPERVISOR).toEqual({
      __HYPERVISOR_memory_op: 12,
      __HYPERVISOR_xen_version: 17,
      __HYPERVISOR_console_io: 18,
      __HYPERVISOR_grant_table_op: 20,
      __HYPERVISOR_vcpu_op: 24,
      __HYPERVISOR_sched_op: 29,
      __HYPERVISOR_event_channel_op: 32,
      __HYPERVISOR_physdev_op: 33,
      __HYPERVISOR_hvm_op: 34,
      __HYPERVISOR_sysctl: 35,
      __HYPERVISOR_domctl: 36,
    });
  });

  it('uses a 4 KiB Xen page', () => {
    expect(XEN_PAGE_SHIFT).toBe(12);
    expect(XEN_PAGE_SIZE).toBe(4096);
  });
});

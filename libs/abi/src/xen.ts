// xen/include/public/xen.h and sched.h: domain ids, VIRQs, shutdown reasons, hypercall numbers.

export type DomId = number; // domid_t is u16

export const DOMID = {
  DOMID_FIRST_RESERVED: 0x7ff0,
  DOMID_SELF: 0x7ff0,
  DOMID_IO: 0x7ff1,
  DOMID_XEN: 0x7ff2,
  DOMID_COW: 0x7ff3,
  DOMID_INVALID: 0x7ff4,
  DOMID_ANY: 0x7ff5,
  DOMID_IDLE: 0x7fff,
} as const;
/** Domain 0: the initial, control domain. */
export const DOMID_0 = 0;
/** Highest id a real domain can have. */
export const DOMID_MAX = DOMID.DOMID_FIRST_RESERVED - 1;

export function isDomId(n: unknown): n is DomId {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < DOMID.DOMID_FIRST_RESERVED;
}

/** SHUTDOWN_* (sched.h), the reason code of SCHEDOP_shutdown. */
export const SHUTDOWN = {
  SHUTDOWN_poweroff: 0,
  SHUTDOWN_reboot: 1,
  SHUTDOWN_suspend: 2,
  SHUTDOWN_crash: 3,
  SHUTDOWN_watchdog: 4,
  SHUTDOWN_soft_reset: 5,
} as const;
export type ShutdownCode = (typeof SHUTDOWN)[keyof typeof SHUTDOWN];
export const SHUTDOWN_REASONS = ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'] as const;
export type ShutdownReason = (typeof SHUTDOWN_REASONS)[number];
export function shutdownCode(reason: ShutdownReason): ShutdownCode {
  return SHUTDOWN_REASONS.indexOf(reason) as ShutdownCode;
}

/** VIRQ_* numbers (xen.h). */
export const VIRQ = {
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
} as const;
export type Virq = (typeof VIRQ)[keyof typeof VIRQ];
/** Global VIRQs are bound by one domain at a time; the others are per vCPU or per domain. */
export const VIRQ_GLOBAL: ReadonlySet<number> = new Set([2, 3, 4, 6, 8, 9, 10, 12]);

/** __HYPERVISOR_* numbers used by Dominion's hypercall names. */
export const HYPERVISOR = {
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
} as const;

/** XEN_PAGE_SHIFT: Xen's page is 4 KiB regardless of the guest's. */
export const XEN_PAGE_SHIFT = 12;
export const XEN_PAGE_SIZE = 1 << XEN_PAGE_SHIFT;

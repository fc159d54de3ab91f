// xen/include/public/event_channel.h

/** EVTCHNOP_* commands of event_channel_op. */
export const EVTCHNOP = {
  EVTCHNOP_bind_interdomain: 0,
  EVTCHNOP_bind_virq: 1,
  EVTCHNOP_bind_pirq: 2,
  EVTCHNOP_close: 3,
  EVTCHNOP_send: 4,
  EVTCHNOP_status: 5,
  EVTCHNOP_alloc_unbound: 6,
  EVTCHNOP_bind_ipi: 7,
  EVTCHNOP_bind_vcpu: 8,
  EVTCHNOP_unmask: 9,
  EVTCHNOP_reset: 10,
  EVTCHNOP_init_control: 11,
  EVTCHNOP_expand_array: 12,
  EVTCHNOP_set_priority: 13,
} as const;

/** EVTCHNSTAT_*: the status of a port. */
export const EVTCHNSTAT = {
  EVTCHNSTAT_closed: 0,
  EVTCHNSTAT_unbound: 1,
  EVTCHNSTAT_interdomain: 2,
  EVTCHNSTAT_pirq: 3,
  EVTCHNSTAT_virq: 4,
  EVTCHNSTAT_ipi: 5,
} as const;
export type EvtchnStat = (typeof EVTCHNSTAT)[keyof typeof EVTCHNSTAT];
export const EVTCHNSTAT_NAMES = ['closed', 'unbound', 'interdomain', 'pirq', 'virq', 'ipi'] as const;
export type EvtchnStatName = (typeof EVTCHNSTAT_NAMES)[number];

export type EvtchnPort = number; // evtchn_port_t is u32

/** The 2-level ABI on a 64-bit guest: sizeof(xen_ulong_t)*8 squared. */
export const EVTCHN_2L_NR_CHANNELS = 64 * 64;
/** The FIFO ABI's limit. */
export const EVTCHN_FIFO_NR_CHANNELS = 1 << 17;
/** xl.cfg max_event_channels default. */
export const MAX_EVENT_CHANNELS_DEFAULT = 1023;

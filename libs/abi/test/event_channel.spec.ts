// Values written out by hand from reference/xen-facts.md §7 (event_channel.h).
import {
  EVTCHN_2L_NR_CHANNELS,
  EVTCHN_FIFO_NR_CHANNELS,
  EVTCHNOP,
  EVTCHNSTAT,
  EVTCHNSTAT_NAMES,
  MAX_EVENT_CHANNELS_DEFAULT,
} from '@dominion/abi';

describe('event channels', () => {
  it('has the EVTCHNOP_* command numbers', () => {
    expect(EVTCHNOP).toEqual({
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
    });
  });

  it('has the port status values, and names them in value order', () => {
    expect(EVTCHNSTAT).toEqual({
      EVTCHNSTAT_closed: 0,
      EVTCHNSTAT_unbound: 1,
      EVTCHNSTAT_interdomain: 2,
      EVTCHNSTAT_pirq: 3,
      EVTCHNSTAT_virq: 4,
      EVTCHNSTAT_ipi: 5,
    });
    expect(EVTCHNSTAT_NAMES[2]).toBe('interdomain');
    expect(EVTCHNSTAT_NAMES).toEqual(['closed', 'unbound', 'interdomain', 'pirq', 'virq', 'ipi']);
  });

  it('has the 2-level (64-bit) and FIFO capacities and xl default', () => {
    expect(EVTCHN_2L_NR_CHANNELS).toBe(4096);
    expect(EVTCHN_FIFO_NR_CHANNELS).toBe(131072);
    expect(MAX_EVENT_CHANNELS_DEFAULT).toBe(1023);
  });
});

// What getdomaininfo returns about a domain (the JSON shape of the hypercall), modelled on Xen's
// xen_domctl_getdomaininfo: the state is a set of INDEPENDENT flags, not one enum.
import type { DomId, ShutdownCode, ShutdownReason } from '@dominion/abi';

export const DOMAIN_TYPES = ['pv', 'pvh', 'hvm'] as const;
export type DomainType = (typeof DOMAIN_TYPES)[number];

/** control: dom0 (may manage other domains); driver: driver_domain=1 (no extra hypercalls); guest. */
export type Privilege = 'control' | 'driver' | 'guest';

export interface DomainStateFlags {
  running: boolean;
  blocked: boolean;
  paused: boolean;
  shutdown: boolean;
  /** SHUTDOWN_* code; meaningful only when `shutdown`. A crash is a shutdown with reason crash. */
  shutdown_code?: ShutdownCode;
  dying: boolean;
}

export interface DomainInfo extends DomainStateFlags {
  domid: DomId;
  name: string;
  uuid: string;
  type: DomainType;
  privilege: Privilege;
  shutdown_reason?: ShutdownReason;
  // Memory in KiB, named as libxl_dominfo names it. Dominion has no balloon driver lag: a new target is
  // the current allocation at once.
  current_memkb: number;
  max_memkb: number;
  target_memkb: number;
  vcpu_online: number;
  /** Credit scheduler weight (1..65535, default 256) and cap (% of one CPU, 0 = none). */
  weight: number;
  cap: number;
  /** CPU time the domain's process reported, in SECONDS (libxl reports ns; xl prints seconds). */
  cpu_time: number;
  max_event_channels: number;
  /** ms since the epoch. */
  created_at: number;
  /** ms since the epoch of the last heartbeat, if any. */
  last_heartbeat?: number;
}

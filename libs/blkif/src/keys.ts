// XenStore keys of the vbd handshake (io/blkif.h, xen-facts §2), so that no service spells them twice.

/** Nodes the backend writes under /local/domain/<be>/backend/vbd/<fe>/<devid>/. */
export const VBD_BACKEND_KEYS = {
  FEATURE_BARRIER: 'feature-barrier',
  FEATURE_FLUSH_CACHE: 'feature-flush-cache',
  FEATURE_DISCARD: 'feature-discard',
  DISCARD_GRANULARITY: 'discard-granularity',
  DISCARD_ALIGNMENT: 'discard-alignment',
  DISCARD_SECURE: 'discard-secure',
  FEATURE_PERSISTENT: 'feature-persistent',
  FEATURE_MAX_INDIRECT_SEGMENTS: 'feature-max-indirect-segments',
  MULTI_QUEUE_MAX_QUEUES: 'multi-queue-max-queues',
  MAX_RING_PAGE_ORDER: 'max-ring-page-order',
  /** Deprecated by max-ring-page-order. */
  MAX_RING_PAGES: 'max-ring-pages',
  SECTORS: 'sectors',
  INFO: 'info',
  SECTOR_SIZE: 'sector-size',
  PHYSICAL_SECTOR_SIZE: 'physical-sector-size',
} as const;

/** Nodes the frontend writes under /local/domain/<fe>/device/vbd/<devid>/ (per queue under queue-N). */
export const VBD_FRONTEND_KEYS = {
  RING_REF: 'ring-ref',
  RING_PAGE_ORDER: 'ring-page-order',
  EVENT_CHANNEL: 'event-channel',
  PROTOCOL: 'protocol',
  FEATURE_PERSISTENT: 'feature-persistent',
  MULTI_QUEUE_NUM_QUEUES: 'multi-queue-num-queues',
} as const;

/** `ring-ref<i>`: the i-th page of a multi-page ring (written with ring-page-order). */
export function ringRefKey(i: number): string {
  return `ring-ref${i}`;
}

/** `queue-<q>`: the per-queue directory once multi-queue-num-queues >= 2. */
export function queueDir(q: number): string {
  return `queue-${q}`;
}

// XenStore keys of the vif handshake (io/netif.h, xen-facts §3), so that no service spells them twice.

/** Nodes the toolstack writes under /local/domain/<be>/backend/vif/<fe>/<devid>/. */
export const VIF_TOOLSTACK_BACKEND_KEYS = {
  FRONTEND: 'frontend',
  FRONTEND_ID: 'frontend-id',
  ONLINE: 'online',
  STATE: 'state',
  SCRIPT: 'script',
  VIFNAME: 'vifname',
  MAC: 'mac',
  IP: 'ip',
  GATEWAYDEV: 'gatewaydev',
  /** `"<bytes>,<usecs>"`: credit per interval. */
  RATE: 'rate',
  MTU: 'mtu',
  VLAN: 'vlan',
  BRIDGE: 'bridge',
  HANDLE: 'handle',
  TYPE: 'type',
  HOTPLUG_STATUS: 'hotplug-status',
} as const;

/** Nodes the backend (netback) writes at probe. */
export const VIF_BACKEND_KEYS = {
  FEATURE_SG: 'feature-sg',
  FEATURE_GSO_TCPV4: 'feature-gso-tcpv4',
  FEATURE_GSO_TCPV6: 'feature-gso-tcpv6',
  FEATURE_IPV6_CSUM_OFFLOAD: 'feature-ipv6-csum-offload',
  FEATURE_RX_COPY: 'feature-rx-copy',
  FEATURE_RX_FLIP: 'feature-rx-flip',
  FEATURE_XDP_HEADROOM: 'feature-xdp-headroom',
  FEATURE_MULTICAST_CONTROL: 'feature-multicast-control',
  FEATURE_DYNAMIC_MULTICAST_CONTROL: 'feature-dynamic-multicast-control',
  FEATURE_SPLIT_EVENT_CHANNELS: 'feature-split-event-channels',
  MULTI_QUEUE_MAX_QUEUES: 'multi-queue-max-queues',
  FEATURE_CTRL_RING: 'feature-ctrl-ring',
  /** 0/1; absent means link up. */
  CARRIER: 'carrier',
} as const;

/** Nodes the toolstack writes under /local/domain/<fe>/device/vif/<devid>/ (read-only to the guest). */
export const VIF_TOOLSTACK_FRONTEND_KEYS = {
  BACKEND: 'backend',
  BACKEND_ID: 'backend-id',
  STATE: 'state',
  HANDLE: 'handle',
  MAC: 'mac',
  TRUSTED: 'trusted',
  /** Absent means 1500. */
  MTU: 'mtu',
} as const;

/** Nodes the frontend (netfront) writes (per queue under queue-N when multi-queue-num-queues >= 2). */
export const VIF_FRONTEND_KEYS = {
  TX_RING_REF: 'tx-ring-ref',
  RX_RING_REF: 'rx-ring-ref',
  EVENT_CHANNEL: 'event-channel',
  EVENT_CHANNEL_TX: 'event-channel-tx',
  EVENT_CHANNEL_RX: 'event-channel-rx',
  REQUEST_RX_COPY: 'request-rx-copy',
  FEATURE_RX_NOTIFY: 'feature-rx-notify',
  FEATURE_SG: 'feature-sg',
  FEATURE_GSO_TCPV4: 'feature-gso-tcpv4',
  FEATURE_GSO_TCPV6: 'feature-gso-tcpv6',
  FEATURE_NO_CSUM_OFFLOAD: 'feature-no-csum-offload',
  FEATURE_IPV6_CSUM_OFFLOAD: 'feature-ipv6-csum-offload',
  MULTI_QUEUE_NUM_QUEUES: 'multi-queue-num-queues',
  REQUEST_MULTICAST_CONTROL: 'request-multicast-control',
  XDP_HEADROOM: 'xdp-headroom',
  CTRL_RING_REF: 'ctrl-ring-ref',
  EVENT_CHANNEL_CTRL: 'event-channel-ctrl',
} as const;

/** `queue-N`: the per-queue subdirectory of a multi-queue frontend. */
export function vifQueueDir(queue: number): string {
  return `queue-${queue}`;
}

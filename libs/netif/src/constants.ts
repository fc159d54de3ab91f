// io/netif.h constants (xen-facts §3), named as Xen names them. Flags come as bit numbers (`_NETTXF_*`)
// and masks (`NETTXF_*`), as in the header.

/** _NETTXF_*: bit numbers of a tx request's `flags`. */
export const _NETTXF = {
  _NETTXF_csum_blank: 0,
  _NETTXF_data_validated: 1,
  _NETTXF_more_data: 2,
  _NETTXF_extra_info: 3,
} as const;

/** NETTXF_*: masks of a tx request's `flags`. */
export const NETTXF = {
  /** Protocol checksum field is blank in the packet (hardware offload). */
  NETTXF_csum_blank: 1 << _NETTXF._NETTXF_csum_blank,
  NETTXF_data_validated: 1 << _NETTXF._NETTXF_data_validated,
  /** The packet continues in the next request. */
  NETTXF_more_data: 1 << _NETTXF._NETTXF_more_data,
  /** An extra-info slot follows this request. */
  NETTXF_extra_info: 1 << _NETTXF._NETTXF_extra_info,
} as const;

/** _NETRXF_*: bit numbers of an rx response's `flags`. */
export const _NETRXF = {
  _NETRXF_data_validated: 0,
  _NETRXF_csum_blank: 1,
  _NETRXF_more_data: 2,
  _NETRXF_extra_info: 3,
  /** Deprecated: GSO prefix descriptor. */
  _NETRXF_gso_prefix: 4,
} as const;

/** NETRXF_*: masks of an rx response's `flags`. */
export const NETRXF = {
  NETRXF_data_validated: 1 << _NETRXF._NETRXF_data_validated,
  NETRXF_csum_blank: 1 << _NETRXF._NETRXF_csum_blank,
  NETRXF_more_data: 1 << _NETRXF._NETRXF_more_data,
  NETRXF_extra_info: 1 << _NETRXF._NETRXF_extra_info,
  NETRXF_gso_prefix: 1 << _NETRXF._NETRXF_gso_prefix,
} as const;

/** XEN_NETIF_EXTRA_TYPE_*: the `type` byte of an extra-info slot. NONE is never valid on the wire. */
export const XEN_NETIF_EXTRA_TYPE = {
  XEN_NETIF_EXTRA_TYPE_NONE: 0,
  XEN_NETIF_EXTRA_TYPE_GSO: 1,
  XEN_NETIF_EXTRA_TYPE_MCAST_ADD: 2,
  XEN_NETIF_EXTRA_TYPE_MCAST_DEL: 3,
  XEN_NETIF_EXTRA_TYPE_HASH: 4,
} as const;
export type NetifExtraType = (typeof XEN_NETIF_EXTRA_TYPE)[keyof typeof XEN_NETIF_EXTRA_TYPE];

export const _XEN_NETIF_EXTRA_FLAG_MORE = 0;
/** Another extra-info slot follows this one. */
export const XEN_NETIF_EXTRA_FLAG_MORE = 1 << _XEN_NETIF_EXTRA_FLAG_MORE;

/** XEN_NETIF_GSO_TYPE_*: the GSO extra's `type`. */
export const XEN_NETIF_GSO_TYPE = {
  XEN_NETIF_GSO_TYPE_NONE: 0,
  XEN_NETIF_GSO_TYPE_TCPV4: 1,
  XEN_NETIF_GSO_TYPE_TCPV6: 2,
} as const;
export type NetifGsoType = (typeof XEN_NETIF_GSO_TYPE)[keyof typeof XEN_NETIF_GSO_TYPE];

/** NETIF_RSP_*: a response's `status` when not a byte count. */
export const NETIF_RSP = {
  NETIF_RSP_DROPPED: -2,
  NETIF_RSP_ERROR: -1,
  NETIF_RSP_OKAY: 0,
  /** The slot was taken by an extra-info and carries no response. */
  NETIF_RSP_NULL: 1,
} as const;
export type NetifRspStatus = (typeof NETIF_RSP)[keyof typeof NETIF_RSP];

/** Backends must accept packets that use up to this many request slots. */
export const XEN_NETIF_NR_SLOTS_MIN = 18;
/** A tx packet's total size is a u16 in its first request. */
export const XEN_NETIF_MAX_TX_SIZE = 0xffff;
/** Ethernet header length: Linux netback refuses a tx packet shorter than this ("Bad packet size"). */
export const ETH_HLEN = 14;

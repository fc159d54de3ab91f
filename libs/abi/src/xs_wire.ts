// xen/include/public/io/xs_wire.h: XenStore wire protocol.

/** enum xsd_sockmsg_type. */
export const XS = {
  XS_CONTROL: 0,
  XS_DIRECTORY: 1,
  XS_READ: 2,
  XS_GET_PERMS: 3,
  XS_WATCH: 4,
  XS_UNWATCH: 5,
  XS_TRANSACTION_START: 6,
  XS_TRANSACTION_END: 7,
  XS_INTRODUCE: 8,
  XS_RELEASE: 9,
  XS_GET_DOMAIN_PATH: 10,
  XS_WRITE: 11,
  XS_MKDIR: 12,
  XS_RM: 13,
  XS_SET_PERMS: 14,
  XS_WATCH_EVENT: 15,
  XS_ERROR: 16,
  XS_IS_DOMAIN_INTRODUCED: 17,
  XS_RESUME: 18,
  XS_SET_TARGET: 19,
  /* 20 was XS_RESTRICT, removed */
  XS_RESET_WATCHES: 21,
  XS_DIRECTORY_PART: 22,
  XS_GET_FEATURE: 23,
  XS_SET_FEATURE: 24,
  XS_GET_QUOTA: 25,
  XS_SET_QUOTA: 26,
  XS_INVALID: 0xffff,
} as const;
export type XsType = (typeof XS)[keyof typeof XS];
/** XS_DEBUG is the old name of XS_CONTROL. */
export const XS_DEBUG = XS.XS_CONTROL;

const xsNames = new Map<number, string>(Object.entries(XS).map(([k, v]) => [v, k]));
/** The header name of a message type, e.g. 2 -> "XS_READ"; unknown values -> "XS_<n>". */
export function xsTypeName(type: number): string {
  return xsNames.get(type) ?? `XS_${type}`;
}

/** xsd_errors[] in xs_wire.h order. Error replies carry the name, NUL-terminated. */
export const XSD_ERRORS = [
  'EINVAL',
  'EACCES',
  'EEXIST',
  'EISDIR',
  'ENOENT',
  'ENOMEM',
  'ENOSPC',
  'EIO',
  'ENOTEMPTY',
  'ENOSYS',
  'EROFS',
  'EBUSY',
  'EAGAIN',
  'EISCONN',
  'E2BIG',
  'EPERM',
] as const;
export type XsdError = (typeof XSD_ERRORS)[number];
export function isXsdError(s: string): s is XsdError {
  return (XSD_ERRORS as readonly string[]).includes(s);
}

/** struct xsd_sockmsg: type, req_id, tx_id, len; all u32 little-endian. */
export const XSD_SOCKMSG_SIZE = 16;
export const XENSTORE_PAYLOAD_MAX = 4096;
export const XENSTORE_ABS_PATH_MAX = 3072;
export const XENSTORE_REL_PATH_MAX = 2048;

/** Watch event payload field indices. */
export const XS_WATCH_PATH = 0;
export const XS_WATCH_TOKEN = 1;

/** struct xenstore_domain_interface (the shared ring page). */
export const XENSTORE_RING_SIZE = 1024;
export const XENSTORE_RING_OFFSETS = {
  req: 0,
  rsp: 1024,
  req_cons: 2048,
  req_prod: 2052,
  rsp_cons: 2056,
  rsp_prod: 2060,
  server_features: 2064,
  connection: 2068,
  error: 2072,
  evtchn_port: 2076,
} as const;
export const XENSTORE_SERVER_FEATURE = {
  XENSTORE_SERVER_FEATURE_RECONNECTION: 1,
  XENSTORE_SERVER_FEATURE_ERROR: 2,
  XENSTORE_SERVER_FEATURE_WATCHDEPTH: 4,
  XENSTORE_SERVER_FEATURE_DOMID_ANY: 8,
} as const;
export const XENSTORE_CONNECTED = 0;
export const XENSTORE_RECONNECT = 1;
export const XENSTORE_ERROR = {
  XENSTORE_ERROR_NONE: 0,
  XENSTORE_ERROR_COMM: 1,
  XENSTORE_ERROR_RINGIDX: 2,
  XENSTORE_ERROR_PROTO: 3,
} as const;

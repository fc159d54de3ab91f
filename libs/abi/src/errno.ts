// Xen's errno values (xen/include/public/errno.h), the currency of hypercall failures. Every library's
// error type draws its closed `kind` from these names, so they map once onto NATS headers, gRPC status
// codes and XenStore error names (libs/bus).
export const XEN_ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENOSPC: 28,
  EROFS: 30,
  ERANGE: 34,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ENODATA: 61,
  EPROTO: 71,
  EOPNOTSUPP: 95,
  EISCONN: 106,
  ENOTCONN: 107,
  ESHUTDOWN: 108,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
} as const;
export type XenErrno = keyof typeof XEN_ERRNO;
export function isXenErrno(s: unknown): s is XenErrno {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(XEN_ERRNO, s);
}

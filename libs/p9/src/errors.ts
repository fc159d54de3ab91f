// The one error type of libs/p9. Its kind is an errno name from Xen's set (so it maps once onto the bus like
// every other library's error); Rlerror carries a Linux errno, so a name Xen lacks rides in `errno`.
import type { XenErrno } from '@dominion/abi';

export type P9Errno = Extract<
  XenErrno,
  | 'EPERM'
  | 'ENOENT'
  | 'EIO'
  | 'ENXIO'
  | 'EBADF'
  | 'EAGAIN'
  | 'ENOMEM'
  | 'EACCES'
  | 'EBUSY'
  | 'EEXIST'
  | 'ENODEV'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'EINVAL'
  | 'ENOSPC'
  | 'EROFS'
  | 'ERANGE'
  | 'ENOSYS'
  | 'ENOTEMPTY'
  | 'ENODATA'
  | 'EPROTO'
  | 'EOPNOTSUPP'
  | 'E2BIG'
>;

/** POSIX errnos a 9P client understands that Xen's errno set has no name for. */
export type P9LinuxOnlyErrno =
  'EMFILE' | 'EXDEV' | 'EFBIG' | 'EMLINK' | 'ENAMETOOLONG' | 'ENOLCK' | 'ELOOP' | 'EOVERFLOW' | 'EDQUOT';

/** Linux (x86/arm generic) errno numbers, the values Rlerror's ecode carries. */
export const LINUX_ERRNO: Readonly<Record<P9Errno | P9LinuxOnlyErrno, number>> = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EMFILE: 24,
  EFBIG: 27,
  ENOSPC: 28,
  EROFS: 30,
  EMLINK: 31,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOLCK: 37,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENODATA: 61,
  EPROTO: 71,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
  EDQUOT: 122,
};

/** The nearest Xen name for each Linux-only errno, used as the kind. */
const NEAREST_KIND: Readonly<Record<P9LinuxOnlyErrno, P9Errno>> = {
  EMFILE: 'ENOMEM',
  EXDEV: 'EINVAL',
  EFBIG: 'ENOSPC',
  EMLINK: 'ENOSPC',
  ENAMETOOLONG: 'EINVAL',
  ENOLCK: 'ENOMEM',
  ELOOP: 'EINVAL',
  EOVERFLOW: 'ERANGE',
  EDQUOT: 'ENOSPC',
};

export class P9Error extends Error {
  override readonly name = 'P9Error';
  readonly kind: P9Errno;
  /** The Linux errno the client sees: `errno` where set, else `kind`. */
  readonly errno: P9Errno | P9LinuxOnlyErrno;
  constructor(errno: P9Errno | P9LinuxOnlyErrno, message: string) {
    super(message);
    this.errno = errno;
    this.kind = errno in NEAREST_KIND ? NEAREST_KIND[errno as P9LinuxOnlyErrno] : (errno as P9Errno);
  }
}

/**
 * The Linux errno number for any failure a filesystem threw: a P9Error, or another library's error whose
 * `errno` or `kind` names a known errno (ZfsError, FsioError), so a dataset's error reaches Rlerror unmapped.
 * Anything else (a bug) is EIO.
 */
export function linuxErrnoOf(e: unknown): number {
  const o = e as { errno?: unknown; kind?: unknown } | null;
  for (const name of [o?.errno, o?.kind]) {
    if (typeof name === 'string' && Object.prototype.hasOwnProperty.call(LINUX_ERRNO, name)) {
      return LINUX_ERRNO[name as P9Errno];
    }
  }
  return LINUX_ERRNO.EIO;
}

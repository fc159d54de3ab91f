// The one error type of libs/zvol. A response's errno from the ZFS domain keeps its name when it is one of
// these; the stream's own failures are ECONNREFUSED (the block service cannot be reached) and ESHUTDOWN
// (the backend was closed).
import type { XenErrno } from '@dominion/abi';

export type ZvolErrorKind = Extract<
  XenErrno,
  'EINVAL' | 'ENOENT' | 'EIO' | 'EROFS' | 'ENOSPC' | 'EBUSY' | 'ENXIO' | 'ECONNREFUSED' | 'ESHUTDOWN'
>;

const KINDS: ReadonlySet<string> = new Set<ZvolErrorKind>([
  'EINVAL',
  'ENOENT',
  'EIO',
  'EROFS',
  'ENOSPC',
  'EBUSY',
  'ENXIO',
  'ECONNREFUSED',
  'ESHUTDOWN',
]);

export class ZvolError extends Error {
  override readonly name = 'ZvolError';
  constructor(
    readonly kind: ZvolErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** The kind for an errno name the service sent: unknown names are EIO. */
export function zvolKindOf(errno: string): ZvolErrorKind {
  return KINDS.has(errno) ? (errno as ZvolErrorKind) : 'EIO';
}

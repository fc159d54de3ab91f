// The one error type of libs/zfs. Its kind is an errno name from Xen's set, so that a zvol failure reaches a
// blkif response or a CLI exit status without another mapping.
import type { XenErrno } from '@dominion/abi';

export type ZfsErrno = Extract<
  XenErrno,
  | 'EINVAL'
  | 'ENOENT'
  | 'EEXIST'
  | 'EIO'
  | 'ENOSPC'
  | 'EBUSY'
  | 'EROFS'
  | 'ENXIO'
  | 'EOPNOTSUPP'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'ENOTEMPTY'
  | 'ENODATA'
  | 'EPERM'
  | 'E2BIG'
>;

export class ZfsError extends Error {
  override readonly name = 'ZfsError';
  constructor(
    readonly kind: ZfsErrno,
    message: string,
    /**
     * The POSIX errno where Xen's set has no name for it: 'EDQUOT' (a quota is exceeded; kind is then
     * ENOSPC, the nearest errno Xen has).
     */
    readonly errno?: 'EDQUOT',
  ) {
    super(message);
  }
}

const PASSED_THROUGH: ReadonlySet<string> = new Set<ZfsErrno>(['ENOENT', 'EEXIST', 'ENOSPC', 'EROFS']);

/**
 * A failure below the engine (an FsioError, a bug) as a ZfsError naming what was being done: a missing
 * file, an existing one, a full or read-only host filesystem keep their errno, anything else is EIO.
 */
export function asZfsError(e: unknown, what: string): ZfsError {
  if (e instanceof ZfsError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  const kind = (e as { kind?: unknown } | null)?.kind;
  return new ZfsError(
    typeof kind === 'string' && PASSED_THROUGH.has(kind) ? (kind as ZfsErrno) : 'EIO',
    `${what}: ${detail}`,
  );
}

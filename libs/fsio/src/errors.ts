// The one error type of libs/fsio. Its kind is the errno the operation failed with, folded onto Xen's names
// so that a storage failure reaches a client (a XenStore reply, a blkif response) without another mapping.
import type { XenErrno } from '@dominion/abi';

export type FsioErrno = Extract<
  XenErrno,
  | 'ENOENT'
  | 'EEXIST'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'ENOTEMPTY'
  | 'EACCES'
  | 'EPERM'
  | 'ENOSPC'
  | 'EROFS'
  | 'EBADF'
  | 'EINVAL'
  | 'EIO'
>;

const KINDS: ReadonlySet<string> = new Set<FsioErrno>([
  'ENOENT',
  'EEXIST',
  'ENOTDIR',
  'EISDIR',
  'ENOTEMPTY',
  'EACCES',
  'EPERM',
  'ENOSPC',
  'EROFS',
  'EBADF',
  'EINVAL',
  'EIO',
]);

export class FsioError extends Error {
  override readonly name = 'FsioError';
  constructor(
    readonly kind: FsioErrno,
    message: string,
  ) {
    super(message);
  }
}

/** Wraps a node:fs failure; an errno outside the closed set (EMFILE, EXDEV, ...) is an EIO. */
export function fsioErrorOf(e: unknown, what: string): FsioError {
  if (e instanceof FsioError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const kind: FsioErrno = typeof code === 'string' && KINDS.has(code) ? (code as FsioErrno) : 'EIO';
  const detail = e instanceof Error ? e.message : String(e);
  return new FsioError(kind, `${what}: ${detail}`);
}

/** Offsets and lengths are byte counts: non-negative safe integers. */
export function checkByteCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new FsioError('EINVAL', `${what}: ${n} is not a byte count`);
}

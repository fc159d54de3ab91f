// blkfront's one error type: the errno a Linux guest's block layer would report for the same fault.
import type { XenErrno } from '@dominion/abi';

export type BlkfrontErrorKind = Extract<XenErrno, 'EIO' | 'EINVAL' | 'EOPNOTSUPP' | 'ESHUTDOWN' | 'ENOSPC' | 'ENOENT'>;

export class BlkfrontError extends Error {
  override readonly name = 'BlkfrontError';
  constructor(
    readonly kind: BlkfrontErrorKind,
    message: string,
  ) {
    super(message);
  }
}

// The one error type of libs/vbd: EINVAL for a range or size a disk cannot take, ENOENT for a missing image,
// EROFS for a write to a read-only disk, EIO for storage that failed underneath. The message names the
// disk (and the image path) and the byte range.
import type { XenErrno } from '@dominion/abi';

export type VbdErrorKind = Extract<XenErrno, 'EINVAL' | 'ENOENT' | 'EROFS' | 'EIO'>;

export class VbdError extends Error {
  override readonly name = 'VbdError';
  constructor(
    readonly kind: VbdErrorKind,
    message: string,
  ) {
    super(message);
  }
}

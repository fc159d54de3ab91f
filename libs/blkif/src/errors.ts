// The one error type of libs/blkif: EINVAL for a value that cannot be encoded or a name that is not a
// virtual device, EPROTO for bytes from a peer that are not a blkif message.
import type { XenErrno } from '@dominion/abi';

export type BlkifErrorKind = Extract<XenErrno, 'EINVAL' | 'EPROTO'>;

export class BlkifError extends Error {
  override readonly name = 'BlkifError';
  constructor(
    readonly kind: BlkifErrorKind,
    message: string,
  ) {
    super(message);
  }
}

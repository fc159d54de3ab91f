// The one error type of the block driver domain: EINVAL for a bad setting or backend key (`params`, `size`,
// `mode`), EACCES for a target outside the directories blkback may open (or a refused ring stream), EBUSY
// for a target another VBD already holds writable (or that a writable VBD would share), EAGAIN for a ring
// stream that came before its device connected (the frontend dials again), ENOENT for a ZFS domain or
// block endpoint that cannot be found. The message names the variable, key, path or device.
import type { XenErrno } from '@dominion/abi';

export type BlkbackErrorKind = Extract<XenErrno, 'EINVAL' | 'EACCES' | 'EBUSY' | 'EAGAIN' | 'ENOENT'>;

export class BlkbackError extends Error {
  override readonly name = 'BlkbackError';
  constructor(
    readonly kind: BlkbackErrorKind,
    message: string,
  ) {
    super(message);
  }
}

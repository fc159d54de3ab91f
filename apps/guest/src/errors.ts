// The guest's one error type; kinds are the errnos a Xen guest would see for the same fault.
import type { XenErrno } from '@dominion/abi';

export type GuestErrorKind = Extract<XenErrno, 'EINVAL' | 'ENOENT' | 'ENOMEM' | 'EACCES'>;

export class GuestError extends Error {
  override readonly name = 'GuestError';
  constructor(
    readonly kind: GuestErrorKind,
    message: string,
  ) {
    super(message);
  }
}

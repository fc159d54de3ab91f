// The one error type of the identity library. Its kinds are Xen errno names, so libs/bus maps them onto
// NATS headers, gRPC status codes and XenStore errors like every other library's.
import type { XenErrno } from '@dominion/abi';

export type IdentityErrorKind = Extract<XenErrno, 'EINVAL' | 'EACCES' | 'EIO' | 'ETIMEDOUT'>;

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
  constructor(
    readonly kind: IdentityErrorKind,
    message: string,
  ) {
    super(message);
  }
}

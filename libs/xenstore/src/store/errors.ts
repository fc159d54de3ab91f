// The store's one error type. Its kinds are XenStore's error names (xs_wire.h xsd_errors), which are also
// Xen errno names, so a failed request answers XS_ERROR with exactly `kind`.
import type { XsdError } from '@dominion/abi';

export type XsStoreErrorKind = Extract<
  XsdError,
  'EINVAL' | 'EACCES' | 'EEXIST' | 'ENOENT' | 'ENOSPC' | 'ENOSYS' | 'EBUSY' | 'EAGAIN' | 'E2BIG' | 'EPERM' | 'EIO'
>;

export class XsStoreError extends Error {
  override readonly name = 'XsStoreError';
  constructor(
    readonly kind: XsStoreErrorKind,
    message: string,
  ) {
    super(message);
  }
}

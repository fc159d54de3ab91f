// The hypervisor's one error type. Its kinds are the errnos Xen's hypercalls return for the same faults.
import type { XenErrno } from '@dominion/abi';

export type HypervisorErrorKind = Extract<
  XenErrno,
  'EPERM' | 'ESRCH' | 'ENOENT' | 'EINVAL' | 'ENOMEM' | 'EEXIST' | 'EBUSY' | 'ENOSPC' | 'EAGAIN' | 'ENOSYS'
>;

export class HypervisorError extends Error {
  override readonly name = 'HypervisorError';
  constructor(
    readonly kind: HypervisorErrorKind,
    message: string,
  ) {
    super(message);
  }
}

// The one error type of libs/toolstack: EINVAL for an argument the toolstack cannot lay out (a domid out of
// range, a uuid that is not one, a path component with characters XenStore refuses, a backend that cannot
// serve), ESRCH for a domain that does not exist, EEXIST for a device id already in use, ENODEV for a
// device a domain does not have.
import type { XenErrno } from '@dominion/abi';

export type ToolstackErrorKind = Extract<XenErrno, 'EINVAL' | 'ESRCH' | 'EEXIST' | 'ENODEV'>;

export class ToolstackError extends Error {
  override readonly name = 'ToolstackError';
  constructor(
    readonly kind: ToolstackErrorKind,
    message: string,
  ) {
    super(message);
  }
}

// The one error type of libs/toolstack: EINVAL for an argument the toolstack cannot lay out (a domid out of
// range, a uuid that is not one, a path component with characters XenStore refuses), ESRCH for a domain
// that does not exist.
import type { XenErrno } from '@dominion/abi';

export type ToolstackErrorKind = Extract<XenErrno, 'EINVAL' | 'ESRCH'>;

export class ToolstackError extends Error {
  override readonly name = 'ToolstackError';
  constructor(
    readonly kind: ToolstackErrorKind,
    message: string,
  ) {
    super(message);
  }
}

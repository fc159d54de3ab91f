// The one error type of the net driver domain: EINVAL for a bad setting (environment or a backend key),
// ENOENT for a bridge that is not here, EEXIST for a port or MAC already on a bridge, EOPNOTSUPP for a
// frontend asking for what netback does not do (rx flip); EACCES for a ring stream that is not the
// device's, EAGAIN for one that came before its vif was connected (the frontend dials again). The message names the variable, key or port.
import type { XenErrno } from '@dominion/abi';

export type NetbackErrorKind = Extract<XenErrno, 'EINVAL' | 'ENOENT' | 'EEXIST' | 'EOPNOTSUPP' | 'EACCES' | 'EAGAIN'>;

export class NetbackError extends Error {
  override readonly name = 'NetbackError';
  constructor(
    readonly kind: NetbackErrorKind,
    message: string,
  ) {
    super(message);
  }
}

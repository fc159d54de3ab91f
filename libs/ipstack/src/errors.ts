// The one error type of libs/ipstack: EINVAL for a bad interface setting or argument, EEXIST for a UDP
// port already bound, E2BIG for a datagram larger than IPv4 can carry, ENOENT for a destination with no
// route, ENOTCONN for a use of the interface while it is down or has no address, ESHUTDOWN for a closed
// socket. Received frames never raise: they are dropped and counted.
import type { XenErrno } from '@dominion/abi';

export type IpStackErrorKind = Extract<XenErrno, 'EINVAL' | 'EEXIST' | 'E2BIG' | 'ENOENT' | 'ENOTCONN' | 'ESHUTDOWN'>;

export class IpStackError extends Error {
  override readonly name = 'IpStackError';
  constructor(
    readonly kind: IpStackErrorKind,
    message: string,
  ) {
    super(message);
  }
}

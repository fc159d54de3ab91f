// The one error type of libs/xenbus: EINVAL for a key whose value is not what the handshake allows,
// ENOENT for a key that must be there and is not, ETIMEDOUT for a peer that did not reach a state in
// time, ESHUTDOWN for a device end that was stopped. The message names the XenStore path at fault.
import type { XenErrno } from '@dominion/abi';

export type XenbusErrorKind = Extract<XenErrno, 'EINVAL' | 'ENOENT' | 'ETIMEDOUT' | 'ESHUTDOWN'>;

export class XenbusError extends Error {
  override readonly name = 'XenbusError';
  constructor(
    readonly kind: XenbusErrorKind,
    message: string,
  ) {
    super(message);
  }
}

import type { XenErrno } from '@dominion/abi';

/**
 * E2BIG: a payload over XENSTORE_PAYLOAD_MAX (xenstored drops such a connection);
 * EPROTO: bytes that are not a well-formed message or reply;
 * EINVAL: a bad argument (a NUL inside a path, a bad perm, a domid out of range) or a parser used after it failed.
 */
export type XsWireErrorKind = Extract<XenErrno, 'E2BIG' | 'EINVAL' | 'EPROTO'>;

export class XsWireError extends Error {
  override readonly name = 'XsWireError';
  constructor(
    readonly kind: XsWireErrorKind,
    message: string,
  ) {
    super(message);
  }
}

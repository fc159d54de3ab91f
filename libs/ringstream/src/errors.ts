// The ring stream's one error type. EACCES: the backend refused the stream (proof, frontend-id, ring-ref,
// domain); EPROTO: a peer broke the stream's handshake or the ring; ETIMEDOUT: the handshake did not
// finish in time; ESHUTDOWN: closed for good; EINVAL: a caller's own mistake; ECONNREFUSED: the stream
// broke or could not be opened (the frontend retries).
import type { XenErrno } from '@dominion/abi';

export type RingStreamErrorKind = Extract<
  XenErrno,
  'EINVAL' | 'EACCES' | 'EPROTO' | 'ETIMEDOUT' | 'ESHUTDOWN' | 'ECONNREFUSED'
>;

export class RingStreamError extends Error {
  override readonly name = 'RingStreamError';
  constructor(
    readonly kind: RingStreamErrorKind,
    message: string,
  ) {
    super(message);
  }
}

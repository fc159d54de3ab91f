// The ring's one error type. Its kinds are the errnos a Xen driver reports for the same faults: EPROTO for
// a peer that broke the ring protocol, ENOSPC for a ring with no free slot, EFAULT for a grant copy that
// the granting domain refused (with the GNTST_* status), EINVAL for a caller's own mistake, ENOTCONN and
// ESHUTDOWN for a ring that is disconnected or closed for good.
import { GNTST, type GntStatus, type XenErrno } from '@dominion/abi';

export type RingErrorKind = Extract<XenErrno, 'EINVAL' | 'EPROTO' | 'ENOSPC' | 'EFAULT' | 'ENOTCONN' | 'ESHUTDOWN'>;

export class RingError extends Error {
  override readonly name = 'RingError';
  constructor(
    readonly kind: RingErrorKind,
    message: string,
    /** For EFAULT: the GNTST_* status of the refused grant copy. */
    readonly gntst?: GntStatus,
  ) {
    super(message);
  }
}

const GNTST_NAMES = new Map<number, string>(Object.entries(GNTST).map(([name, v]) => [v, name]));

/** `GNTST_bad_gntref` for -3: Xen's name of a grant status, for messages. */
export function gntstName(status: number): string {
  return GNTST_NAMES.get(status) ?? `GNTST(${status})`;
}

/**
 * A value a peer sent, for a message. String(v) throws for an object with no usable toString (a
 * null-prototype object, or JSON's `{"toString": 1}`), which would swap the fault's name for a TypeError.
 */
export function peerValue(v: unknown): string {
  try {
    return String(v);
  } catch {
    return `(${typeof v})`;
  }
}

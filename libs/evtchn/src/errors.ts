// The event-channel library's one error type, for the checks it makes locally (a send on a port that is not
// open). Hypercall failures arrive as the BusError the hypervisor answered.
import type { XenErrno } from '@dominion/abi';

export type EvtchnErrorKind = Extract<XenErrno, 'EINVAL'>;

export class EvtchnError extends Error {
  override readonly name = 'EvtchnError';
  constructor(
    readonly kind: EvtchnErrorKind,
    message: string,
  ) {
    super(message);
  }
}

// The one error of XenStore's client and server side: its kind is the name xenstored answers with
// (xsd_errors[] in xs_wire.h), so a failure reads the same whichever transport carried it.
import { isXsdError, type XsdError } from '@dominion/abi';

export class XenstoreError extends Error {
  override readonly name = 'XenstoreError';
  constructor(
    readonly kind: XsdError,
    message: string,
  ) {
    super(message);
  }
}

/** A reply's errno name as a kind; names outside xsd_errors[] (oxenstored's EQUOTA) fold onto EIO. */
export function xsdErrorKind(name: string | undefined): XsdError {
  return name !== undefined && isXsdError(name) ? name : 'EIO';
}

// The one error type of libs/xenstore, codec, engine, daemon and client alike. Its kind is the name xenstored
// answers with (xsd_errors[] in xs_wire.h), so a failure reads the same whichever layer or transport raised
// it; plus EPROTO for bytes that are not a well-formed xs_wire message, which a reply carries as EINVAL.
import { isXsdError, type XsdError } from '@dominion/abi';

export type XenstoreErrorKind = XsdError | 'EPROTO';

export class XenstoreError extends Error {
  override readonly name = 'XenstoreError';
  constructor(
    readonly kind: XenstoreErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** A reply's errno name as a kind; names outside xsd_errors[] (oxenstored's EQUOTA) fold onto EIO. */
export function xsdErrorKind(name: string | undefined): XsdError {
  return name !== undefined && isXsdError(name) ? name : 'EIO';
}

/** The name an XS_ERROR reply carries for a kind. */
export function xsdErrorOfKind(kind: XenstoreErrorKind): XsdError {
  return kind === 'EPROTO' ? 'EINVAL' : kind;
}

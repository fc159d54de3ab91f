// The one error type of libs/netif: EINVAL for a value the caller cannot encode, EPROTO for slots from a
// peer that break the netif protocol, E2BIG for a packet using more slots than a backend must accept,
// EFAULT for a slot whose grant reference has no granted page.
import type { XenErrno } from '@dominion/abi';

export type NetifErrorKind = Extract<XenErrno, 'EINVAL' | 'EPROTO' | 'E2BIG' | 'EFAULT'>;

export class NetifError extends Error {
  override readonly name = 'NetifError';
  constructor(
    readonly kind: NetifErrorKind,
    message: string,
    /** For a refused packet: the ids of its tx requests, each answered NETIF_RSP_ERROR. */
    readonly requestIds: readonly number[] = [],
  ) {
    super(message);
  }
}

// The one error type of libs/nbd. A request that fails carries its kind to the client as an NBD error
// value; EPROTO is a peer that does not speak NBD (its connection ends). E2BIG stands for NBD_EOVERFLOW,
// which has no Xen errno of its own.
import type { XenErrno } from '@dominion/abi';
import { NBD_ERROR, type NbdErrorValue } from './constants.js';

export type NbdErrorKind = Extract<
  XenErrno,
  'EPERM' | 'EIO' | 'ENOMEM' | 'EINVAL' | 'ENOSPC' | 'E2BIG' | 'EOPNOTSUPP' | 'ESHUTDOWN' | 'EPROTO'
>;

export class NbdError extends Error {
  override readonly name = 'NbdError';
  constructor(
    readonly kind: NbdErrorKind,
    message: string,
  ) {
    super(message);
  }
}

const BY_KIND: Readonly<Record<string, NbdErrorValue>> = {
  EPERM: NBD_ERROR.NBD_EPERM,
  EROFS: NBD_ERROR.NBD_EPERM,
  EACCES: NBD_ERROR.NBD_EPERM,
  EIO: NBD_ERROR.NBD_EIO,
  ENOMEM: NBD_ERROR.NBD_ENOMEM,
  EINVAL: NBD_ERROR.NBD_EINVAL,
  ENOSPC: NBD_ERROR.NBD_ENOSPC,
  // proto.md: EDQUOT and EFBIG SHOULD map to ENOSPC.
  EDQUOT: NBD_ERROR.NBD_ENOSPC,
  EFBIG: NBD_ERROR.NBD_ENOSPC,
  E2BIG: NBD_ERROR.NBD_EOVERFLOW,
  EOPNOTSUPP: NBD_ERROR.NBD_ENOTSUP,
  ESHUTDOWN: NBD_ERROR.NBD_ESHUTDOWN,
};

/**
 * The NBD error value for a failure thrown by an export: its `kind` (NbdError, FsioError and the other
 * Dominion errors) or its `code` (a raw node error) if it names one NBD has, NBD_EIO otherwise.
 */
export function nbdErrorValueOf(e: unknown): NbdErrorValue {
  const o = e as { kind?: unknown; code?: unknown } | null;
  const name = typeof o?.kind === 'string' ? o.kind : typeof o?.code === 'string' ? o.code : undefined;
  return (name !== undefined && BY_KIND[name]) || NBD_ERROR.NBD_EIO;
}

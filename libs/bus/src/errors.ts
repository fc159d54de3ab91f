// One error type for the bus, and the single place where an error's errno `kind` is mapped onto the three
// wires: NATS headers, gRPC status codes, XenStore error names.
import { isXenErrno, isXsdError, type XenErrno, type XsdError } from '@dominion/abi';

export class BusError extends Error {
  override readonly name = 'BusError';
  constructor(
    readonly kind: XenErrno,
    message: string,
  ) {
    super(message);
  }
}

/** Headers of an error reply. The body of an error reply is the message text. */
export const XEN_ERRNO_HEADER = 'Xen-Errno';

/** Any error with a Xen errno `kind` keeps it; everything else is an internal failure (EIO). */
export function errnoOf(e: unknown): XenErrno {
  const kind = (e as { kind?: unknown } | null)?.kind;
  return isXenErrno(kind) ? kind : 'EIO';
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** google.rpc.Code values (grpc status codes). */
export const GRPC_STATUS = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatus = (typeof GRPC_STATUS)[keyof typeof GRPC_STATUS];

const GRPC_OF: Partial<Record<XenErrno, GrpcStatus>> = {
  EPERM: GRPC_STATUS.PERMISSION_DENIED,
  EACCES: GRPC_STATUS.PERMISSION_DENIED,
  ENOENT: GRPC_STATUS.NOT_FOUND,
  ESRCH: GRPC_STATUS.NOT_FOUND,
  ENODEV: GRPC_STATUS.NOT_FOUND,
  ENXIO: GRPC_STATUS.NOT_FOUND,
  EEXIST: GRPC_STATUS.ALREADY_EXISTS,
  EISCONN: GRPC_STATUS.ALREADY_EXISTS,
  EINVAL: GRPC_STATUS.INVALID_ARGUMENT,
  E2BIG: GRPC_STATUS.INVALID_ARGUMENT,
  EBADF: GRPC_STATUS.INVALID_ARGUMENT,
  ENOTDIR: GRPC_STATUS.INVALID_ARGUMENT,
  EISDIR: GRPC_STATUS.INVALID_ARGUMENT,
  ERANGE: GRPC_STATUS.OUT_OF_RANGE,
  ENOMEM: GRPC_STATUS.RESOURCE_EXHAUSTED,
  ENOSPC: GRPC_STATUS.RESOURCE_EXHAUSTED,
  EAGAIN: GRPC_STATUS.ABORTED,
  EBUSY: GRPC_STATUS.FAILED_PRECONDITION,
  ENOTEMPTY: GRPC_STATUS.FAILED_PRECONDITION,
  EROFS: GRPC_STATUS.FAILED_PRECONDITION,
  ENOTCONN: GRPC_STATUS.FAILED_PRECONDITION,
  ENOSYS: GRPC_STATUS.UNIMPLEMENTED,
  EOPNOTSUPP: GRPC_STATUS.UNIMPLEMENTED,
  ETIMEDOUT: GRPC_STATUS.DEADLINE_EXCEEDED,
  ESHUTDOWN: GRPC_STATUS.UNAVAILABLE,
  ECONNREFUSED: GRPC_STATUS.UNAVAILABLE,
  EIO: GRPC_STATUS.INTERNAL,
  EFAULT: GRPC_STATUS.INTERNAL,
  EPROTO: GRPC_STATUS.INTERNAL,
  ENODATA: GRPC_STATUS.DATA_LOSS,
};
export function grpcStatusOf(kind: XenErrno): GrpcStatus {
  return GRPC_OF[kind] ?? GRPC_STATUS.UNKNOWN;
}
const ERRNO_OF_GRPC: Partial<Record<number, XenErrno>> = {
  [GRPC_STATUS.PERMISSION_DENIED]: 'EACCES',
  [GRPC_STATUS.UNAUTHENTICATED]: 'EACCES',
  [GRPC_STATUS.NOT_FOUND]: 'ENOENT',
  [GRPC_STATUS.ALREADY_EXISTS]: 'EEXIST',
  [GRPC_STATUS.INVALID_ARGUMENT]: 'EINVAL',
  [GRPC_STATUS.OUT_OF_RANGE]: 'ERANGE',
  [GRPC_STATUS.RESOURCE_EXHAUSTED]: 'ENOSPC',
  [GRPC_STATUS.ABORTED]: 'EAGAIN',
  [GRPC_STATUS.FAILED_PRECONDITION]: 'EBUSY',
  [GRPC_STATUS.UNIMPLEMENTED]: 'EOPNOTSUPP',
  [GRPC_STATUS.DEADLINE_EXCEEDED]: 'ETIMEDOUT',
  [GRPC_STATUS.UNAVAILABLE]: 'ECONNREFUSED',
  [GRPC_STATUS.CANCELLED]: 'ESHUTDOWN',
};
/** The errno a gRPC client should surface for a status it received. */
export function errnoOfGrpcStatus(code: number): XenErrno {
  return ERRNO_OF_GRPC[code] ?? 'EIO';
}

/** XenStore has only the 16 names of xsd_errors[]; other errnos fold onto the nearest one. */
const XSD_OF: Partial<Record<XenErrno, XsdError>> = {
  ESRCH: 'ENOENT',
  ENODEV: 'ENOENT',
  ENXIO: 'ENOENT',
  ENOTDIR: 'EINVAL',
  EBADF: 'EINVAL',
  ERANGE: 'EINVAL',
  EOPNOTSUPP: 'ENOSYS',
  ETIMEDOUT: 'EIO',
  EFAULT: 'EIO',
  EPROTO: 'EIO',
  ENODATA: 'EIO',
  ENOTCONN: 'EIO',
  ESHUTDOWN: 'EIO',
  ECONNREFUSED: 'EIO',
};
export function xsdErrorOf(kind: XenErrno): XsdError {
  return isXsdError(kind) ? kind : (XSD_OF[kind] ?? 'EIO');
}

// Errors onto gRPC statuses and back, with libs/bus's one mapping and the `xen-errno` trailer that
// libs/runtime's toGrpcError/fromGrpcError use too. Kept here so that a ring stream does not load the
// NestJS runtime for two functions.
import * as grpc from '@grpc/grpc-js';
import { BusError, errnoOf, errnoOfGrpcStatus, grpcStatusOf, messageOf } from '@dominion/bus';

const XEN_ERRNO = 'xen-errno';

/** The status a server ends a stream with for `e`: its errno's gRPC code, the message, the errno trailer. */
export function grpcStatusError(e: unknown): Partial<grpc.StatusObject> & Error {
  const kind = errnoOf(e);
  const metadata = new grpc.Metadata();
  metadata.set(XEN_ERRNO, kind);
  return Object.assign(new Error(messageOf(e)), { code: grpcStatusOf(kind), details: messageOf(e), metadata });
}

/** The error a client surfaces for a status it received: the errno the trailer names, or the code's. */
export function errorOfStatus(st: { code: number; details?: string; metadata?: grpc.Metadata }): BusError {
  const trailer = st.metadata?.get(XEN_ERRNO)[0];
  const kind = typeof trailer === 'string' ? errnoOf({ kind: trailer }) : errnoOfGrpcStatus(st.code);
  return new BusError(kind, st.details || `gRPC status ${st.code}`);
}

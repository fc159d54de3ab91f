// gRPC server wiring for the data path. grpc-js reports the port it bound, so ":0" works (Nest's gRPC
// transport cannot tell it), which is why services host grpc-js directly.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { BusError, errnoOf, errnoOfGrpcStatus, grpcStatusOf, messageOf } from '@dominion/bus';
import { grpcServerCredentials, loadGrpcTls, type GrpcTls } from './grpc-tls.js';

export interface GrpcHost {
  server: grpc.Server;
  port: number;
  address: string;
  /** Whether the server serves TLS (DOMINION_GRPC_TLS_*). */
  tls: boolean;
  close(): Promise<void>;
}

export function loadProto(protoPath: string, includeDirs: string[] = []): grpc.GrpcObject {
  const def = protoLoader.loadSync(protoPath, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs,
  });
  return grpc.loadPackageDefinition(def);
}

/**
 * Binds a server with the given services on `listen` (host:port; port 0 = any free port). TLS comes from
 * DOMINION_GRPC_TLS_* unless `tls` is given (null = plaintext); a half-made setting throws before binding.
 */
export async function startGrpcServer(
  listen: string,
  services: Array<{ service: grpc.ServiceDefinition; impl: grpc.UntypedServiceImplementation }>,
  options: grpc.ChannelOptions = {},
  tls: GrpcTls | null = loadGrpcTls() ?? null,
): Promise<GrpcHost> {
  const credentials = grpcServerCredentials(tls ?? undefined);
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 64 << 20,
    'grpc.max_send_message_length': 64 << 20,
    ...options,
  });
  for (const s of services) server.addService(s.service, s.impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(listen, credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  const host = listen.slice(0, listen.lastIndexOf(':'));
  return {
    server,
    port,
    address: `${host}:${port}`,
    tls: tls !== null,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // Streams that never end would hold tryShutdown forever.
        setTimeout(() => server.forceShutdown(), 2000).unref();
      }),
  };
}

/** A gRPC status error carrying a library error's errno, for callbacks and stream.destroy(). */
export function toGrpcError(e: unknown): grpc.ServiceError {
  const kind = errnoOf(e);
  const md = new grpc.Metadata();
  md.set('xen-errno', kind);
  const err: grpc.ServiceError = Object.assign(new Error(messageOf(e)), {
    code: grpcStatusOf(kind),
    details: messageOf(e),
    metadata: md,
  });
  return err;
}

/** The BusError a client should surface for a gRPC failure. */
export function fromGrpcError(e: grpc.ServiceError): BusError {
  const errno = e.metadata?.get('xen-errno')[0];
  const kind = typeof errno === 'string' ? errnoOf({ kind: errno }) : undefined;
  return new BusError(kind ?? errnoOfGrpcStatus(e.code), e.details || e.message);
}

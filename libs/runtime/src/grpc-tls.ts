// TLS on the gRPC data path between hosts, from DOMINION_GRPC_TLS_* (README table). Off when none is set:
// on loopback the ring stream's own challenge is the identity, and TLS would only cost. Once any is set,
// servers serve TLS only and clients dial TLS only; nothing falls back to plaintext.
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { ConfigError } from './config.js';

type Env = Record<string, string | undefined>;

/** One PEM file named by a variable; `from` is kept so later errors still name the variable and file. */
export interface GrpcTlsFile {
  from: string;
  path: string;
  pem: Buffer;
}

export interface GrpcTls {
  /** The server's certificate chain and key (servers need them). */
  cert?: GrpcTlsFile;
  key?: GrpcTlsFile;
  /** CAs clients trust for servers, and servers trust for client certificates; unset = system roots. */
  ca?: GrpcTlsFile;
  /** A client certificate: when set, clients present it and servers require one (mutual TLS). */
  clientCert?: GrpcTlsFile;
  clientKey?: GrpcTlsFile;
  /** The name server certificates are checked against instead of the endpoint's host. */
  serverName?: string;
}

export const GRPC_TLS_VARS = {
  cert: 'DOMINION_GRPC_TLS_CERT',
  key: 'DOMINION_GRPC_TLS_KEY',
  ca: 'DOMINION_GRPC_TLS_CA',
  clientCert: 'DOMINION_GRPC_TLS_CLIENT_CERT',
  clientKey: 'DOMINION_GRPC_TLS_CLIENT_KEY',
  serverName: 'DOMINION_GRPC_TLS_SERVER_NAME',
} as const;

function pemFile(env: Env, key: string, what: string): GrpcTlsFile | undefined {
  const path = env[key];
  if (path === undefined || path === '') return undefined;
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new ConfigError(`${key}=${path}: cannot read the ${what} (${code})`);
  }
  if (!pem.includes('-----BEGIN ')) throw new ConfigError(`${key}=${path}: not a PEM ${what}`);
  return { from: key, path, pem };
}

function pair(a: GrpcTlsFile | undefined, aKey: string, b: GrpcTlsFile | undefined, bKey: string): void {
  if (a && !b) throw new ConfigError(`${aKey}=${a.path} is set but ${bKey} is not: a certificate needs its key`);
  if (b && !a) throw new ConfigError(`${bKey}=${b.path} is set but ${aKey} is not: a key needs its certificate`);
}

/** Reads and checks the TLS settings; undefined when TLS is off (no DOMINION_GRPC_TLS_* set). */
export function loadGrpcTls(env: Env = process.env): GrpcTls | undefined {
  const V = GRPC_TLS_VARS;
  if (!Object.values(V).some((k) => env[k])) return undefined;
  const tls: GrpcTls = {
    cert: pemFile(env, V.cert, 'server certificate'),
    key: pemFile(env, V.key, 'server key'),
    ca: pemFile(env, V.ca, 'CA bundle'),
    clientCert: pemFile(env, V.clientCert, 'client certificate'),
    clientKey: pemFile(env, V.clientKey, 'client key'),
    serverName: env[V.serverName] || undefined,
  };
  pair(tls.cert, V.cert, tls.key, V.key);
  pair(tls.clientCert, V.clientCert, tls.clientKey, V.clientKey);
  if (tls.serverName !== undefined && !/^[A-Za-z0-9.-]+$/.test(tls.serverName))
    throw new ConfigError(`${V.serverName}=${JSON.stringify(tls.serverName)}: expected a host name`);
  return tls;
}

/** Plaintext when tls is undefined; else TLS with the server's certificate, and client certs required for mTLS. */
export function grpcServerCredentials(tls: GrpcTls | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const V = GRPC_TLS_VARS;
  if (!tls.cert || !tls.key)
    throw new ConfigError(`gRPC TLS is configured but ${V.cert} and ${V.key} are not set: a server needs both`);
  const mutual = tls.clientCert !== undefined;
  if (mutual && !tls.ca)
    throw new ConfigError(
      `${V.clientCert}=${tls.clientCert?.path} asks for mutual TLS but ${V.ca} is not set: servers check client certificates against it`,
    );
  return grpc.ServerCredentials.createSsl(
    tls.ca?.pem ?? null,
    [{ cert_chain: tls.cert.pem, private_key: tls.key.pem }],
    mutual,
  );
}

/** How a client dials: plaintext when tls is undefined, else TLS (with the server-name override, if any). */
export function grpcClientTransport(tls: GrpcTls | undefined): {
  credentials: grpc.ChannelCredentials;
  options: grpc.ChannelOptions;
} {
  if (!tls) return { credentials: grpc.credentials.createInsecure(), options: {} };
  const credentials = grpc.credentials.createSsl(
    tls.ca?.pem ?? null,
    tls.clientKey?.pem ?? null,
    tls.clientCert?.pem ?? null,
  );
  const options: grpc.ChannelOptions = tls.serverName
    ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName }
    : {};
  return { credentials, options };
}

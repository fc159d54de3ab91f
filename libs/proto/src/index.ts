// The .proto contracts of the data path, and how to load them. The files sit at the package root, next to
// src/ and dist/, so that one relative path finds them from the TS sources (tests) and the build alike.
import { fileURLToPath } from 'node:url';

export const PROTO_FILES = { ring: 'ring.proto', block: 'block.proto' } as const;
export type ProtoName = keyof typeof PROTO_FILES;

/** Absolute path of a .proto file of this package. */
export function protoPath(name: ProtoName = 'ring'): string {
  return fileURLToPath(new URL(`../${PROTO_FILES[name]}`, import.meta.url));
}

/** Fully qualified name of the ring service and its one bidirectional method. */
export const RING_SERVICE = 'dominion.ring.v1.Ring';
export const RING_METHOD = 'Connect';

/**
 * @grpc/proto-loader options the message types below assume: camelCase fields, u64 as number (expires_at
 * is ms since the epoch), bytes as Buffer, `msg` naming the field set in a oneof.
 */
export const RING_PROTO_LOADER_OPTIONS = {
  keepCase: false,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
} as const;

export interface WireHello {
  device: string;
  ringRef: number;
  frontendDomid: number;
  queue: number;
  protocol: string;
}

export interface WireChallenge {
  backend: number;
  device: string;
  ringRef: number;
  frontend: number;
  expiresAt: number;
  nonce: string;
}

export interface WireProof {
  sig: string;
}

export interface WireConnected {
  ringSize: number;
  backend: number;
}

export interface WireGrantCopy {
  ref: number;
  offset: number;
  data: Uint8Array;
}

export interface WireRequest {
  req: Uint8Array;
  copies: WireGrantCopy[];
}

export interface WireRequestBatch {
  reqProd: number;
  requests: WireRequest[];
}

export interface WireResponse {
  rsp: Uint8Array;
  copies: WireGrantCopy[];
}

export interface WireResponseBatch {
  rspProd: number;
  responses: WireResponse[];
}

/** Frontend to backend; decoded, `msg` names the field present. */
export type WireFrontMessage =
  | { msg?: 'hello'; hello: WireHello }
  | { msg?: 'proof'; proof: WireProof }
  | { msg?: 'requests'; requests: WireRequestBatch };

/** Backend to frontend; decoded, `msg` names the field present. */
export type WireBackMessage =
  | { msg?: 'challenge'; challenge: WireChallenge }
  | { msg?: 'connected'; connected: WireConnected }
  | { msg?: 'responses'; responses: WireResponseBatch };

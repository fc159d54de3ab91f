// The block service's contract (libs/proto/block.proto) as TS: where the file is, how to load it, and the
// shapes of its messages as @grpc/proto-loader hands them over with BLOCK_PROTO_LOADER_OPTIONS.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from '@dominion/proto';

export const BLOCK_SERVICE = 'dominion.block.v1.Block';
export const BLOCK_METHOD = 'Connect';

export function blockProtoPath(): string {
  return protoPath('block');
}

/** camelCase fields, u64 as number (offsets stay below 2^53), bytes as Buffer, `op` naming the oneof set. */
export const BLOCK_PROTO_LOADER_OPTIONS = {
  keepCase: false,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
} as const;

export interface WireOpen {
  volume: string;
  readOnly?: boolean;
}

export type BlockOp = 'open' | 'read' | 'write' | 'flush' | 'discard';

export interface WireBlockRequest {
  id: number;
  op?: BlockOp;
  open?: WireOpen;
  read?: { offset: number; length: number };
  write?: { offset: number; data: Uint8Array };
  flush?: Record<string, never>;
  discard?: { offset: number; length: number };
}

export interface WireOpened {
  volume: string;
  size: number;
  blockSize: number;
  readOnly: boolean;
}

export interface WireBlockResponse {
  id: number;
  /** '' on success. */
  errno: string;
  message: string;
  data: Buffer;
  opened?: WireOpened | null;
}

let cached: grpc.ServiceClientConstructor | undefined;

/** The Block service's client constructor; its `service` is the definition a server adds. */
export function blockService(): grpc.ServiceClientConstructor {
  if (cached) return cached;
  const def = protoLoader.loadSync(blockProtoPath(), BLOCK_PROTO_LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    dominion: { block: { v1: { Block: grpc.ServiceClientConstructor } } };
  };
  cached = pkg.dominion.block.v1.Block;
  return cached;
}

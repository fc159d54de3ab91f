// The ring service (libs/proto ring.proto) as grpc-js serves and calls it, with the hand-written message
// codec; the channel options every ring stream uses; the split of one push into messages of bounded size.
import type * as grpc from '@grpc/grpc-js';
import { RING_METHOD, RING_SERVICE, type WireBackMessage, type WireFrontMessage } from '@dominion/proto';
import { idxAdd, idxDiff } from '@dominion/ring';
import { decodeBackMessage, decodeFrontMessage, encodeBackMessage, encodeFrontMessage } from './wire-codec.js';

const CONNECT: grpc.MethodDefinition<WireFrontMessage, WireBackMessage> = {
  path: `/${RING_SERVICE}/${RING_METHOD}`,
  requestStream: true,
  responseStream: true,
  requestSerialize: encodeFrontMessage,
  requestDeserialize: decodeFrontMessage,
  responseSerialize: encodeBackMessage,
  responseDeserialize: decodeBackMessage,
  originalName: 'connect',
};

/** dominion.ring.v1.Ring: one bidirectional method, Connect. */
export function ringServiceDefinition(): grpc.ServiceDefinition {
  return { [RING_METHOD]: CONNECT };
}

export function ringMethod(): grpc.MethodDefinition<WireFrontMessage, WireBackMessage> {
  return CONNECT;
}

/**
 * Channel options for both ends. A batch message may hold many pages; channel reconnects must not add
 * grpc-js's default 1 s backoff to a ring's stall (the stream driver has its own backoff).
 */
export const RING_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 64 << 20,
  'grpc.max_send_message_length': 64 << 20,
  'grpc.initial_reconnect_backoff_ms': 50,
  'grpc.min_reconnect_backoff_ms': 50,
  'grpc.max_reconnect_backoff_ms': 1000,
};

/** Payload bytes above which a pushed batch is split over several messages (each with its own prod index). */
export const DEFAULT_MAX_BATCH_BYTES = 4 << 20;

/**
 * Splits the entries of one push that ends at producer index `prod` into consecutive batches of at most
 * `maxBytes` payload bytes (at least one entry each). Each carries the producer index after its last entry,
 * so the peer sees several smaller pushes, which the ring protocol allows.
 */
export function splitPush<E>(
  entries: readonly E[],
  prod: number,
  bytesOf: (e: E) => number,
  maxBytes: number,
): Array<{ prod: number; entries: E[] }> {
  const start = idxDiff(prod, entries.length);
  const out: Array<{ prod: number; entries: E[] }> = [];
  let cur: E[] = [];
  let bytes = 0;
  let done = 0;
  for (const e of entries) {
    const b = bytesOf(e);
    if (cur.length > 0 && bytes + b > maxBytes) {
      out.push({ prod: idxAdd(start, done), entries: cur });
      cur = [];
      bytes = 0;
    }
    cur.push(e);
    bytes += b;
    done++;
  }
  if (cur.length > 0) out.push({ prod: idxAdd(start, done), entries: cur });
  return out;
}

/** Bytes of an entry and its grant copies. */
export function entryBytes(head: Uint8Array, copies: readonly { data: Uint8Array }[]): number {
  let n = head.length;
  for (const c of copies) n += c.data.length;
  return n;
}

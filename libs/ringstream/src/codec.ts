// What the ring stream needs of a protocol: its encoded entries and where the echoed id is. The stream
// carries bytes; the rings on either end hold the protocol's own types (blkif: BlkifRequest/BlkifResponse).
import type { RingIds } from '@dominion/ring';

export interface RingCodec<Req, Rsp> extends RingIds<Req, Rsp> {
  /** The `protocol` node's value the encoding follows, e.g. 'x86_64-abi' (sent in the Hello). */
  readonly protocol: string;
  encodeRequest(req: Req): Uint8Array;
  /** Throws on bytes that are not a request at all (too short); the stream then breaks with EPROTO. */
  decodeRequest(bytes: Uint8Array): Req;
  encodeResponse(rsp: Rsp): Uint8Array;
  decodeResponse(bytes: Uint8Array): Rsp;
}

// Backend side of tx: consume raw tx slots as netback does, one packet at a time, and rebuild each frame
// from the granted pages. A malformed packet is answered NETIF_RSP_ERROR on each of its request slots and
// reported as a value; it never throws, so one bad packet cannot take the ring down.
//
// Slot limit: a packet may use at most XEN_NETIF_NR_SLOTS_MIN (18) request slots, extra-info slots not
// counted. That is the minimum io/netif.h obliges a backend to accept and what Linux netback accepts
// (XEN_NETBK_LEGACY_SLOTS_MAX); the 19th request makes the packet E2BIG. Unlike Linux, which disables the
// vif past fatal_skb_slots, the over-long packet is only refused.
import { XEN_PAGE_SIZE } from '@dominion/abi';
import { ETH_HLEN, NETIF_RSP, NETTXF, XEN_NETIF_EXTRA_FLAG_MORE, XEN_NETIF_NR_SLOTS_MIN } from './constants.js';
import { NetifError } from './errors.js';
import { decodeExtraInfo, type NetifExtraInfo } from './extra.js';
import { NET_TX_RING_SIZE, NETIF_TX_SLOT_SIZE } from './ring.js';
import { decodeTxRequest, type NetifTxRequest, type NetifTxResponse } from './tx.js';

export type TxPacket =
  | {
      ok: true;
      frame: Buffer;
      /** The first request's NETTXF_csum_blank / NETTXF_data_validated bits. */
      flags: number;
      extras: NetifExtraInfo[];
      requestIds: number[];
    }
  | { ok: false; error: NetifError; requestIds: number[] };

export interface TxBatch {
  packets: TxPacket[];
  /** One response per consumed slot, in slot order (extra-info slots get NETIF_RSP_NULL). */
  responses: NetifTxResponse[];
  /** Slots consumed; a packet whose last slot has not arrived yet is left for the next call. */
  consumed: number;
}

export interface TxConsumeOptions {
  /** A chain this long that still has not ended can never end: refused whole. Default 256. */
  ringSize?: number;
}

type PageOf = (gref: number) => Uint8Array | undefined;

interface Chain {
  requests: NetifTxRequest[];
  extras: NetifExtraInfo[];
  /** Slot index (relative to the packet start) -> true for extra-info slots. */
  extraAt: Set<number>;
  length: number;
  error?: NetifError;
}

export function consumeTxSlots(raw: readonly Uint8Array[], pageOf: PageOf, opts: TxConsumeOptions = {}): TxBatch {
  const ringSize = opts.ringSize ?? NET_TX_RING_SIZE;
  const batch: TxBatch = { packets: [], responses: [], consumed: 0 };
  while (batch.consumed < raw.length) {
    const chain = readChain(raw, batch.consumed, ringSize);
    if (chain === undefined) break;
    const packet = chain.error ? refuse(chain, chain.error) : build(chain, pageOf);
    batch.packets.push(packet);
    let r = 0;
    for (let i = 0; i < chain.length; i++) {
      if (chain.extraAt.has(i)) {
        batch.responses.push({ id: chain.requests[Math.max(0, r - 1)].id, status: NETIF_RSP.NETIF_RSP_NULL });
      } else {
        const status = packet.ok ? NETIF_RSP.NETIF_RSP_OKAY : NETIF_RSP.NETIF_RSP_ERROR;
        batch.responses.push({ id: chain.requests[r++].id, status });
      }
    }
    batch.consumed += chain.length;
  }
  return batch;
}

/** The slots of the packet starting at `start`, or undefined when its last slot is not there yet. */
function readChain(raw: readonly Uint8Array[], start: number, ringSize: number): Chain | undefined {
  const chain: Chain = { requests: [], extras: [], extraAt: new Set(), length: 0 };
  const fail = (kind: 'EPROTO' | 'E2BIG', message: string): void => {
    chain.error ??= new NetifError(kind, message);
  };
  let i = start;
  const more = (): boolean => {
    if (i < raw.length) return true;
    if (i - start < ringSize) return false;
    fail('EPROTO', `tx packet at slot ${start} fills all ${ringSize} ring slots and never ends`);
    return false;
  };
  for (;;) {
    if (!more()) return chain.error ? finish(chain, i - start) : undefined;
    const bytes = raw[i++];
    // Slots reach us as byte arrays the frontend wrote: a short one is answered by whatever id it holds
    // (zero-padded) and ends its packet, refused.
    const short = bytes.length < NETIF_TX_SLOT_SIZE;
    const req = decodeTxRequest(short ? padded(bytes) : bytes);
    const first = chain.requests.length === 0;
    chain.requests.push(req);
    if (short) {
      fail('EPROTO', `tx slot ${i - 1} is ${bytes.length} bytes, a tx request is ${NETIF_TX_SLOT_SIZE}`);
      return finish(chain, i - start);
    }
    if (chain.requests.length === XEN_NETIF_NR_SLOTS_MIN + 1) {
      fail('E2BIG', `tx packet at slot ${start} uses more than ${XEN_NETIF_NR_SLOTS_MIN} request slots`);
    }
    if (req.flags & NETTXF.NETTXF_extra_info) {
      if (!first) fail('EPROTO', `tx request ${req.id} is a fragment flagged extra_info`);
      else {
        let moreExtras = true;
        while (moreExtras) {
          if (!more()) return chain.error ? finish(chain, i - start) : undefined;
          const bytes = raw[i];
          chain.extraAt.add(i - start);
          i++;
          moreExtras = bytes.length > 1 && (bytes[1] & XEN_NETIF_EXTRA_FLAG_MORE) !== 0;
          try {
            chain.extras.push(decodeExtraInfo(bytes));
          } catch (e) {
            fail('EPROTO', `tx request ${req.id}: ${(e as Error).message}`);
          }
        }
      }
    }
    if (!(req.flags & NETTXF.NETTXF_more_data)) return finish(chain, i - start);
  }
}

function padded(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(NETIF_TX_SLOT_SIZE);
  out.set(bytes);
  return out;
}

function finish(chain: Chain, length: number): Chain {
  chain.length = length;
  return chain;
}

function refuse(chain: Chain, error: NetifError): TxPacket {
  const requestIds = chain.requests.map((r) => r.id);
  const named = new NetifError(error.kind, `${error.message} (request ids ${requestIds.join(',')})`, requestIds);
  return { ok: false, error: named, requestIds };
}

function build(chain: Chain, pageOf: PageOf): TxPacket {
  const [first, ...frags] = chain.requests;
  const fragBytes = frags.reduce((sum, f) => sum + f.size, 0);
  if (fragBytes > first.size) {
    return refuse(
      chain,
      new NetifError('EPROTO', `tx request ${first.id} size ${first.size} < fragments' ${fragBytes}`),
    );
  }
  const own = [first.size - fragBytes, ...frags.map((f) => f.size)];
  if (own[0] < ETH_HLEN) {
    return refuse(chain, new NetifError('EPROTO', `tx request ${first.id} holds ${own[0]} bytes, under ETH_HLEN`));
  }
  const frame = Buffer.alloc(first.size);
  let at = 0;
  for (const [n, req] of chain.requests.entries()) {
    if (req.offset + own[n] > XEN_PAGE_SIZE) {
      const msg = `tx request ${req.id} offset ${req.offset} + size ${own[n]} crosses a page boundary`;
      return refuse(chain, new NetifError('EPROTO', msg));
    }
    const page = pageOf(req.gref);
    if (page === undefined || page.length < req.offset + own[n]) {
      return refuse(chain, new NetifError('EFAULT', `tx request ${req.id} gref ${req.gref} is not a granted page`));
    }
    frame.set(page.subarray(req.offset, req.offset + own[n]), at);
    at += own[n];
  }
  const flags = first.flags & (NETTXF.NETTXF_csum_blank | NETTXF.NETTXF_data_validated);
  return { ok: true, frame, flags, extras: chain.extras, requestIds: chain.requests.map((r) => r.id) };
}

// The vifs' netif rings over ring streams (libs/ringstream): netback serves the Ring service, and each
// queue of a connected vif gets two streams, told apart by the ring-ref in their Hello: `tx-ring-ref`
// (guest -> bridge) and `rx-ring-ref` (bridge -> guest). A stream is accepted only for a vif on its
// bridge, from its frontend-id, naming a ring-ref that frontend wrote (the proof of identity is checked by
// the ring service before). The Hello's `queue` is the ring's index in the device, 2q for queue q's tx
// ring and 2q+1 for its rx ring (netifRingIndex). libs/ringstream now keys a stream by its ring-ref too,
// so the index is no longer what keeps a queue's two rings apart; it stays as a cross-check that a
// ring-ref is dialed as the ring it was written for.
//
// tx: each entry is one packet's slots; consumeTxSlots rebuilds the frame from the granted bytes (up to
// 18 request slots; a malformed packet is answered NETIF_RSP_ERROR on each of its slots), and the slots
// are answered once the bridge took the frame (after any rate= wait: the guest's backpressure). A frame
// whose payload exceeds the vif's `mtu` (a GSO super-frame, or a frontend ignoring `mtu`) is dropped and
// counted (`oversizeDropped`) and answered OKAY, as for frames the bridge drops: netback does not segment.
// rx: each entry is a buffer the guest posted; a frame for the guest is copied into posted buffers
// (RxBufferQueue) and answered in order; with too few buffers it is dropped and counted, never queued.
import { XEN_PAGE_SIZE, type DomId } from '@dominion/abi';
import {
  ETH_HLEN,
  NET_RX_RING_SIZE,
  NET_TX_RING_SIZE,
  NETIF_RSP,
  RxBufferQueue,
  consumeTxSlots,
  decodeTxRequest,
  type NetifRxRequest,
  type NetifRxResponse,
} from '@dominion/netif';
import type { BackRequest } from '@dominion/ring';
import {
  createRingService,
  type RingAccept,
  type RingReply,
  type RingService,
  type RingStreamHello,
  type RingStreamLog,
} from '@dominion/ringstream';
import type { PortInputResult } from './bridge-port.js';
import { NetbackError } from './errors.js';
import type { NetbackLogger } from './logger.js';
import {
  netifRxRingCodec,
  netifRingIndex,
  netifTxRingCodec,
  type NetifTxEntry,
  type NetifTxEntryResponse,
} from '@dominion/netif';
import type { VifConnection } from './vif-backends.js';

export interface VifRingCounters {
  /** Packets the guest sent that reached the bridge (or its rate wait). */
  txPackets: number;
  /** Packets refused by netif's rules (each slot answered NETIF_RSP_ERROR). */
  txErrors: number;
  /** Frames over the vif's mtu, dropped (netback does not segment GSO frames). */
  oversizeDropped: number;
  /** Frames for the guest delivered into its rx buffers. */
  rxPackets: number;
  /** Frames for the guest dropped: no rx stream, or too few buffers posted. */
  rxNoBuffer: number;
}

export interface VifRingsOptions {
  /** This driver domain. */
  backend: DomId;
  /** The frontend domain's public key as the hypervisor vouches for it (getdomainkey). */
  keyOf(domid: DomId): string | undefined | Promise<string | undefined>;
  logger?: NetbackLogger;
  log?: RingStreamLog;
}

interface RxSide {
  queue: RxBufferQueue;
  /** Posted buffers by request id: how to answer each once a frame fills it. */
  waiting: Map<number, (reply: RingReply<NetifRxResponse>) => void>;
}

interface Bound {
  c: VifConnection;
  rx: Array<RxSide | undefined>;
  counters: VifRingCounters;
}

type AnyAccept = RingAccept<unknown, unknown>;

export class VifRings {
  readonly service: RingService;
  private readonly bound = new Map<string, Bound>();

  constructor(private readonly opts: VifRingsOptions) {
    this.service = createRingService<unknown, unknown>({
      backend: opts.backend,
      keyOf: (d) => opts.keyOf(d),
      authorize: (h) => this.authorize(h),
      log: opts.log,
    });
  }

  /** onConnect: the vif is on its bridge; its rings may now be dialed. */
  attach(c: VifConnection): void {
    const b: Bound = {
      c,
      rx: [],
      counters: { txPackets: 0, txErrors: 0, oversizeDropped: 0, rxPackets: 0, rxNoBuffer: 0 },
    };
    this.bound.set(c.device.backendPath, b);
    c.vif.bind({ toGuest: (frame) => this.toGuest(b, frame) });
  }

  /** onDisconnect: the vif left its bridge; its streams end. */
  detach(c: VifConnection, why: string): void {
    const b = this.bound.get(c.device.backendPath);
    if (b?.c !== c) return;
    this.bound.delete(c.device.backendPath);
    c.vif.unbind();
    this.service.detach({ device: c.device.backendPath }, why);
  }

  /** The ring counters of the vif of `backendPath`, if bound. */
  counters(backendPath: string): VifRingCounters | undefined {
    return this.bound.get(backendPath)?.counters;
  }

  /** Rx buffers the guest has posted and netback has not filled yet, over the vif's queues. */
  rxPosted(backendPath: string): number {
    return (this.bound.get(backendPath)?.rx ?? []).reduce((n, s) => n + (s?.queue.available ?? 0), 0);
  }

  private authorize(h: RingStreamHello): AnyAccept {
    const b = this.bound.get(h.device);
    if (!b) throw new NetbackError('EAGAIN', `${h.device}: no vif connected there (yet)`);
    const { device, frontend } = b.c;
    if (h.frontendDomid !== device.frontendDomid)
      throw new NetbackError('EACCES', `${h.device}: frontend-id is ${device.frontendDomid}, not ${h.frontendDomid}`);
    const queue = Math.floor(h.queue / 2);
    const q = frontend.transport.queues[queue];
    if (!q)
      throw new NetbackError('EACCES', `${h.device}: queue ${queue} of ${frontend.transport.queues.length} queues`);
    const tx = q.ringRefs['tx-ring-ref']?.[0];
    const rx = q.ringRefs['rx-ring-ref']?.[0];
    const label = `${b.c.vif.name} queue-${queue}`;
    if (h.ringRef === tx && h.queue === netifRingIndex(queue, 'tx')) return this.txAccept(b, `${label} tx`);
    if (h.ringRef === rx && h.queue === netifRingIndex(queue, 'rx')) return this.rxAccept(b, queue, `${label} rx`);
    throw new NetbackError(
      'EACCES',
      `${q.dir}: ring ${h.queue} with ring-ref ${h.ringRef} is neither tx-ring-ref ${tx} (ring ${netifRingIndex(queue, 'tx')}) nor rx-ring-ref ${rx} (ring ${netifRingIndex(queue, 'rx')})`,
    );
  }

  private txAccept(b: Bound, label: string): AnyAccept {
    const accept: RingAccept<NetifTxEntry, NetifTxEntryResponse> = {
      size: NET_TX_RING_SIZE,
      codec: netifTxRingCodec,
      label,
      handle: (r) => this.transmit(b, r),
    };
    return accept;
  }

  /**
   * A frame the bridge dropped for spoofing (ip=/mac=): logged with the port's count at the 1st, 2nd,
   * 4th, ... drop, so an operator sees it (the counter itself is the port's `drops`) without a line per frame.
   */
  private noteDrop(b: Bound, res: PortInputResult): void {
    if (res.verdict !== 'dropped' || (res.reason !== 'spoofed-ip' && res.reason !== 'spoofed-mac')) return;
    const n = b.c.vif.counters().drops[res.reason];
    if ((n & (n - 1)) !== 0) return;
    this.opts.logger?.('warn', `${b.c.vif.name}: frame from the guest dropped: ${res.reason} (${n} so far)`, {
      backend: b.c.device.backendPath,
      drops: b.c.vif.counters().drops,
    });
  }

  /** One tx entry: its packets to the bridge in ring order, then the answer to every slot. */
  private async transmit(b: Bound, r: BackRequest<NetifTxEntry>): Promise<RingReply<NetifTxEntryResponse>> {
    const slots = r.req.slots;
    const batch = consumeTxSlots(slots, (gref) => pageOf(r, gref));
    const responses = batch.responses;
    // A packet whose last slot never came (more_data on the entry's last request) is refused.
    if (batch.consumed < slots.length) b.counters.txErrors++;
    for (let i = batch.consumed; i < slots.length; i++)
      responses.push({ id: decodeTxRequest(slots[i]).id, status: NETIF_RSP.NETIF_RSP_ERROR });
    const sent: Array<Promise<unknown>> = [];
    for (const p of batch.packets) {
      if (!p.ok) {
        b.counters.txErrors++;
        this.opts.logger?.('debug', `${b.c.vif.name}: tx packet refused: ${p.error.message}`);
      } else if (p.frame.length - ETH_HLEN > b.c.mtu) {
        b.counters.oversizeDropped++;
      } else {
        b.counters.txPackets++;
        // Handed over now, so the port sees the packets in ring order; answered when it took them.
        sent.push(b.c.vif.fromGuest(p.frame).then((res) => this.noteDrop(b, res)));
      }
    }
    await Promise.all(sent);
    return { rsp: { id: r.req.id, responses } };
  }

  private rxAccept(b: Bound, queue: number, label: string): AnyAccept {
    const side: RxSide = { queue: new RxBufferQueue(), waiting: new Map() };
    // A newer stream for the queue supersedes the old one: its buffers are the ones posted now.
    b.rx[queue] = side;
    const accept: RingAccept<NetifRxRequest, NetifRxResponse> = {
      size: NET_RX_RING_SIZE,
      codec: netifRxRingCodec,
      label,
      handle: (r) =>
        new Promise<RingReply<NetifRxResponse>>((resolve) => {
          side.waiting.set(r.req.id, resolve);
          side.queue.post(r.req);
        }),
      closed: () => {
        if (b.rx[queue] === side) b.rx[queue] = undefined;
      },
    };
    return accept;
  }

  /** A frame from the bridge for the guest: into the first queue with enough buffers posted. */
  private toGuest(b: Bound, frame: Uint8Array): boolean {
    const need = Math.ceil(frame.length / XEN_PAGE_SIZE);
    const side = b.rx.find((s) => s !== undefined && s.queue.available >= need);
    const delivery = side?.queue.deliver(frame);
    if (!side || !delivery) {
      b.counters.rxNoBuffer++;
      return false;
    }
    let k = 0;
    for (const { request, slot } of delivery.slots) {
      if (slot.kind !== 'response') continue;
      const copy = delivery.copies[k++];
      const answer = side.waiting.get(request.id);
      side.waiting.delete(request.id);
      answer?.({ rsp: slot.response, copies: [{ ref: copy.gref, offset: copy.offset, data: copy.bytes }] });
    }
    b.counters.rxPackets++;
    return true;
  }
}

/**
 * The page of grant `gref` up to the last byte the frontend sent with this request: a slot reaching past
 * it is refused EFAULT by consumeTxSlots instead of reading zeros.
 */
function pageOf(r: BackRequest<NetifTxEntry>, gref: number): Uint8Array | undefined {
  const mine = r.copies.filter((c) => c.ref === gref);
  if (mine.length === 0) return undefined;
  const end = Math.max(...mine.map((c) => c.offset + c.data.length));
  const page = new Uint8Array(end);
  for (const c of mine) page.set(c.data, c.offset);
  return page;
}

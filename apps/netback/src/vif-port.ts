// A vif on a bridge, as seen from the net driver domain. The bridge side is a BridgePort; the guest side
// is a VifGuestLink that the netif rings provide once bound (libs/ringstream, later): the tx ring feeds
// fromGuest(), the rx ring implements toGuest(). Until a link is bound, and whenever the guest has no
// free rx buffer, a frame for the guest is dropped and counted (txDropped), never queued.
import type { PortConfig } from '@dominion/switch';
import type { BridgeLink, BridgePort, BridgePortCounters, PortInputResult } from './bridge-port.js';
import type { Bridge } from './bridge.js';

/** The guest end of a vif: what its rx ring does with a frame for the guest. */
export interface VifGuestLink {
  /**
   * Copies the frame into the guest's posted rx buffers (netif's RxBufferQueue.deliver) and notifies it;
   * false when too few buffers were posted: the frame is then dropped and counted on the vif.
   */
  toGuest(frame: Uint8Array): boolean;
}

export interface VifIdentity {
  /** The frontend domain. */
  domid: number;
  devid: number;
}

/** `vif<domid>.<devid>`, the name Linux gives a vif's netdev (xl's vifname default). */
export function vifName(id: VifIdentity): string {
  return `vif${id.domid}.${id.devid}`;
}

export class VifPort implements BridgeLink {
  readonly port: BridgePort;
  private guest: VifGuestLink | undefined;

  /** Plugs a vif into `bridge`; EEXIST for its name or MAC already there. */
  constructor(
    bridge: Bridge,
    readonly id: VifIdentity,
    cfg: PortConfig,
  ) {
    this.port = bridge.attach(cfg, 'vif', this);
  }

  get name(): string {
    return this.port.name;
  }

  get bridge(): string {
    return this.port.bridge;
  }

  get bound(): boolean {
    return this.guest !== undefined;
  }

  /** Connects the guest side (the rings are up). */
  bind(link: VifGuestLink): void {
    this.guest = link;
  }

  /** Disconnects the guest side; frames for the guest are dropped and counted from now on. */
  unbind(): void {
    this.guest = undefined;
  }

  /**
   * A frame the guest transmitted (an assembled tx packet). Resolves once the bridge took or refused it,
   * after any wait for `rate=` credit: the tx ring answers the request's slots then, which is the
   * backpressure Xen's credit scheduler puts on a guest.
   */
  fromGuest(frame: Uint8Array): Promise<PortInputResult> {
    return this.port.input(frame);
  }

  /** BridgeLink: a frame from the bridge for the guest. */
  transmit(frame: Uint8Array): boolean {
    return this.guest?.toGuest(frame) ?? false;
  }

  counters(): BridgePortCounters {
    return this.port.counters();
  }

  /** Takes the vif off its bridge. */
  unplug(): void {
    this.guest = undefined;
    this.port.detach();
  }
}

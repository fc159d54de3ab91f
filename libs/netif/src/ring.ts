// Slot sizes of the two netif rings and their entry counts, computed as io/ring.h does.
import { ringSize } from '@dominion/ring';

/** union netif_tx_sring_entry: the 12-byte request is larger than the 4-byte response. */
export const NETIF_TX_SLOT_SIZE = 12;
/** union netif_rx_sring_entry: request and response are both 8 bytes. */
export const NETIF_RX_SLOT_SIZE = 8;
/** struct netif_extra_info: type, flags and a 6-byte union. */
export const NETIF_EXTRA_INFO_SIZE = 8;

/** Slots of a tx ring of `pages` pages (256 for one page). */
export function netTxRingSize(pages = 1): number {
  return ringSize(pages, NETIF_TX_SLOT_SIZE);
}

/** Slots of an rx ring of `pages` pages (256 for one page). */
export function netRxRingSize(pages = 1): number {
  return ringSize(pages, NETIF_RX_SLOT_SIZE);
}

export const NET_TX_RING_SIZE = netTxRingSize(1);
export const NET_RX_RING_SIZE = netRxRingSize(1);

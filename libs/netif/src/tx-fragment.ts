// Frontend side of tx: a frame copied into granted pages and described by tx slots as netfront does.
// The first request's size is the whole packet; each later fragment carries its own size; no slot spans
// a page. A GSO extra-info slot follows the first request when asked for.
import { XEN_PAGE_SIZE } from '@dominion/abi';
import { ETH_HLEN, NETTXF, XEN_NETIF_MAX_TX_SIZE, XEN_NETIF_NR_SLOTS_MIN, type NetifGsoType } from './constants.js';
import { NetifError } from './errors.js';
import type { NetifTxSlot } from './tx-slot.js';

export interface TxFragmentOptions {
  /** Where the frame starts in the first page (headroom); the first slot must still hold ETH_HLEN bytes. */
  offset?: number;
  /** NETTXF_csum_blank / NETTXF_data_validated for the packet (set on its first request). */
  flags?: number;
  gso?: { size: number; gsoType: NetifGsoType; features?: number };
  /** The id and granted page of the n-th request slot (n from 0). */
  slot: (n: number) => { id: number; gref: number };
}

export interface TxFragments {
  slots: NetifTxSlot[];
  /** gref -> the 4 KiB page the frontend granted, holding its fragment at the slot's offset. */
  pages: Map<number, Uint8Array>;
}

export function fragmentTxFrame(frame: Uint8Array, opts: TxFragmentOptions): TxFragments {
  const offset = opts.offset ?? 0;
  if (frame.length < ETH_HLEN || frame.length > XEN_NETIF_MAX_TX_SIZE) {
    throw new NetifError(
      'EINVAL',
      `tx frame of ${frame.length} bytes is outside ${ETH_HLEN}..${XEN_NETIF_MAX_TX_SIZE}`,
    );
  }
  if (!Number.isInteger(offset) || offset < 0 || offset > XEN_PAGE_SIZE - ETH_HLEN) {
    throw new NetifError('EINVAL', `tx offset ${offset} leaves no room for an Ethernet header in the first page`);
  }
  const userFlags = opts.flags ?? 0;
  if ((userFlags & ~(NETTXF.NETTXF_csum_blank | NETTXF.NETTXF_data_validated)) !== 0) {
    throw new NetifError(
      'EINVAL',
      `tx flags 0x${userFlags.toString(16)}: only csum_blank and data_validated are the caller's`,
    );
  }
  const lengths = [Math.min(frame.length, XEN_PAGE_SIZE - offset)];
  for (let done = lengths[0]; done < frame.length; done += lengths[lengths.length - 1]) {
    lengths.push(Math.min(frame.length - done, XEN_PAGE_SIZE));
  }
  if (lengths.length > XEN_NETIF_NR_SLOTS_MIN) {
    throw new NetifError(
      'E2BIG',
      `tx frame of ${frame.length} bytes needs ${lengths.length} slots, over ${XEN_NETIF_NR_SLOTS_MIN}`,
    );
  }
  const slots: NetifTxSlot[] = [];
  const pages = new Map<number, Uint8Array>();
  let at = 0;
  lengths.forEach((len, n) => {
    const { id, gref } = opts.slot(n);
    if (pages.has(gref)) throw new NetifError('EINVAL', `tx slot ${n} reuses gref ${gref} of this packet`);
    const first = n === 0;
    const slotOffset = first ? offset : 0;
    const page = new Uint8Array(XEN_PAGE_SIZE);
    page.set(frame.subarray(at, at + len), slotOffset);
    pages.set(gref, page);
    at += len;
    let flags = first ? userFlags : 0;
    if (n < lengths.length - 1) flags |= NETTXF.NETTXF_more_data;
    if (first && opts.gso) flags |= NETTXF.NETTXF_extra_info;
    slots.push({ kind: 'request', request: { gref, offset: slotOffset, flags, id, size: first ? frame.length : len } });
    if (first && opts.gso) {
      const { size, gsoType, features = 0 } = opts.gso;
      slots.push({ kind: 'extra', extra: { type: 'gso', more: false, size, gsoType, features } });
    }
  });
  return { slots, pages };
}

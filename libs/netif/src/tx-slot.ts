// A tx ring slot holds either a request or the extra-info that follows a request flagged extra_info.
import { encodeExtraInfo, type NetifExtraInfo } from './extra.js';
import { NETIF_TX_SLOT_SIZE } from './ring.js';
import { encodeTxRequest, type NetifTxRequest } from './tx.js';

export type NetifTxSlot = { kind: 'request'; request: NetifTxRequest } | { kind: 'extra'; extra: NetifExtraInfo };

export function encodeTxSlot(slot: NetifTxSlot): Buffer {
  return slot.kind === 'request' ? encodeTxRequest(slot.request) : encodeExtraInfo(slot.extra, NETIF_TX_SLOT_SIZE);
}

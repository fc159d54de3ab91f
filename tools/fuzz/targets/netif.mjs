// Ring slots a netfront writes: each decoder alone, then a run of tx slots consumed as netback does
// (consumeTxSlots must report a bad packet as a value, never throw), against a few granted pages.
import {
  NETIF_TX_SLOT_SIZE,
  NetifError,
  consumeTxSlots,
  decodeExtraInfo,
  decodeRxRequest,
  decodeRxResponse,
  decodeTxRequest,
  decodeTxResponse,
} from '@dominion/netif';
import { bound, expectOwn } from './own-error.mjs';

const PAGE = 4096;
const pages = [0, 1, 2, 3].map((i) => Buffer.alloc(PAGE, i));

export function fuzz(data) {
  for (const decode of [decodeTxRequest, decodeTxResponse, decodeRxRequest, decodeRxResponse, decodeExtraInfo]) {
    expectOwn(NetifError, () => decode(data));
  }
  const slots = [];
  for (let i = 0; i + NETIF_TX_SLOT_SIZE <= data.length; i += NETIF_TX_SLOT_SIZE) {
    slots.push(data.subarray(i, i + NETIF_TX_SLOT_SIZE));
  }
  const ringSize = data.length > 0 && data[0] & 1 ? 256 : 32;
  const batch = consumeTxSlots(slots, (gref) => pages[gref], { ringSize });
  bound(batch.consumed <= slots.length, `consumed ${batch.consumed} of ${slots.length} slots`);
  bound(batch.responses.length === batch.consumed, `${batch.responses.length} responses for ${batch.consumed} slots`);
  for (const p of batch.packets) {
    if (p.ok) bound(p.frame.length <= 65535 + 14, `frame of ${p.frame.length} bytes`);
    else bound(p.error instanceof NetifError, 'a refused packet carries a NetifError');
  }
}

import { hex } from '@dominion/testing';
import { NETIF_RSP, netifRingIndex, netifRxRingCodec, netifTxRingCodec } from '../src/index.js';

describe('netif entries on a ring stream', () => {
  // Two netif_tx_request slots of one packet (gref u32 @0, offset u16 @4, flags u16 @6, id u16 @8, size u16 @10).
  const slot0 = hex`08000000 0000 0400 0700 dc05`; // gref 8, NETTXF_more_data, id 7, size 1500
  const slot1 = hex`09000000 0000 0000 0800 2c01`; // gref 9, id 8, size 300

  it('a tx entry is the packet’s slots as the frontend wrote them; its id is the first request’s', () => {
    const entry = netifTxRingCodec.decodeRequest(Buffer.concat([slot0, slot1]));
    expect(entry.id).toBe(7);
    expect(entry.slots.map((s) => Buffer.from(s).toString('hex'))).toEqual(
      [slot0, slot1].map((s) => s.toString('hex')),
    );
    expect(Buffer.from(netifTxRingCodec.encodeRequest(entry)).equals(Buffer.concat([slot0, slot1]))).toBe(true);
  });

  it('refuses bytes that are not whole 12-byte slots', () => {
    expect(() => netifTxRingCodec.decodeRequest(new Uint8Array(13))).toThrow(/not whole 12-byte slots/);
    expect(() => netifTxRingCodec.decodeResponse(new Uint8Array(0))).toThrow(/not whole 12-byte slots/);
  });

  it('answers a tx entry with one netif_tx_response per slot (id u16 @0, status s16 @2)', () => {
    const bytes = netifTxRingCodec.encodeResponse({
      id: 7,
      responses: [
        { id: 7, status: NETIF_RSP.NETIF_RSP_OKAY },
        { id: 8, status: NETIF_RSP.NETIF_RSP_ERROR },
      ],
    });
    expect(Buffer.from(bytes).subarray(0, 4).toString('hex')).toBe('07000000');
    expect(Buffer.from(bytes).subarray(12, 16).toString('hex')).toBe('0800ffff');
    expect(netifTxRingCodec.decodeResponse(bytes).id).toBe(7);
  });

  it('rx entries are single 8-byte requests; tx and rx rings of a queue are distinct stream indices', () => {
    const req = hex`0300 0000 2a000000`; // id 3, gref 42
    expect(netifRxRingCodec.decodeRequest(req)).toMatchObject({ id: 3, gref: 42 });
    expect([netifRingIndex(0, 'tx'), netifRingIndex(0, 'rx'), netifRingIndex(1, 'tx')]).toEqual([0, 1, 2]);
  });
});

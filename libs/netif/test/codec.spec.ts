// Golden bytes typed by hand from io/netif.h's x86 layouts (xen-facts §3), never produced by the codecs.
// All fields little-endian.
import { hex } from '@dominion/testing';
import {
  NETIF_RSP,
  NETRXF,
  NETTXF,
  NET_RX_RING_SIZE,
  NET_TX_RING_SIZE,
  NetifError,
  XEN_NETIF_GSO_TYPE,
  decodeExtraInfo,
  decodeRxRequest,
  decodeRxResponse,
  decodeTxRequest,
  decodeTxResponse,
  encodeExtraInfo,
  encodeRxRequest,
  encodeRxResponse,
  encodeTxRequest,
  encodeTxResponse,
  netRxRingSize,
  netTxRingSize,
  type NetifExtraInfo,
} from '../src/index.js';

describe('ring sizes', () => {
  it('fits 256 tx and 256 rx slots in one page, 512 in two', () => {
    expect([NET_TX_RING_SIZE, NET_RX_RING_SIZE]).toEqual([256, 256]);
    expect([netTxRingSize(2), netRxRingSize(2)]).toEqual([512, 512]);
  });
});

describe('flags', () => {
  it('has the header bit positions', () => {
    expect(NETTXF).toEqual({
      NETTXF_csum_blank: 1,
      NETTXF_data_validated: 2,
      NETTXF_more_data: 4,
      NETTXF_extra_info: 8,
    });
    expect(NETRXF).toEqual({
      NETRXF_data_validated: 1,
      NETRXF_csum_blank: 2,
      NETRXF_more_data: 4,
      NETRXF_extra_info: 8,
      NETRXF_gso_prefix: 16,
    });
  });
});

describe('netif_tx_request', () => {
  const req = {
    gref: 0x0a0b0c0d,
    offset: 0x0102,
    flags: NETTXF.NETTXF_more_data | NETTXF.NETTXF_extra_info,
    id: 7,
    size: 1514,
  };
  const golden = hex`
    0d0c0b0a  # gref    @0   0x0a0b0c0d
    0201      # offset  @4   0x0102
    0c00      # flags   @6   more_data (bit 2) | extra_info (bit 3)
    0700      # id      @8   7
    ea05      # size    @10  1514 = 0x5ea
  `;
  it('encodes and decodes the 12-byte layout', () => {
    expect(encodeTxRequest(req)).toEqual(golden);
    expect(decodeTxRequest(golden)).toEqual(req);
  });
  it('refuses a size that does not fit u16 beside one that does', () => {
    expect(() => encodeTxRequest({ ...req, size: 0x10000 })).toThrow(NetifError);
    expect(encodeTxRequest({ ...req, size: 0xffff }).readUInt16LE(10)).toBe(0xffff);
  });
  it('refuses a short slot', () => {
    expect(() => decodeTxRequest(golden.subarray(0, 11))).toThrow(/tx request: 11 bytes, need 12/);
  });
});

describe('netif_tx_response', () => {
  const golden = hex`
    0700      # id      @0   7
    ffff      # status  @2   -1 NETIF_RSP_ERROR
    0000000000000000  # rest of the 12-byte slot, unused
  `;
  it('encodes and decodes', () => {
    expect(encodeTxResponse({ id: 7, status: NETIF_RSP.NETIF_RSP_ERROR })).toEqual(golden);
    expect(decodeTxResponse(golden)).toEqual({ id: 7, status: -1 });
    expect(decodeTxResponse(hex`0900 0100 0000000000000000 # id 9, NETIF_RSP_NULL`)).toEqual({ id: 9, status: 1 });
  });
});

describe('netif_rx_request', () => {
  const golden = hex`
    0201      # id    @0  0x0102
    0000      # pad   @2
    34120000  # gref  @4  0x1234
  `;
  it('encodes and decodes', () => {
    expect(encodeRxRequest({ id: 0x0102, gref: 0x1234 })).toEqual(golden);
    expect(decodeRxRequest(golden)).toEqual({ id: 0x0102, gref: 0x1234 });
  });
});

describe('netif_rx_response', () => {
  const golden = hex`
    0300      # id      @0  3
    0e00      # offset  @2  14
    0500      # flags   @4  data_validated (bit 0) | more_data (bit 2)
    0010      # status  @6  4096 bytes
  `;
  const rsp = { id: 3, offset: 14, flags: NETRXF.NETRXF_data_validated | NETRXF.NETRXF_more_data, status: 4096 };
  it('encodes and decodes', () => {
    expect(encodeRxResponse(rsp)).toEqual(golden);
    expect(decodeRxResponse(golden)).toEqual(rsp);
  });
  it('carries a negative status', () => {
    const dropped = hex`0300 0000 0000 feff  # id 3, offset 0, flags 0, status -2 NETIF_RSP_DROPPED`;
    expect(encodeRxResponse({ id: 3, offset: 0, flags: 0, status: NETIF_RSP.NETIF_RSP_DROPPED })).toEqual(dropped);
    expect(decodeRxResponse(dropped).status).toBe(-2);
  });
});

describe('netif_extra_info', () => {
  const gso: NetifExtraInfo = {
    type: 'gso',
    more: false,
    size: 1448,
    gsoType: XEN_NETIF_GSO_TYPE.XEN_NETIF_GSO_TYPE_TCPV4,
    features: 0,
  };
  const gsoGolden = hex`
    01    # type      @0  XEN_NETIF_EXTRA_TYPE_GSO
    00    # flags     @1
    a805  # gso.size  @2  1448 (MSS)
    01    # gso.type  @4  XEN_NETIF_GSO_TYPE_TCPV4
    00    # gso.pad   @5
    0000  # gso.features @6
  `;
  it('encodes GSO in an 8-byte rx slot and a 12-byte tx slot', () => {
    expect(encodeExtraInfo(gso)).toEqual(gsoGolden);
    expect(encodeExtraInfo(gso, 12)).toEqual(hex`01 00 a805 01 00 0000  00000000 # tx slot tail unused`);
    expect(decodeExtraInfo(gsoGolden)).toEqual(gso);
  });
  it('encodes MCAST_ADD with the MORE flag', () => {
    const golden = hex`
      02            # type  @0  XEN_NETIF_EXTRA_TYPE_MCAST_ADD
      01            # flags @1  XEN_NETIF_EXTRA_FLAG_MORE
      01005e000001  # mcast.addr @2  01:00:5e:00:00:01
    `;
    const mcast: NetifExtraInfo = { type: 'mcast-add', more: true, addr: Uint8Array.from([1, 0, 0x5e, 0, 0, 1]) };
    expect(encodeExtraInfo(mcast)).toEqual(golden);
    expect(decodeExtraInfo(golden)).toEqual(mcast);
  });
  it('encodes HASH', () => {
    const golden = hex`04 00  02  01  deadbeef  # type HASH, flags, hash.type @2, hash.algorithm @3, value @4`;
    const h: NetifExtraInfo = {
      type: 'hash',
      more: false,
      hashType: 2,
      algorithm: 1,
      value: Uint8Array.from([0xde, 0xad, 0xbe, 0xef]),
    };
    expect(encodeExtraInfo(h)).toEqual(golden);
    expect(decodeExtraInfo(golden)).toEqual(h);
  });
  it('refuses type NONE beside a GSO extra decoding', () => {
    expect(() => decodeExtraInfo(hex`00 00 0000 00 00 0000 # XEN_NETIF_EXTRA_TYPE_NONE`)).toThrow(/extra info type 0/);
    expect(decodeExtraInfo(gsoGolden).type).toBe('gso');
  });
});

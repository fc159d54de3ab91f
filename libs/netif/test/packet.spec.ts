// Fragmenting a frame into tx slots and rebuilding it from raw slots and granted pages, as netfront and
// netback do; and filling posted rx buffers. Slots travel as the encoded 12-byte ring entries.
import {
  NETIF_RSP,
  NETRXF,
  NETTXF,
  RxBufferQueue,
  XEN_NETIF_GSO_TYPE,
  consumeTxSlots,
  encodeTxRequest,
  encodeTxSlot,
  fragmentTxFrame,
  reassembleRx,
  type NetifRxResponse,
  type NetifTxRequest,
} from '../src/index.js';

const frameOf = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
const ids = (n: number) => ({ id: 100 + n, gref: 1000 + n });
const OK = NETIF_RSP.NETIF_RSP_OKAY;
const ERR = NETIF_RSP.NETIF_RSP_ERROR;

function roundTrip(frame: Buffer, opts: Omit<Parameters<typeof fragmentTxFrame>[1], 'slot'> = {}) {
  const { slots, pages } = fragmentTxFrame(frame, { ...opts, slot: ids });
  const batch = consumeTxSlots(slots.map(encodeTxSlot), (g) => pages.get(g));
  return { slots, batch };
}

/** Raw request slots built by hand, bypassing the fragmenter's own checks. */
function rawChain(reqs: NetifTxRequest[]): { raw: Buffer[]; pages: Map<number, Uint8Array> } {
  const pages = new Map<number, Uint8Array>(reqs.map((r) => [r.gref, new Uint8Array(4096).fill(r.id & 0xff)]));
  return { raw: reqs.map(encodeTxRequest), pages };
}
function chainOf(count: number, fragSize: number, firstId: number): NetifTxRequest[] {
  return Array.from({ length: count }, (_, n) => ({
    gref: 2000 + firstId + n,
    offset: 0,
    flags: n < count - 1 ? NETTXF.NETTXF_more_data : 0,
    id: firstId + n,
    size: n === 0 ? count * fragSize : fragSize,
  }));
}

describe('tx fragment and reassembly', () => {
  it('carries a small frame in one slot', () => {
    const frame = frameOf(60);
    const { slots, batch } = roundTrip(frame, { flags: NETTXF.NETTXF_csum_blank });
    expect(slots).toEqual([
      { kind: 'request', request: { gref: 1000, offset: 0, flags: NETTXF.NETTXF_csum_blank, id: 100, size: 60 } },
    ]);
    expect(batch.consumed).toBe(1);
    expect(batch.responses).toEqual([{ id: 100, status: OK }]);
    expect(batch.packets).toEqual([
      { ok: true, frame, flags: NETTXF.NETTXF_csum_blank, extras: [], requestIds: [100] },
    ]);
  });

  it('splits at the page boundary: first size is the total, later fragments their own', () => {
    const frame = frameOf(5000);
    const { slots, batch } = roundTrip(frame, { offset: 100 });
    expect(slots.map((s) => (s.kind === 'request' ? [s.request.offset, s.request.size, s.request.flags] : s))).toEqual([
      [100, 5000, NETTXF.NETTXF_more_data],
      [0, 5000 - 3996, 0],
    ]);
    expect(batch.packets[0]).toMatchObject({ ok: true, frame });
    expect(batch.responses).toEqual([
      { id: 100, status: OK },
      { id: 101, status: OK },
    ]);
  });

  it('round-trips a 64 KiB GSO frame over 17 slots plus an extra-info slot', () => {
    const frame = frameOf(0xffff);
    const gso = { size: 1448, gsoType: XEN_NETIF_GSO_TYPE.XEN_NETIF_GSO_TYPE_TCPV4 };
    const { slots, batch } = roundTrip(frame, { offset: 4000, gso });
    expect(slots).toHaveLength(18);
    expect(slots[0]).toMatchObject({ request: { flags: NETTXF.NETTXF_more_data | NETTXF.NETTXF_extra_info } });
    expect(slots[1]).toEqual({
      kind: 'extra',
      extra: { type: 'gso', more: false, size: 1448, gsoType: 1, features: 0 },
    });
    const pkt = batch.packets[0];
    expect(pkt.ok && pkt.frame.equals(frame)).toBe(true);
    expect(pkt.ok && pkt.extras).toEqual([{ type: 'gso', more: false, size: 1448, gsoType: 1, features: 0 }]);
    expect(batch.responses[1]).toEqual({ id: 100, status: NETIF_RSP.NETIF_RSP_NULL });
    expect(batch.responses.filter((r) => r.status === OK)).toHaveLength(17);
  });

  it('accepts a packet of exactly 18 request slots and refuses 19 alone', () => {
    const good = rawChain(chainOf(18, 100, 0));
    const big = rawChain(chainOf(19, 100, 100));
    const after = rawChain(chainOf(1, 60, 300));
    const pages = new Map([...good.pages, ...big.pages, ...after.pages]);
    const batch = consumeTxSlots([...good.raw, ...big.raw, ...after.raw], (g) => pages.get(g));
    expect(batch.consumed).toBe(38);
    expect(batch.packets.map((p) => p.ok)).toEqual([true, false, true]);
    const [ok18, refused] = batch.packets;
    expect(ok18.ok && ok18.frame.length).toBe(1800);
    expect(!refused.ok && refused.error.kind).toBe('E2BIG');
    expect(!refused.ok && refused.error.requestIds).toEqual(Array.from({ length: 19 }, (_, i) => 100 + i));
    expect(batch.responses.slice(0, 18).every((r) => r.status === OK)).toBe(true);
    expect(batch.responses.slice(18, 37).every((r) => r.status === ERR)).toBe(true);
    expect(batch.responses[37]).toEqual({ id: 300, status: OK });
  });

  it('refuses a first size smaller than its fragments, beside a well-formed packet', () => {
    const bad = chainOf(2, 100, 10);
    bad[0].size = 150;
    bad[1].size = 200;
    const good = chainOf(2, 100, 20);
    const { raw, pages } = rawChain([...bad, ...good]);
    const batch = consumeTxSlots(raw, (g) => pages.get(g));
    const [refused, ok] = batch.packets;
    expect(!refused.ok && refused.error.kind).toBe('EPROTO');
    expect(!refused.ok && refused.error.message).toMatch(/size 150 < fragments' 200 \(request ids 10,11\)/);
    expect(ok.ok).toBe(true);
    expect(batch.responses.map((r) => r.status)).toEqual([ERR, ERR, OK, OK]);
  });

  it('refuses a slot crossing a page, beside one ending exactly at the page end', () => {
    const crossing = { gref: 1, offset: 4000, flags: 0, id: 1, size: 97 };
    const fits = { gref: 2, offset: 4000, flags: 0, id: 2, size: 96 };
    const { raw, pages } = rawChain([crossing, fits]);
    const batch = consumeTxSlots(raw, (g) => pages.get(g));
    expect(batch.packets[0]).toMatchObject({ ok: false, requestIds: [1] });
    expect(!batch.packets[0].ok && batch.packets[0].error.message).toMatch(/offset 4000 \+ size 97 crosses a page/);
    expect(batch.packets[1]).toMatchObject({ ok: true });
    expect(batch.responses).toEqual([
      { id: 1, status: ERR },
      { id: 2, status: OK },
    ]);
  });

  it('refuses an ungranted page and a runt packet, each alone', () => {
    const { raw, pages } = rawChain([
      { gref: 7, offset: 0, flags: 0, id: 1, size: 60 },
      { gref: 8, offset: 0, flags: 0, id: 2, size: 10 },
      { gref: 9, offset: 0, flags: 0, id: 3, size: 60 },
    ]);
    pages.delete(7);
    const batch = consumeTxSlots(raw, (g) => pages.get(g));
    expect(batch.packets.map((p) => (p.ok ? 'ok' : p.error.kind))).toEqual(['EFAULT', 'EPROTO', 'ok']);
  });

  it('leaves a packet whose last slot has not arrived for the next call', () => {
    const { slots, pages } = fragmentTxFrame(frameOf(9000), { slot: ids });
    const raw = slots.map(encodeTxSlot);
    const partial = consumeTxSlots(raw.slice(0, 2), (g) => pages.get(g));
    expect(partial).toEqual({ packets: [], responses: [], consumed: 0 });
    expect(consumeTxSlots(raw, (g) => pages.get(g)).consumed).toBe(3);
  });

  it('refuses a chain that fills the whole ring and never ends', () => {
    const reqs = chainOf(4, 10, 0).map((r) => ({ ...r, flags: NETTXF.NETTXF_more_data }));
    const { raw, pages } = rawChain(reqs);
    const batch = consumeTxSlots(raw, (g) => pages.get(g), { ringSize: 4 });
    expect(batch.consumed).toBe(4);
    expect(!batch.packets[0].ok && batch.packets[0].error.kind).toBe('EPROTO');
    expect(consumeTxSlots(raw.slice(0, 3), (g) => pages.get(g), { ringSize: 4 }).consumed).toBe(0);
  });

  it('refuses frames the frontend cannot send', () => {
    expect(() => fragmentTxFrame(frameOf(0x10000), { slot: ids })).toThrow(/outside 14\.\.65535/);
    expect(() => fragmentTxFrame(frameOf(60), { slot: ids, offset: 4090 })).toThrow(/no room/);
    expect(fragmentTxFrame(frameOf(60), { slot: ids, offset: 4082 }).slots).toHaveLength(2);
  });
});

describe('rx delivery', () => {
  const post = (q: RxBufferQueue, n: number, base = 0): void => {
    for (let i = 0; i < n; i++) q.post({ id: base + i, gref: 500 + base + i });
  };

  it('fills one posted buffer per 4 KiB, chained with more_data', () => {
    const q = new RxBufferQueue();
    post(q, 3);
    const frame = frameOf(9000);
    const d = q.deliver(frame, { flags: NETRXF.NETRXF_data_validated })!;
    const responses = d.slots.map((s) => (s.slot.kind === 'response' ? s.slot.response : undefined));
    expect(responses).toEqual([
      { id: 0, offset: 0, flags: NETRXF.NETRXF_data_validated | NETRXF.NETRXF_more_data, status: 4096 },
      { id: 1, offset: 0, flags: NETRXF.NETRXF_more_data, status: 4096 },
      { id: 2, offset: 0, flags: 0, status: 808 },
    ]);
    const pages = new Map<number, Uint8Array>();
    for (const c of d.copies) pages.set(c.gref - 500, Buffer.concat([c.bytes, Buffer.alloc(4096 - c.bytes.length)]));
    expect(reassembleRx(responses as NetifRxResponse[], (id) => pages.get(id))!.equals(frame)).toBe(true);
    expect(q.counters).toEqual({ packets: 1, bytes: 9000, droppedNoBuffer: 0, droppedEmpty: 0 });
  });

  it('drops and counts a frame with too few posted buffers, then delivers one that fits', () => {
    const q = new RxBufferQueue();
    post(q, 1);
    expect(q.deliver(frameOf(5000))).toBeUndefined();
    expect(q.counters.droppedNoBuffer).toBe(1);
    expect(q.available).toBe(1);
    expect(q.deliver(frameOf(1500))?.slots).toHaveLength(1);
    expect(q.deliver(frameOf(60))).toBeUndefined();
    expect(q.counters).toEqual({ packets: 1, bytes: 1500, droppedNoBuffer: 2, droppedEmpty: 0 });
  });

  it('uses a buffer slot for a GSO extra after the first response', () => {
    const q = new RxBufferQueue();
    post(q, 2);
    const d = q.deliver(frameOf(3000), { gso: { size: 1448, gsoType: XEN_NETIF_GSO_TYPE.XEN_NETIF_GSO_TYPE_TCPV6 } })!;
    expect(d.slots.map((s) => s.slot.kind)).toEqual(['response', 'extra']);
    expect(d.slots[0].slot).toMatchObject({ response: { flags: NETRXF.NETRXF_extra_info, status: 3000 } });
    expect(d.slots[1]).toMatchObject({ request: { id: 1 }, slot: { extra: { type: 'gso', gsoType: 2 } } });
  });
});

// The vif's rings over ring streams, against the netback app in-process (real nats-server, xenstored,
// hypervisor engine, gRPC): a frontend made of libs/xenbus's XenbusFrontend, a grant table and raw
// FrontRings dials the endpoint netback published. The hypervisor here mints no identities
// (getdomainkey: ENOSYS), so proofs are signed with the published NOAUTH seed and streams are accepted
// on XenStore's checks alone.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { XEN_PAGE_SIZE } from '@dominion/abi';
import {
  NETIF_RSP,
  NETTXF,
  NET_RX_RING_SIZE,
  NET_TX_RING_SIZE,
  encodeTxRequest,
  encodeTxSlot,
  fragmentTxFrame,
  type NetifRxRequest,
  type NetifRxResponse,
} from '@dominion/netif';
import { FrontRing, GrantTable, type GrantSpan } from '@dominion/ring';
import { RingFrontStream, type RingCodec } from '@dominion/ringstream';
import { waitFor } from '@dominion/testing';
import { S, XenbusFrontend } from '@dominion/xenbus';
import { NOAUTH_RING_SEED } from '@dominion/identity';
import {
  netifRingIndex,
  netifRxRingCodec,
  netifTxRingCodec,
  type NetifTxEntry,
  type NetifTxEntryResponse,
} from '@dominion/netif';
import { NetbackModule, NetbackService } from '../src/index.js';
import { sized, udp } from './frames.js';
import { UdpPeer } from './udp-peer.js';
import { NETBACK, startWorld, type World } from './xs-world.js';

const FE = 5;
const MAC = '00:16:3e:5e:00:05';
const PEER_MAC = '00:16:3e:99:00:01';

describe('vif rings over ring streams', () => {
  let w: World;
  let app: INestApplicationContext;
  let netback: NetbackService;
  let peer: UdpPeer;
  let fe: XenbusFrontend;
  let backendPath: string;
  const grants = new GrantTable();
  let txRef: number;
  let rxRef: number;
  const streams: Array<RingFrontStream<unknown, unknown>> = [];

  function stream<Req, Rsp>(codec: RingCodec<Req, Rsp>, size: number, ringRef: number, queue: number) {
    const s = new RingFrontStream<Req, Rsp>({
      ring: new FrontRing<Req, Rsp>({
        size,
        backendDomid: NETBACK,
        grants,
        requestId: codec.requestId,
        responseId: codec.responseId,
      }),
      codec,
      frontendDomid: FE,
      seed: NOAUTH_RING_SEED,
      queue,
      target: async () => ({
        endpoint: await w.dom0.read(`${backendPath}/grpc-endpoint`),
        backend: NETBACK,
        device: backendPath,
        ringRef,
      }),
    }).start();
    streams.push(s as unknown as RingFrontStream<unknown, unknown>);
    return s;
  }

  const uplinkPort = () => Number(netback.uplinkStatus()[0].local.split(':')[1]);

  beforeAll(async () => {
    w = await startWorld([FE]);
    peer = await UdpPeer.open();
    app = await NestFactory.createApplicationContext(
      NetbackModule.forRoot({
        env: {
          DOMINION_NATS_URL: w.natsUrl,
          DOMINION_DOMID: String(NETBACK),
          DOMINION_LOG_LEVEL: 'silent',
          DOMINION_NETBACK_UPLINKS: `xenbr0:dgram:127.0.0.1:0,remote=127.0.0.1:${peer.port}`,
          DOMINION_NETBACK_MAX_QUEUES: '1',
        },
      }),
      { logger: false },
    );
    await app.init();
    netback = app.get(NetbackService);
    const d = await w.attachVif(FE, `mac=${MAC},bridge=xenbr0,mtu=9000`, 0);
    backendPath = d.backend;
    txRef = grants.grant(NETBACK, new Uint8Array(XEN_PAGE_SIZE));
    rxRef = grants.grant(NETBACK, new Uint8Array(XEN_PAGE_SIZE));
    fe = new XenbusFrontend({
      store: await w.client(FE),
      path: d.frontend,
      publishState: S.Connected,
      timeoutMs: 5000,
      handlers: {
        publish: () => ({
          'tx-ring-ref': String(txRef),
          'rx-ring-ref': String(rxRef),
          'event-channel': String(w.allocPort(FE)),
          'request-rx-copy': '1',
          'feature-rx-notify': '1',
          'feature-sg': '1',
        }),
      },
    });
    await fe.start();
    await fe.whenConnected();
  }, 30_000);

  afterAll(async () => {
    for (const s of streams) s.close();
    await fe?.stop().catch(() => undefined);
    await app?.close();
    await peer?.close();
    await w?.stop();
  });

  it('publishes its ring endpoint at probe, refuses a ring-ref the frontend did not write beside the right ones', async () => {
    expect(await w.dom0.read(`${backendPath}/grpc-endpoint`)).toMatch(/^127\.0\.0\.1:[0-9]+$/);
    const tx = stream(netifTxRingCodec, NET_TX_RING_SIZE, txRef, netifRingIndex(0, 'tx'));
    const wrong = stream(netifTxRingCodec, NET_TX_RING_SIZE, 999, netifRingIndex(0, 'tx'));
    await tx.whenConnected();
    await expect(wrong.whenConnected()).rejects.toThrow(/ring-ref 999 is neither tx-ring-ref/);
    expect(wrong.state).toBe('refused');
    // The tx ring-ref named as the rx ring: refused too.
    const crossed = stream(netifTxRingCodec, NET_TX_RING_SIZE, txRef, netifRingIndex(0, 'rx'));
    await expect(crossed.whenConnected()).rejects.toThrow(/refused/);
    expect(tx.state).toBe('connected');
  });

  it('tx: a packet over two slots reaches the bridge; a malformed one is answered ERROR per slot; an oversize one is dropped and counted', async () => {
    const tx = streams[0] as unknown as RingFrontStream<NetifTxEntry, NetifTxEntryResponse>;
    const send = (slots: Uint8Array[], spans: GrantSpan[], id: number) => tx.ring.submit({ id, slots }, spans);
    const packet = (frame: Buffer, firstId: number) => {
      const frags = fragmentTxFrame(frame, {
        slot: (n) => ({ id: firstId + n, gref: grants.grant(NETBACK, new Uint8Array(XEN_PAGE_SIZE), true) }),
      });
      for (const s of frags.slots)
        if (s.kind === 'request') grants.get(s.request.gref)!.page.set(frags.pages.get(s.request.gref)!);
      const spans = frags.slots.flatMap((s) => (s.kind === 'request' ? [{ ref: s.request.gref }] : []));
      return send(frags.slots.map(encodeTxSlot), spans, firstId);
    };
    // 6000 bytes: 4096 in the first slot, 1904 in the second.
    const big = sized(PEER_MAC, MAC, 6000);
    big[100] = 0xab;
    big[5000] = 0xcd;
    const ok = await packet(big, 10);
    expect(ok.responses).toEqual([
      { id: 10, status: NETIF_RSP.NETIF_RSP_OKAY },
      { id: 11, status: NETIF_RSP.NETIF_RSP_OKAY },
    ]);
    expect((await peer.nth(1, 'the 6000-byte frame')).equals(big)).toBe(true);

    // A first request of 100 bytes followed by a 200-byte fragment: more fragment bytes than the packet.
    const g1 = grants.grant(NETBACK, new Uint8Array(XEN_PAGE_SIZE), true);
    const g2 = grants.grant(NETBACK, new Uint8Array(XEN_PAGE_SIZE), true);
    const bad = await send(
      [
        encodeTxRequest({ gref: g1, offset: 0, flags: NETTXF.NETTXF_more_data, id: 20, size: 100 }),
        encodeTxRequest({ gref: g2, offset: 0, flags: 0, id: 21, size: 200 }),
      ],
      [{ ref: g1 }, { ref: g2 }],
      20,
    );
    expect(bad.responses).toEqual([
      { id: 20, status: NETIF_RSP.NETIF_RSP_ERROR },
      { id: 21, status: NETIF_RSP.NETIF_RSP_ERROR },
    ]);

    // A 60-byte packet whose grant came with only 20 of its bytes: EFAULT, answered ERROR.
    const g3 = grants.grant(NETBACK, new Uint8Array(XEN_PAGE_SIZE), true);
    const short = await send(
      [encodeTxRequest({ gref: g3, offset: 0, flags: 0, id: 25, size: 60 })],
      [{ ref: g3, offset: 0, length: 20 }],
      25,
    );
    expect(short.responses).toEqual([{ id: 25, status: NETIF_RSP.NETIF_RSP_ERROR }]);

    // 18 request slots (a 14-byte head, then 17 one-byte fragments) pass; 19 are E2BIG, ERROR per slot.
    const chain = (n: number, firstId: number) => {
      const refs = Array.from({ length: n }, () => grants.grant(NETBACK, new Uint8Array(XEN_PAGE_SIZE), true));
      grants.get(refs[0])!.page.set(sized(PEER_MAC, MAC, 14));
      const slots = refs.map((gref, i) =>
        encodeTxRequest({
          gref,
          offset: 0,
          flags: i < n - 1 ? NETTXF.NETTXF_more_data : 0,
          id: firstId + i,
          size: i === 0 ? 14 + n - 1 : 1,
        }),
      );
      return send(
        slots,
        refs.map((ref, i) => ({ ref, length: i === 0 ? 14 : 1 })),
        firstId,
      );
    };
    expect((await chain(18, 50)).responses.every((r) => r.status === NETIF_RSP.NETIF_RSP_OKAY)).toBe(true);
    expect((await peer.nth(2, 'the 18-slot frame')).length).toBe(14 + 17);
    const over18 = await chain(19, 80);
    expect(over18.responses).toHaveLength(19);
    expect(over18.responses.every((r) => r.status === NETIF_RSP.NETIF_RSP_ERROR)).toBe(true);

    // 9100 bytes over the vif's mtu 9000 (9086 of payload): answered OKAY, never on the wire.
    const over = await packet(sized(PEER_MAC, MAC, 9100), 30);
    expect(over.responses.map((r) => r.status)).toEqual([0, 0, 0]);
    const counters = netback.rings!.counters(backendPath)!;
    expect(counters).toMatchObject({ txPackets: 2, txErrors: 3, oversizeDropped: 1 });
    // A small frame after them still passes, and nothing else reached the peer.
    await packet(sized(PEER_MAC, MAC, 60), 40);
    expect((await peer.nth(3, 'the 60-byte frame')).length).toBe(60);
    expect(peer.received).toHaveLength(3);
  });

  it('rx: a frame for a guest with no buffer posted is dropped and counted; a posted buffer gets the next one', async () => {
    const rx = stream<NetifRxRequest, NetifRxResponse>(
      netifRxRingCodec,
      NET_RX_RING_SIZE,
      rxRef,
      netifRingIndex(0, 'rx'),
    );
    await rx.whenConnected();
    const vif = netback.vifs!.vif(FE, 0)!;
    const before = vif.counters().txDropped;
    await peer.send(udp(MAC, PEER_MAC, '10.0.0.9', '10.0.0.5', 32), uplinkPort());
    await waitFor(() => netback.rings!.counters(backendPath)!.rxNoBuffer === 1, 5000, 'the drop');
    expect(vif.counters().txDropped).toBe(before + 1);

    const page = new Uint8Array(XEN_PAGE_SIZE);
    const gref = grants.grant(NETBACK, page, false);
    const got = rx.ring.submit({ id: 3, gref }, [{ ref: gref }]);
    await waitFor(() => netback.rings!.rxPosted(backendPath) === 1, 5000, 'the buffer posted');
    const frame = udp(MAC, PEER_MAC, '10.0.0.9', '10.0.0.5', 40);
    await peer.send(frame, uplinkPort());
    const rsp = await got;
    expect(rsp).toEqual({ id: 3, offset: 0, flags: 0, status: frame.length });
    expect(Buffer.from(page.subarray(0, frame.length)).equals(frame)).toBe(true);
    expect(netback.rings!.counters(backendPath)).toMatchObject({ rxPackets: 1, rxNoBuffer: 1 });
  });
});

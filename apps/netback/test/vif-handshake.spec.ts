// The vif backend of the netback app over a real xenstored on a real nats-server: dom0's toolstack writes
// vif dirs as libxl does (from xl vif specs), netfront's side is libs/xenbus's XenbusFrontend, and netback
// is the NestJS app itself, configured from its environment with a datagram uplink.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { DOMID, EVTCHNSTAT } from '@dominion/abi';
import { RxBufferQueue } from '@dominion/netif';
import { waitFor } from '@dominion/testing';
import { S, XenbusFrontend, type XenbusKeys } from '@dominion/xenbus';
import type { XenstoreClient } from '@dominion/xenstore';
import { NetbackModule, NetbackService } from '../src/index.js';
import { BCAST, arpRequest, udp } from './frames.js';
import { UdpPeer } from './udp-peer.js';
import { NETBACK, startWorld, type World } from './xs-world.js';

const MAC = '00:16:3e:5e:00:01';

/** What netfront writes (xen-facts §3), one queue; `port` is an unbound event channel offered to netback. */
const netfrontKeys = (ref: number, port: number): XenbusKeys => ({
  'tx-ring-ref': String(ref),
  'rx-ring-ref': String(ref + 1),
  'event-channel': String(port),
  'request-rx-copy': '1',
  'feature-rx-notify': '1',
  'feature-sg': '1',
  'feature-gso-tcpv4': '1',
});

describe('netback vif backends over a real xenstored', () => {
  let w: World;
  let app: INestApplicationContext;
  let netback: NetbackService;
  let peer: UdpPeer;
  const clients: Record<number, XenstoreClient> = {};
  const frontends: XenbusFrontend[] = [];

  beforeAll(async () => {
    w = await startWorld([5, 6]);
    for (const d of [5, 6]) clients[d] = await w.client(d);
    peer = await UdpPeer.open();
    app = await NestFactory.createApplicationContext(
      NetbackModule.forRoot({
        env: {
          DOMINION_NATS_URL: w.natsUrl,
          DOMINION_DOMID: String(NETBACK),
          DOMINION_LOG_LEVEL: 'silent',
          DOMINION_NETBACK_BRIDGES: 'xenbr0,xenbr1',
          DOMINION_NETBACK_UPLINKS: `xenbr0:dgram:127.0.0.1:0,remote=127.0.0.1:${peer.port}`,
          DOMINION_NETBACK_MAX_QUEUES: '2',
        },
      }),
      { logger: false },
    );
    await app.init();
    netback = app.get(NetbackService);
  });

  afterAll(async () => {
    for (const fe of frontends) await fe.stop().catch(() => undefined);
    await app?.close();
    await peer?.close();
    await w?.stop();
  });

  function netfront(domid: number, path: string, keys: (features: XenbusKeys) => XenbusKeys) {
    const seen: XenbusKeys[] = [];
    const fe = new XenbusFrontend({
      store: clients[domid],
      path,
      publishState: S.Connected,
      timeoutMs: 5000,
      handlers: {
        publish: (b) => {
          seen.push(b.keys);
          return keys(b.keys);
        },
      },
    });
    frontends.push(fe);
    return { fe, seen };
  }

  const backendState = (path: string) => w.dom0.tryRead(`${path}/state`);

  it('connects a vif onto its bridge and fails a second vif with the same MAC there; another bridge takes it', async () => {
    const d5 = await w.attachVif(5, `mac=${MAC},bridge=xenbr0,ip=10.0.0.5,rate=1MB/s@20ms`, 0);
    const port5 = w.allocPort(5);
    const g5 = netfront(5, d5.frontend, () => netfrontKeys(8, port5));
    await g5.fe.start();
    const be = await g5.fe.whenConnected();

    // The features netback published at probe, as the frontend read them at InitWait.
    expect(g5.seen[0]).toMatchObject({
      state: String(S.InitWait),
      'feature-rx-copy': '1',
      'feature-rx-flip': '0',
      'feature-sg': '1',
      'feature-gso-tcpv4': '1',
      'multi-queue-max-queues': '2',
    });
    expect(be.keys).toMatchObject({ state: String(S.Connected), 'hotplug-status': 'connected' });
    const [c5] = netback.vifs!.connections();
    expect(c5.vif.name).toBe('vif5.0');
    expect(c5.frontend.transport.queues).toEqual([
      { dir: d5.frontend, ringRefs: { 'tx-ring-ref': [8], 'rx-ring-ref': [9] }, eventChannel: port5 },
    ]);
    // The event channel is bound: the guest's port is now interdomain to netback's.
    const st = w.hypervisor.hypercall(5, 'evtchn_status', { dom: DOMID.DOMID_SELF, port: port5 }).result;
    expect(st).toMatchObject({
      status: EVTCHNSTAT.EVTCHNSTAT_interdomain,
      interdomain: { dom: NETBACK, port: c5.ports[0] },
    });
    expect(c5.frontend.features).toMatchObject({ sg: true, gsoTcpv4: true, noCsumOffload: false });
    const spec = netback.bridges.get('xenbr0').switch.portConfig('vif5.0');
    expect(spec).toMatchObject({ mac: MAC, rate: { bytesPerInterval: 20_000, intervalUsecs: 20_000 } });
    expect([...spec.ips!]).toEqual(['10.0.0.5']);

    // The same MAC on xenbr0 again: refused, reported in the device's xenbus error node, Closing.
    const d6 = await w.attachVif(6, `mac=${MAC},bridge=xenbr0`, 0);
    const g6 = netfront(6, d6.frontend, () => netfrontKeys(20, w.allocPort(6)));
    await g6.fe.start();
    await waitFor(
      async () =>
        (await backendState(d6.backend)) === String(S.Closing) || (await backendState(d6.backend)) === String(S.Closed),
      5000,
      'vif6.0 refused',
    );
    expect(await w.dom0.read(`/local/domain/${NETBACK}/error/backend/vif/6/0/error`)).toBe(
      `17 xenbr0: MAC ${MAC} of port vif6.0 is already on port vif5.0 (owner domain 5 vif 0)`,
    );
    expect(await w.dom0.tryRead(`${d6.backend}/hotplug-status`)).toBe('');
    expect(await backendState(d5.backend)).toBe(String(S.Connected));

    // On xenbr1 the same MAC is nobody's yet.
    const d61 = await w.attachVif(6, `mac=${MAC},bridge=xenbr1`, 1);
    const g61 = netfront(6, d61.frontend, () => netfrontKeys(30, w.allocPort(6)));
    await g61.fe.start();
    await g61.fe.whenConnected();
    expect(
      netback
        .stats()
        .map((s) => `${s.bridge}/${s.port}/${s.kind}/${s.mac ?? '-'}`)
        .sort(),
    ).toEqual([`xenbr0/dgram0/dgram/-`, `xenbr0/vif5.0/vif/${MAC}`, `xenbr1/vif6.1/vif/${MAC}`]);
  });

  it('carries frames between the datagram uplink and a connected vif bound to its guest rx buffers', async () => {
    const vif = netback.vifs!.vif(5, 0)!;
    const rx = new RxBufferQueue();
    vif.bind({ toGuest: (f) => rx.deliver(f) !== undefined });
    rx.post({ id: 0, gref: 100 });
    const who = arpRequest('00:16:3e:00:00:99', '10.0.0.99', '10.0.0.5');
    await peer.send(who, netback.uplinkStatus()[0].local.split(':').map(Number)[1]);
    await waitFor(() => rx.counters.packets === 1, 5000, 'the ARP request in the guest rx buffer');
    expect(rx.counters.bytes).toBe(who.length);

    const answer = udp('00:16:3e:00:00:99', MAC, '10.0.0.5', '10.0.0.99');
    expect(await vif.fromGuest(answer)).toEqual({ verdict: 'forwarded', deliveries: 1 });
    expect(await peer.nth(1)).toEqual(answer);
    // Anti-spoofing from the backend's `ip` key.
    expect(await vif.fromGuest(udp(BCAST, MAC, '10.0.0.66', '10.0.0.255'))).toEqual({
      verdict: 'dropped',
      reason: 'spoofed-ip',
    });
    expect(vif.counters()).toMatchObject({ rxFrames: 2, txFrames: 1, txDropped: 0 });
  });

  it('fails a frontend that does not request rx copy, and a vif for a bridge this domain lacks', async () => {
    const noCopy = await w.attachVif(5, `mac=00:16:3e:5e:00:02`, 1);
    const { 'request-rx-copy': _dropped, ...withoutCopy } = netfrontKeys(40, w.allocPort(5));
    await netfront(5, noCopy.frontend, () => withoutCopy).fe.start();
    const noBridge = await w.attachVif(5, `mac=00:16:3e:5e:00:03,bridge=xenbr7`, 2);
    await netfront(5, noBridge.frontend, () => netfrontKeys(50, w.allocPort(5))).fe.start();
    // A port guest 5 offered to domain 6, not to netback.
    const notOurs = w.hypervisor.hypercall(5, 'evtchn_alloc_unbound', { dom: DOMID.DOMID_SELF, remote_dom: 6 })
      .result as { port: number };
    const wrongPort = await w.attachVif(5, `mac=00:16:3e:5e:00:04`, 3);
    await netfront(5, wrongPort.frontend, () => netfrontKeys(60, notOurs.port)).fe.start();
    const err = (devid: number) => `/local/domain/${NETBACK}/error/backend/vif/5/${devid}/error`;
    await waitFor(async () => (await w.dom0.tryRead(err(1))) !== undefined, 5000, 'vif5.1 refused');
    await waitFor(async () => (await w.dom0.tryRead(err(2))) !== undefined, 5000, 'vif5.2 refused');
    await waitFor(async () => (await w.dom0.tryRead(err(3))) !== undefined, 5000, 'vif5.3 refused');
    expect(await w.dom0.read(err(3))).toMatch(
      new RegExp(`^22 ${wrongPort.frontend}/event-channel: port ${notOurs.port}: `),
    );
    expect(netback.vifs!.vif(5, 3)).toBeUndefined();
    expect(await w.dom0.read(err(1))).toBe(
      `95 ${noCopy.frontend}/request-rx-copy: must be 1, this backend only copies`,
    );
    expect(await w.dom0.read(err(2))).toBe('2 no bridge xenbr7 here (bridges: xenbr0, xenbr1)');
    expect(netback.vifs!.vif(5, 0)).toBeDefined();
    expect(netback.vifs!.vif(5, 1)).toBeUndefined();
  });

  it('takes a vif off its bridge when the frontend closes, and plugs it back when it reconnects', async () => {
    const fe = frontends[0];
    await fe.close();
    await waitFor(() => netback.vifs!.vif(5, 0) === undefined, 5000, 'vif5.0 unplugged');
    expect(netback.bridges.get('xenbr0').port('vif5.0')).toBeUndefined();
    await fe.reopen();
    await fe.whenConnected();
    expect(netback.bridges.get('xenbr0').port('vif5.0')).toBeDefined();
  });
});

// Bridges with datagram uplinks over real UDP sockets on 127.0.0.1 (what QEMU's -netdev dgram and socat
// send): flooding and learning on one bridge, nothing crossing to another, per-port counters.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@dominion/testing';
import { Bridges, DatagramUplink } from '../src/index.js';
import { BCAST, arpRequest, udp } from './frames.js';
import { UdpPeer } from './udp-peer.js';

const MAC = {
  a: '00:16:3e:00:00:0a',
  b: '00:16:3e:00:00:0b',
  c: '00:16:3e:00:00:0c',
  d: '00:16:3e:00:00:0d',
};

describe('bridges with datagram uplinks on 127.0.0.1', () => {
  let bridges: Bridges;
  const peers: Record<string, UdpPeer> = {};
  const up: Record<string, DatagramUplink> = {};

  beforeAll(async () => {
    bridges = new Bridges(['xenbr0', 'xenbr1']);
    for (const p of ['a', 'b', 'c', 'd', 'e']) peers[p] = await UdpPeer.open();
    const plug = async (p: string, bridge: string, extra: Partial<Parameters<typeof DatagramUplink.open>[0]> = {}) => {
      up[p] = await DatagramUplink.open({
        bridge: bridges.get(bridge),
        name: `dgram-${p}`,
        bind: { host: '127.0.0.1', port: 0 },
        remote: { host: '127.0.0.1', port: peers[p].port },
        ...extra,
      });
    };
    await plug('a', 'xenbr0');
    await plug('b', 'xenbr0');
    await plug('c', 'xenbr0', { port: { ips: ['10.0.0.3'] } });
    await plug('d', 'xenbr1');
    await plug('e', 'xenbr1');
  });

  afterAll(async () => {
    for (const u of Object.values(up)) await u.close();
    for (const p of Object.values(peers)) await p.close();
    bridges?.close();
  });

  const port = (p: string) => up[p].local.port;
  const counters = (p: string) => up[p].port.counters();

  it('floods a broadcast to its own bridge only, then forwards learned MACs to one port', async () => {
    const who = arpRequest(MAC.a, '10.0.0.1', '10.0.0.2');
    await peers.a.send(who, port('a'));
    expect(await peers.b.nth(1)).toEqual(who);
    expect(await peers.c.nth(1)).toEqual(who);

    // b answers a: a's MAC was learned on dgram-a, so only a gets it.
    const reply = udp(MAC.a, MAC.b, '10.0.0.2', '10.0.0.1');
    await peers.b.send(reply, port('b'));
    expect(await peers.a.nth(1)).toEqual(reply);
    const toB = udp(MAC.b, MAC.a, '10.0.0.1', '10.0.0.2');
    await peers.a.send(toB, port('a'));
    expect(await peers.b.nth(2)).toEqual(toB);
    expect(counters('c').txFrames).toBe(1);

    // The same broadcast on xenbr1 reaches e, and nothing on xenbr0; a frame for a's MAC is unknown there.
    const before0 = ['a', 'b', 'c'].map((p) => counters(p).txFrames);
    const whoD = arpRequest(MAC.d, '10.0.0.4', '10.0.0.1');
    await peers.d.send(whoD, port('d'));
    expect(await peers.e.nth(1)).toEqual(whoD);
    const dToA = udp(MAC.a, MAC.d, '10.0.0.4', '10.0.0.1');
    await peers.d.send(dToA, port('d'));
    expect(await peers.e.nth(2)).toEqual(dToA);
    expect(['a', 'b', 'c'].map((p) => counters(p).txFrames)).toEqual(before0);

    // A last frame to a on xenbr0 arrives right after the reply: nothing from xenbr1 slipped in between.
    const last = udp(MAC.a, MAC.b, '10.0.0.2', '10.0.0.1', 20);
    await peers.b.send(last, port('b'));
    expect(await peers.a.nth(2)).toEqual(last);
    expect(peers.a.received).toHaveLength(2);

    expect(counters('a')).toMatchObject({ rxFrames: 2, txFrames: 2, txDropped: 0 });
    expect(counters('a').rxBytes).toBe(who.length + toB.length);
    expect(counters('b')).toMatchObject({ rxFrames: 2, txFrames: 2 });
    expect(counters('d')).toMatchObject({ rxFrames: 2, txFrames: 0 });
    expect(counters('e')).toMatchObject({ rxFrames: 0, txFrames: 2 });
    const fdb0 = bridges.get('xenbr0').switch.macTable(performance.now());
    const fdb1 = bridges.get('xenbr1').switch.macTable(performance.now());
    expect(fdb0.map((e) => `${e.mac}@${e.port}`).sort()).toEqual([`${MAC.a}@dgram-a`, `${MAC.b}@dgram-b`]);
    expect(fdb1.map((e) => `${e.mac}@${e.port}`)).toEqual([`${MAC.d}@dgram-d`]);
    expect(bridges.stats().map((s) => `${s.bridge}/${s.port}/${s.kind}`)).toEqual([
      'xenbr0/dgram-a/dgram',
      'xenbr0/dgram-b/dgram',
      'xenbr0/dgram-c/dgram',
      'xenbr1/dgram-d/dgram',
      'xenbr1/dgram-e/dgram',
    ]);
  });

  it('drops frames from a port with ip= that claim another source address, and passes its own', async () => {
    const nB = peers.b.received.length;
    const spoofed = udp(MAC.b, MAC.c, '10.0.0.66', '10.0.0.2');
    const own = udp(MAC.b, MAC.c, '10.0.0.3', '10.0.0.2');
    await peers.c.send(spoofed, port('c'));
    await peers.c.send(own, port('c'));
    expect(await peers.b.nth(nB + 1)).toEqual(own);
    await waitFor(() => counters('c').rxFrames === 2, 2000, 'both frames counted');
    expect(counters('c').drops['spoofed-ip']).toBe(1);
    expect(peers.b.received).toHaveLength(nB + 1);
  });

  it('accepts datagrams only from its configured peer; a learning uplink answers whoever sent last', async () => {
    const stranger = await UdpPeer.open();
    try {
      const nB = peers.b.received.length;
      const forged = udp(MAC.b, MAC.a, '10.0.0.1', '10.0.0.2', 1);
      const genuine = udp(MAC.b, MAC.a, '10.0.0.1', '10.0.0.2', 2);
      await stranger.send(forged, port('a'));
      await peers.a.send(genuine, port('a'));
      expect(await peers.b.nth(nB + 1)).toEqual(genuine);
      expect(up.a.counters.foreignDropped).toBe(1);

      const learning = await DatagramUplink.open({
        bridge: bridges.get('xenbr1'),
        name: 'dgram-learn',
        bind: { host: '127.0.0.1', port: 0 },
      });
      try {
        // No peer yet: a flood towards it is dropped and counted.
        const nE = peers.e.received.length;
        await peers.d.send(udp(BCAST, MAC.d, '10.0.0.4', '10.0.0.255'), port('d'));
        await peers.e.nth(nE + 1);
        expect(learning.port.counters()).toMatchObject({ txFrames: 1, txDropped: 1 });
        await stranger.send(arpRequest('00:16:3e:00:00:5e', '10.0.0.5', '10.0.0.4'), learning.local.port);
        await waitFor(() => learning.remote?.port === stranger.port, 2000, 'peer learned');
        const back = udp('00:16:3e:00:00:5e', MAC.d, '10.0.0.4', '10.0.0.5');
        await peers.d.send(back, port('d'));
        expect(await stranger.nth(1)).toEqual(back);
        expect(learning.port.counters()).toMatchObject({ rxFrames: 1, txFrames: 2, txDropped: 1 });
      } finally {
        await learning.close();
      }
      expect(bridges.get('xenbr1').port('dgram-learn')).toBeUndefined();
    } finally {
      await stranger.close();
    }
  });
});

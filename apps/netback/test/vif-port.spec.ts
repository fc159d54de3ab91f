// A vif's frame I/O as the netif rings will drive it: the rx side is netif's RxBufferQueue (the guest's
// posted buffers), the tx side awaits fromGuest(). Frames for a guest with no free buffer are dropped and
// counted; a vif with `rate=` waits for credit and holds the frames behind, within a bound.
import { describe, expect, it } from '@jest/globals';
import { RxBufferQueue } from '@dominion/netif';
import { Bridges, NetbackError, VifPort, vifName } from '../src/index.js';
import { BCAST, sized, udp } from './frames.js';

const GUEST = '00:16:3e:00:05:00';
const OTHER = '00:16:3e:00:06:00';

function guestRx() {
  const q = new RxBufferQueue();
  return { q, link: { toGuest: (f: Uint8Array) => q.deliver(f) !== undefined } };
}

describe('VifPort', () => {
  it('delivers a frame into a posted rx buffer; with none posted (or unbound) drops and counts it', async () => {
    const bridges = new Bridges();
    const br = bridges.get('xenbr0');
    const vif5 = new VifPort(
      br,
      { domid: 5, devid: 0 },
      { name: vifName({ domid: 5, devid: 0 }), owner: 'd5', mac: GUEST },
    );
    const vif6 = new VifPort(br, { domid: 6, devid: 0 }, { name: 'vif6.0', owner: 'd6', mac: OTHER });
    expect(vif5.name).toBe('vif5.0');
    const rx = guestRx();
    vif5.bind(rx.link);

    const frame = udp(GUEST, OTHER, '10.0.0.6', '10.0.0.5');
    // unknown destination yet: flooded to vif5, which has no buffer posted.
    expect(await vif6.fromGuest(frame)).toEqual({ verdict: 'forwarded', deliveries: 1 });
    expect(vif5.counters()).toMatchObject({ txFrames: 1, txDropped: 1 });
    expect(rx.q.counters.droppedNoBuffer).toBe(1);

    rx.q.post({ id: 7, gref: 70 });
    expect(await vif6.fromGuest(frame)).toEqual({ verdict: 'forwarded', deliveries: 1 });
    expect(vif5.counters()).toMatchObject({ txFrames: 2, txDropped: 1 });
    expect(rx.q.counters).toMatchObject({ packets: 1, bytes: frame.length });

    vif5.unbind();
    rx.q.post({ id: 8, gref: 80 });
    await vif6.fromGuest(frame);
    expect(vif5.counters()).toMatchObject({ txFrames: 3, txDropped: 2 });

    // The guest's own frames: its MAC passes, another source MAC is refused.
    expect(await vif5.fromGuest(udp(BCAST, GUEST, '10.0.0.5', '10.0.0.255'))).toEqual({
      verdict: 'forwarded',
      deliveries: 1,
    });
    expect(await vif5.fromGuest(udp(BCAST, OTHER, '10.0.0.5', '10.0.0.255'))).toEqual({
      verdict: 'dropped',
      reason: 'spoofed-mac',
    });
    expect(vif5.counters().drops['spoofed-mac']).toBe(1);
    bridges.close();
  });

  it('refuses a MAC already on the bridge, and takes the same MAC on another bridge or after unplug', () => {
    const bridges = new Bridges(['xenbr0', 'xenbr1']);
    const first = new VifPort(
      bridges.get('xenbr0'),
      { domid: 5, devid: 0 },
      { name: 'vif5.0', owner: 'd5', mac: GUEST },
    );
    let err: unknown;
    try {
      new VifPort(bridges.get('xenbr0'), { domid: 6, devid: 0 }, { name: 'vif6.0', owner: 'd6', mac: GUEST });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NetbackError);
    expect(err).toMatchObject({ kind: 'EEXIST' });
    expect((err as Error).message).toContain(`MAC ${GUEST} of port vif6.0 is already on port vif5.0 (owner d5)`);
    const elsewhere = new VifPort(
      bridges.get('xenbr1'),
      { domid: 6, devid: 0 },
      { name: 'vif6.0', owner: 'd6', mac: GUEST },
    );
    expect(elsewhere.bridge).toBe('xenbr1');
    first.unplug();
    const again = new VifPort(
      bridges.get('xenbr0'),
      { domid: 6, devid: 1 },
      { name: 'vif6.1', owner: 'd6', mac: GUEST },
    );
    expect(
      bridges
        .get('xenbr0')
        .list()
        .map((p) => p.name),
    ).toEqual(['vif6.1']);
    again.unplug();
    elsewhere.unplug();
  });

  it('holds a guest over its rate until the next credit, and drops past the backlog bound', async () => {
    const bridges = new Bridges(['xenbr0'], { maxBacklog: 1 });
    const br = bridges.get('xenbr0');
    // 1000 bytes every 60 ms.
    const vif = new VifPort(
      br,
      { domid: 5, devid: 0 },
      {
        name: 'vif5.0',
        owner: 'd5',
        mac: GUEST,
        rate: { bytesPerInterval: 1000, intervalUsecs: 60_000 },
      },
    );
    const peer = new VifPort(br, { domid: 6, devid: 0 }, { name: 'vif6.0', owner: 'd6', mac: OTHER });
    const got: number[] = [];
    peer.bind({ toGuest: () => got.push(performance.now()) > 0 });
    const t0 = performance.now();
    const f = sized(OTHER, GUEST, 600);
    const first = vif.fromGuest(f);
    const second = vif.fromGuest(f);
    const third = vif.fromGuest(f);
    expect(await third).toEqual({ verdict: 'dropped', reason: 'backlog' });
    expect(await first).toEqual({ verdict: 'forwarded', deliveries: 1 });
    expect(got).toHaveLength(1);
    expect(await second).toEqual({ verdict: 'forwarded', deliveries: 1 });
    expect(got).toHaveLength(2);
    expect(got[1] - t0).toBeGreaterThanOrEqual(55);
    expect(vif.counters()).toMatchObject({ rxFrames: 2, backlogDropped: 1 });
    expect(vif.counters().deferred).toBeGreaterThanOrEqual(1);

    // 400 bytes of credit are left: the first waits, the next finds the backlog full; unplugging drops the waiting one.
    const a = vif.fromGuest(sized(OTHER, GUEST, 900));
    const b = vif.fromGuest(sized(OTHER, GUEST, 900));
    vif.unplug();
    expect(await b).toEqual({ verdict: 'dropped', reason: 'backlog' });
    expect(await a).toEqual({ verdict: 'dropped', reason: 'detached' });
    expect(got).toHaveLength(2);
    bridges.close();
  });
});

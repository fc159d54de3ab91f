// The xenbus handshake between a XenbusBackend (driver domain 1) and a XenbusFrontend (guest 5), over a
// real xenstored reached through real XenstoreClients, with libxl's device dirs (xen-facts §2, §5).
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@dominion/testing';
import type { XenstoreClient } from '@dominion/xenstore';
import {
  S,
  XenbusBackendDir,
  XenbusFrontend,
  readRingTransport,
  type RingTransport,
  type XenbusFrontendDisconnect,
  type XenbusKeys,
} from '../src/index.js';
import { BE, addDevice, logSink, startWorld, type World } from './harness.js';

/** Whatever a test started, stopped after it even if it failed, so the next test finds clean dirs. */
const running: Array<{ stop(): Promise<void> }> = [];

const PROBE_KEYS = { 'max-ring-page-order': '1', 'multi-queue-max-queues': '2', 'feature-flush-cache': '1' };
const CONNECT_KEYS = { sectors: '2048', info: '0', 'sector-size': '512' };

/** A driver domain's backend dir with a blkback-like device: the handshake of the library plus a record. */
async function driverDomain(store: XenstoreClient, log = logSink()) {
  const connects: Array<{ path: string; transport: RingTransport }> = [];
  const disconnects: string[] = [];
  const dir = await XenbusBackendDir.watch<RingTransport>({
    store,
    path: `/local/domain/${BE}/backend/vbd`,
    logger: log.logger,
    device: () => ({
      logger: log.logger,
      handlers: {
        probe: () => PROBE_KEYS,
        readFrontend: (r) =>
          readRingTransport(r, {
            maxRingPageOrder: 1,
            maxQueues: 2,
            protocols: ['x86_64-abi', 'x86_32-abi', 'arm-abi'],
          }),
        connect: (transport, dev) => {
          connects.push({ path: dev.backendPath, transport });
          return CONNECT_KEYS;
        },
        disconnect: (_dev, why) => void disconnects.push(why),
      },
    }),
  });
  running.push(dir);
  return { dir, connects, disconnects, log };
}

function guest(store: XenstoreClient, path: string, keys: (features: XenbusKeys) => XenbusKeys) {
  const events: XenbusFrontendDisconnect[] = [];
  const seen: XenbusKeys[] = [];
  const fe = new XenbusFrontend({
    store,
    path,
    timeoutMs: 5000,
    handlers: {
      publish: (b) => {
        seen.push(b.keys);
        return keys(b.keys);
      },
      disconnected: (why) => void events.push(why),
    },
  });
  running.push(fe);
  return { fe, events, seen };
}

const singleRing = (ref: number) => () => ({ 'ring-ref': String(ref), 'event-channel': '7', protocol: 'x86_64-abi' });

describe('xenbus handshake over a real xenstored', () => {
  let w: World;
  let dom1: XenstoreClient;
  let dom5: XenstoreClient;
  let devid = 51712;
  const next = () => (devid += 16);

  beforeAll(async () => {
    w = await startWorld();
    dom1 = await w.client(BE);
    dom5 = await w.client(5);
  });
  afterEach(async () => {
    for (const r of running.splice(0)) await r.stop();
    for (const p of [`/local/domain/${BE}/backend`, `/local/domain/${BE}/error`, '/local/domain/5/device'])
      await w.dom0.rm(p);
  });
  afterAll(async () => {
    await w.stop();
  });

  it('runs Initialising -> InitWait -> Initialised -> Connected with the keys each end publishes', async () => {
    const dd = await driverDomain(dom1);
    const d = await addDevice(w.dom0, 5, next());
    const g = guest(dom5, d.frontend, singleRing(8));
    await g.fe.start();
    const backend = await g.fe.whenConnected();

    expect(await dom5.read(`${d.frontend}/state`)).toBe(String(S.Connected));
    expect(await dom5.read(`${d.backend}/state`)).toBe(String(S.Connected));
    // The frontend read the probe features at InitWait, and the device keys once Connected.
    expect(g.seen[0]).toMatchObject({ ...PROBE_KEYS, state: String(S.InitWait), online: '1' });
    expect(backend.keys).toMatchObject({ ...CONNECT_KEYS, state: String(S.Connected) });
    expect(backend.domid).toBe(BE);
    expect(dd.connects).toEqual([
      {
        path: d.backend,
        transport: {
          protocol: 'x86_64-abi',
          ringPageOrder: 0,
          queues: [{ dir: d.frontend, ringRefs: { 'ring-ref': [8] }, eventChannel: 7 }],
        },
      },
    ]);
    expect(dd.dir.backends.get(d.backend)?.state).toBe(S.Connected);
  });

  it('reads a multi-queue, multi-page ring from queue-N/ring-refN', async () => {
    const dd = await driverDomain(dom1);
    const d = await addDevice(w.dom0, 5, next());
    const g = guest(dom5, d.frontend, (f) => {
      expect(f['multi-queue-max-queues']).toBe('2');
      return {
        'multi-queue-num-queues': '2',
        'ring-page-order': '1',
        'queue-0/ring-ref0': '10',
        'queue-0/ring-ref1': '11',
        'queue-0/event-channel': '3',
        'queue-1/ring-ref0': '12',
        'queue-1/ring-ref1': '13',
        'queue-1/event-channel': '4',
      };
    });
    await g.fe.start();
    await g.fe.whenConnected();
    expect(dd.connects[0].transport).toEqual({
      protocol: undefined,
      ringPageOrder: 1,
      queues: [
        { dir: `${d.frontend}/queue-0`, ringRefs: { 'ring-ref': [10, 11] }, eventChannel: 3 },
        { dir: `${d.frontend}/queue-1`, ringRefs: { 'ring-ref': [12, 13] }, eventChannel: 4 },
      ],
    });
  });

  it('closes Closing -> Closed on both ends and reconnects when the frontend comes back to Initialising', async () => {
    const dd = await driverDomain(dom1);
    const d = await addDevice(w.dom0, 5, next());
    const g = guest(dom5, d.frontend, singleRing(20));
    await g.fe.start();
    await g.fe.whenConnected();

    await g.fe.close();
    expect(await dom5.read(`${d.frontend}/state`)).toBe(String(S.Closed));
    expect(await dom5.read(`${d.backend}/state`)).toBe(String(S.Closed));
    expect(dd.disconnects).toContain('frontend closed');
    expect(g.events).toEqual(['closed']);
    // online=1: the backend survives the frontend's Closed and answers Initialising with InitWait.
    expect(dd.dir.backends.get(d.backend)?.state).toBe(S.Closed);

    await g.fe.reopen();
    await g.fe.whenConnected();
    expect(dd.connects.map((c) => c.path)).toEqual([d.backend, d.backend]);
    expect(await dom5.read(`${d.backend}/state`)).toBe(String(S.Connected));
  });

  it('a restarted frontend closes the stale device first (Closing, Closed, Initialising) and connects again', async () => {
    const dd = await driverDomain(dom1);
    const d = await addDevice(w.dom0, 5, next());
    const first = guest(dom5, d.frontend, singleRing(30));
    await first.fe.start();
    await first.fe.whenConnected();
    await first.fe.stop(); // the guest rebooted: nothing written, its dir still says Connected

    const second = guest(await w.client(5), d.frontend, singleRing(31));
    await second.fe.start();
    await second.fe.whenConnected();
    expect(dd.connects.map((c) => c.transport.queues[0].ringRefs['ring-ref'])).toEqual([[30], [31]]);
    expect(dd.disconnects).toContain('frontend closed');
    expect(await dom5.read(`${d.backend}/state`)).toBe(String(S.Connected));
  });

  it('a restarted backend goes back to InitWait and the frontend reconnects with fresh keys', async () => {
    const a = await driverDomain(dom1);
    const d = await addDevice(w.dom0, 5, next());
    let ref = 40;
    const g = guest(dom5, d.frontend, () => ({ 'ring-ref': String(ref++), 'event-channel': '9' }));
    await g.fe.start();
    await g.fe.whenConnected();
    expect(g.fe.connects).toBe(1);
    await a.dir.stop(); // blkback killed: its backend state stays Connected

    const b = await driverDomain(await w.client(BE));
    await waitFor(() => g.fe.connects === 2, 5000, 'the frontend to reconnect');
    expect(g.events).toEqual(['backend-lost']);
    // The new backend waited for the re-announced keys instead of using the stale ones.
    expect(b.connects.map((c) => c.transport.queues[0].ringRefs['ring-ref'])).toEqual([[41]]);
    expect(b.log.lines.some((l) => l.includes('restarted over a live device'))).toBe(true);
    expect(await dom5.read(`${d.backend}/state`)).toBe(String(S.Connected));
    expect(await dom5.read(`${d.frontend}/state`)).toBe(String(S.Connected));
  });

  it('closes on the toolstack removal (online=0, state=Closing) and the backend lets the device go', async () => {
    const dd = await driverDomain(dom1);
    const d = await addDevice(w.dom0, 5, next());
    const g = guest(dom5, d.frontend, singleRing(50));
    await g.fe.start();
    await g.fe.whenConnected();
    const backend = dd.dir.backends.get(d.backend)!;

    await w.dom0.transaction(async (tx) => {
      await tx.write(`${d.backend}/online`, '0');
      await tx.write(`${d.backend}/state`, String(S.Closing));
    });
    await backend.done;
    expect(await dom5.read(`${d.frontend}/state`)).toBe(String(S.Closed));
    expect(await w.dom0.read(`${d.backend}/state`)).toBe(String(S.Closed));
    expect(g.events).toEqual(['backend-closing']);
    expect(dd.dir.backends.has(d.backend)).toBe(false);
  });

  it('stops a device whose backend dir the toolstack removed (xl block-detach --force)', async () => {
    const dd = await driverDomain(dom1);
    const d = await addDevice(w.dom0, 5, next());
    const g = guest(dom5, d.frontend, singleRing(70));
    await g.fe.start();
    await g.fe.whenConnected();
    const backend = dd.dir.backends.get(d.backend)!;
    await w.dom0.rm(d.backend);
    await backend.done;
    expect(dd.disconnects).toContain('device directory removed');
    await waitFor(() => !dd.dir.backends.has(d.backend), 5000);
  });

  it('runs the netif flavour: two rings per queue, the frontend publishing Connected, the backend connecting on it', async () => {
    const store = dom1;
    const connects: RingTransport[] = [];
    const dir = await XenbusBackendDir.watch<RingTransport>({
      store,
      path: `/local/domain/${BE}/backend/vbd`,
      device: () => ({
        connectOn: [S.Connected],
        handlers: {
          probe: () => ({ 'feature-rx-copy': '1' }),
          readFrontend: (r) => readRingTransport(r, { rings: ['tx-ring-ref', 'rx-ring-ref'] }),
          connect: (t) => {
            connects.push(t);
            return {};
          },
        },
      }),
    });
    running.push(dir);
    const d = await addDevice(w.dom0, 5, next());
    const fe = new XenbusFrontend({
      store: dom5,
      path: d.frontend,
      publishState: S.Connected,
      handlers: {
        publish: () => ({ 'tx-ring-ref': '80', 'rx-ring-ref': '81', 'event-channel': '6', 'request-rx-copy': '1' }),
      },
    });
    running.push(fe);
    await fe.start();
    await fe.whenConnected();
    expect(connects).toEqual([
      {
        protocol: undefined,
        ringPageOrder: 0,
        queues: [{ dir: d.frontend, ringRefs: { 'tx-ring-ref': [80], 'rx-ring-ref': [81] }, eventChannel: 6 }],
      },
    ]);
    expect(await dom5.read(`${d.backend}/state`)).toBe(String(S.Connected));
  });

  it('a restarted netif backend (connectOn Connected) waits for the re-announced keys, not the leftover ones', async () => {
    const netDomain = async (store: XenstoreClient) => {
      const log = logSink();
      const connects: RingTransport[] = [];
      const dir = await XenbusBackendDir.watch<RingTransport>({
        store,
        path: `/local/domain/${BE}/backend/vbd`,
        logger: log.logger,
        device: () => ({
          connectOn: [S.Connected],
          logger: log.logger,
          handlers: {
            probe: () => ({ 'feature-rx-copy': '1' }),
            readFrontend: (r) => readRingTransport(r, { rings: ['tx-ring-ref', 'rx-ring-ref'] }),
            connect: (t) => {
              connects.push(t);
              return {};
            },
          },
        }),
      });
      running.push(dir);
      return { dir, connects, log };
    };
    const a = await netDomain(dom1);
    const d = await addDevice(w.dom0, 5, next());
    let ref = 90;
    const fe = new XenbusFrontend({
      store: dom5,
      path: d.frontend,
      publishState: S.Connected,
      handlers: {
        publish: () => ({ 'tx-ring-ref': String(ref++), 'rx-ring-ref': String(ref++), 'event-channel': '6' }),
      },
    });
    running.push(fe);
    await fe.start();
    await fe.whenConnected();
    expect(a.connects.map((t) => t.queues[0].ringRefs)).toEqual([{ 'tx-ring-ref': [90], 'rx-ring-ref': [91] }]);
    await a.dir.stop(); // netback killed: its backend state stays Connected, the frontend's too

    const b = await netDomain(await w.client(BE));
    await waitFor(() => fe.connects === 2, 5000, 'the frontend to reconnect');
    // Only the keys published after the restart were used (Initialising -> Connected, never Initialised).
    expect(b.connects.map((t) => t.queues[0].ringRefs)).toEqual([{ 'tx-ring-ref': [92], 'rx-ring-ref': [93] }]);
    expect(b.log.lines.some((l) => l.includes('restarted over a live device'))).toBe(true);
    expect(await dom5.read(`${d.backend}/state`)).toBe(String(S.Connected));
  });

  it('a restarted backend whose frontend is a leftover that never re-announces does not connect to it', async () => {
    const a = await driverDomain(dom1);
    const d = await addDevice(w.dom0, 5, next());
    const g = guest(dom5, d.frontend, singleRing(95));
    await g.fe.start();
    await g.fe.whenConnected();
    await g.fe.stop(); // the guest hung: its dir says Connected and nobody answers
    await a.dir.stop();

    const b = await driverDomain(await w.client(BE));
    await waitFor(() => b.log.lines.some((l) => l.includes('waiting for it to re-announce')), 5000);
    expect(b.connects).toEqual([]);
    expect(await w.dom0.read(`${d.backend}/state`)).toBe(String(S.InitWait));
    // The same backend dir still connects a device whose frontend is alive.
    const live = await addDevice(w.dom0, 5, next());
    const ok = guest(dom5, live.frontend, singleRing(96));
    await ok.fe.start();
    await ok.fe.whenConnected();
    expect(b.connects.map((c) => c.path)).toEqual([live.backend]);
  });

  describe('bad frontend keys fail that device alone, with an error naming the path', () => {
    const cases: Array<[string, XenbusKeys, string, string]> = [
      [
        'a ring-ref that is not a number',
        { 'ring-ref': 'abc', 'event-channel': '5' },
        'ring-ref',
        'not an unsigned decimal',
      ],
      ['a missing event-channel', { 'ring-ref': '8' }, 'event-channel', 'missing'],
      [
        'more queues than offered',
        { 'multi-queue-num-queues': '3', 'ring-ref': '8', 'event-channel': '5' },
        'multi-queue-num-queues',
        'outside 1..2',
      ],
      [
        'a ring-page-order above max-ring-page-order',
        { 'ring-page-order': '2', 'ring-ref0': '8', 'event-channel': '5' },
        'ring-page-order',
        'outside 0..1',
      ],
      ['an unknown protocol', { 'ring-ref': '8', 'event-channel': '5', protocol: 'sparc-abi' }, 'protocol', 'none of'],
      ['event-channel 0', { 'ring-ref': '8', 'event-channel': '0' }, 'event-channel', 'outside 1..'],
    ];
    it.each(cases)('%s', async (_name, keys, key, why) => {
      const dd = await driverDomain(dom1);
      const bad = await addDevice(w.dom0, 5, next());
      const good = await addDevice(w.dom0, 5, next());
      const g = guest(dom5, bad.frontend, () => keys);
      const ok = guest(dom5, good.frontend, singleRing(60));
      await Promise.all([g.fe.start(), ok.fe.start()]);

      const err = await g.fe.whenConnected().catch((e: Error) => e);
      expect(err).toMatchObject({ kind: 'ESHUTDOWN' });
      await ok.fe.whenConnected();

      const recorded = await w.dom0.read(
        `/local/domain/${BE}/error/backend/vbd/5/${bad.frontend.split('/').pop()}/error`,
      );
      expect(recorded).toMatch(new RegExp(`^(22|2) ${bad.frontend}/${key}: .*${why}`));
      expect(dd.log.lines.some((l) => l.startsWith('error') && l.includes(`${bad.frontend}/${key}`))).toBe(true);
      // Closing on the backend's side, Closed on the frontend's, then Closed both: the backend stays (online=1).
      await waitFor(async () => (await w.dom0.read(`${bad.backend}/state`)) === String(S.Closed), 5000);
      expect(await w.dom0.read(`${bad.frontend}/state`)).toBe(String(S.Closed));
      expect(g.events).toEqual(['backend-closing']);
      // The good device beside it connected on the same backend dir.
      expect(dd.connects.map((c) => c.path)).toEqual([good.backend]);
      expect(await w.dom0.read(`${good.backend}/state`)).toBe(String(S.Connected));
    });
  });
});

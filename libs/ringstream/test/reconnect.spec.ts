// A backend killed mid-flight (every stream cut at once) and started again on the same port: the frontend
// dials again with backoff, its FrontRing re-issues the requests that were in flight on the new stream, and
// every one of them completes. The test first proves requests were in flight at the kill.
import { afterEach, describe, expect, it } from '@jest/globals';
import { waitFor } from '@dominion/testing';
import { status } from '@grpc/grpc-js';
import { Backend, Front, RawRingClient, domain, pattern, target, vbdDevice, type Domain } from './fixtures.js';

const dom5: Domain = domain(5);
const servers: Backend[] = [];
const fronts: Front[] = [];

async function backend(port = 0): Promise<Backend> {
  const be = await new Backend().listen(port);
  be.keys.set(5, dom5.key);
  be.devices.set(vbdDevice(5), { frontendId: 5, ringRefs: [8], alive: true });
  servers.push(be);
  return be;
}

afterEach(() => {
  for (const f of fronts.splice(0)) f.stream.close();
  for (const s of servers.splice(0)) s.kill();
});

describe('ring stream reconnection', () => {
  it('re-issues the requests in flight at a backend kill on the new backend, and all complete', async () => {
    const first = await backend();
    const port = first.port;
    const f = new Front(dom5, () => target(first, 5, 8)).start();
    fronts.push(f);
    await f.stream.whenConnected();
    expect((await f.write(0, pattern(100))).status).toBe(0);

    first.gate.close();
    const n = 20;
    const writes = Array.from({ length: n }, (_, i) => f.write((i + 1) * 8, pattern(i)));
    // every one reached the backend and none was answered: they are in flight
    await waitFor(() => first.held === n, 5000, 'requests held by the backend');
    expect(f.ring.inFlight).toBe(n);

    first.kill();
    await waitFor(() => f.stream.state !== 'connected', 5000, 'the frontend to see the stream break');
    expect(f.ring.inFlight).toBe(n);

    const second = await backend(port);
    await f.stream.whenConnected();
    expect(f.stream.connects).toBe(2);
    expect(f.ring.reissued).toBe(n);
    const done = await Promise.all(writes);
    expect(done.every((r) => r.status === 0)).toBe(true);
    expect(second.served.length).toBe(n);
    for (let i = 0; i < n; i++) {
      const at = (i + 1) * 4096;
      expect(Buffer.compare(second.disk.subarray(at, at + 4096), pattern(i))).toBe(0);
    }
    // the first backend answered none of them
    expect(first.served.map((s) => s.id)).toEqual([1n]);
    expect(f.grants.size).toBe(0);
  });

  it('keeps redialing while the backend is down, then reads what it could not read before', async () => {
    const first = await backend();
    const port = first.port;
    const f = new Front(dom5, () => target(first, 5, 8)).start();
    fronts.push(f);
    await f.stream.whenConnected();
    first.kill();
    await waitFor(() => f.stream.state === 'retrying', 5000, 'retrying');
    // submitted while no backend runs: waits in its slot
    const read = f.read(0);
    await new Promise((r) => setTimeout(r, 150));
    expect(f.ring.inFlight).toBe(1);
    expect(['retrying', 'connecting']).toContain(f.stream.state);

    const second = await backend(port);
    second.disk.set(pattern(7), 0);
    const { rsp, page } = await read;
    expect(rsp.status).toBe(0);
    expect(page.equals(pattern(7))).toBe(true);
    expect(f.ring.reissued).toBe(0); // never pushed before: a first issue, not a re-issue
  });

  it('a target that cannot be read (EACCES from XenStore) is retried, not taken for a refusal', async () => {
    const be = await backend();
    let reads = 0;
    const f = new Front(dom5, () => {
      if (reads++ < 2)
        throw Object.assign(new Error('XS_READ /local/domain/1/backend/vbd/5/51712/grpc-endpoint: EACCES'), {
          kind: 'EACCES',
        });
      return target(be, 5, 8);
    }).start();
    fronts.push(f);
    await f.stream.whenConnected();
    expect(reads).toBe(3);
    expect((await f.write(0, pattern(5))).status).toBe(0);
  });

  it('two rings of one queue (other ring-refs) stand side by side; a redial supersedes only its own ring', async () => {
    const be = await backend();
    be.devices.set(vbdDevice(5), { frontendId: 5, ringRefs: [[8, 9]], alive: true });
    const a = new Front(dom5, target(be, 5, 8)).start();
    const b = new Front(dom5, target(be, 5, 9)).start();
    fronts.push(a, b);
    await Promise.all([a.stream.whenConnected(), b.stream.whenConnected()]);
    expect(be.svc.connected).toBe(2);
    const old = new RawRingClient(be.endpoint);
    try {
      await old.connect(dom5, target(be, 5, 9));
      // ring-ref 9 again: the old stream of that ring went, ring-ref 8's stayed.
      await waitFor(() => b.stream.state !== 'connected', 5000, 'ring-ref 9 superseded');
      expect(a.stream.state).toBe('connected');
      expect(be.svc.connected).toBe(2);
      expect((await a.write(0, pattern(4))).status).toBe(0);
      expect(be.svc.detach({ ringRef: 8 }, 'ring 8 detached')).toBe(1);
      await waitFor(() => a.stream.state !== 'connected', 5000, 'ring-ref 8 detached');
    } finally {
      old.close();
    }
  });

  it('a new stream from the same frontend supersedes a half-dead old one on the backend', async () => {
    const be = await backend();
    // The old stream: connected, then silent, as one whose frontend vanished without a FIN would be.
    const old = new RawRingClient(be.endpoint);
    try {
      await old.connect(dom5, target(be, 5, 8));
      expect(old.received.map((m) => m.msg)).toEqual(['challenge', 'connected']);
      const f = new Front(dom5, target(be, 5, 8)).start();
      fronts.push(f);
      await f.stream.whenConnected();
      const st = await old.status;
      expect(st.code).toBe(status.UNAVAILABLE);
      expect(st.details).toContain('superseded by a new stream');
      expect(be.svc.connected).toBe(1);
      expect((await f.write(0, pattern(3))).status).toBe(0);
    } finally {
      old.close();
    }
  });
});

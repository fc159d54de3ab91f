// A backend accepts a ring stream only from the device's frontend: the proof must verify against the key
// of the domain the Hello names, and that domain must be the device's frontend-id, with the ring-ref it
// wrote, and alive. Each refusal is shown beside the rightful frontend's stream working on the same server.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { status } from '@grpc/grpc-js';
import { BusError } from '@dominion/bus';
import { Backend, Front, domain, pattern, target, vbdDevice, RawRingClient, type Domain } from './fixtures.js';

const dom5: Domain = domain(5);
const dom6: Domain = domain(6);
const dom7: Domain = domain(7);
let be: Backend;
let rightful: Front;
const others: Front[] = [];

beforeAll(async () => {
  be = await new Backend().listen();
  be.keys.set(5, dom5.key).set(6, dom6.key).set(7, dom7.key);
  be.devices.set(vbdDevice(5), { frontendId: 5, ringRefs: [8], alive: true });
  be.devices.set(vbdDevice(7), { frontendId: 7, ringRefs: [8], alive: false });
  rightful = new Front(dom5, target(be, 5, 8)).start();
  await rightful.stream.whenConnected();
});

afterAll(() => {
  for (const f of [rightful, ...others]) f.stream.close();
  be.kill();
});

/** Dials as `f` and waits for the refusal; then checks the rightful stream still serves I/O. */
async function refused(f: Front): Promise<Error> {
  others.push(f);
  f.stream.start();
  await expect(f.stream.whenConnected()).rejects.toThrow();
  expect(f.stream.state).toBe('refused');
  expect(f.ring.state).toBe('disconnected');
  const w = await rightful.write(0, pattern(9));
  expect(w.status).toBe(0);
  expect(Buffer.compare(be.disk.subarray(0, 4096), pattern(9))).toBe(0);
  expect(rightful.stream.state).toBe('connected');
  return f.stream.lastError!;
}

describe('ring stream refusals', () => {
  it('refuses dom6 claiming to be dom5: the proof does not verify against dom5 key', async () => {
    const err = await refused(new Front(dom6, target(be, 5, 8), { claim: 5 }));
    expect((err as { kind?: string }).kind).toBe('EACCES');
    expect(err.message).toContain(`ring stream of dom5 for ${vbdDevice(5)} queue 0 on backend 1 refused`);
    expect(err.message).toContain(`signature does not verify against dom5's key ${dom5.key}`);
  });

  it('refuses dom6, honest about itself, on dom5 device: frontend-id is 5', async () => {
    const err = await refused(new Front(dom6, target(be, 5, 8)));
    expect(err.message).toContain(`ring stream of dom6 for ${vbdDevice(5)} queue 0 on backend 1 refused`);
    expect(err.message).toContain('frontend-id of /local/domain/1/backend/vbd/5/51712 is 5');
  });

  it('refuses dom5 naming a ring-ref it did not write', async () => {
    const err = await refused(new Front(dom5, target(be, 5, 9)));
    expect(err.message).toContain('queue-0/ring-ref of dom5 is 8, not 9');
  });

  it('refuses a domain that is not alive, on its own device', async () => {
    const err = await refused(new Front(dom7, target(be, 7, 8)));
    expect(err.message).toContain('dom7 is dying');
  });

  it('ends a refused stream with PERMISSION_DENIED naming the domain and the device, and keeps no stream', async () => {
    const raw = new RawRingClient(be.endpoint);
    try {
      await raw.connect(dom6, target(be, 5, 8));
      const st = await raw.status;
      expect(st.code).toBe(status.PERMISSION_DENIED);
      expect(st.details).toContain(`dom6 for ${vbdDevice(5)}`);
      expect(st.metadata.get('xen-errno')).toEqual(['EACCES']);
      expect(raw.received.map((m) => m.msg)).toEqual(['challenge']);
    } finally {
      raw.close();
    }
    expect(be.svc.connected).toBe(1);
    expect((await rightful.read(0)).page.equals(pattern(9))).toBe(true);
  });

  it('a check that could not be made is no refusal: the frontend retries on its own', async () => {
    be.devices.set(vbdDevice(8), { frontendId: 8, ringRefs: [8], alive: true });
    const dom8 = domain(8);
    be.keys.set(8, dom8.key);
    let busy = 2;
    const authorize = be.authorizeHook;
    be.authorizeHook = (h) => {
      if (h.frontendDomid === 8 && busy-- > 0) throw new BusError('EAGAIN', 'xenstored busy');
      return authorize?.(h);
    };
    try {
      const f = new Front(dom8, target(be, 8, 8)).start();
      others.push(f);
      await f.stream.whenConnected();
      expect(f.stream.connects).toBe(1);
      expect(busy).toBe(-1);
      expect((await f.write(24, pattern(8))).status).toBe(0);
    } finally {
      be.authorizeHook = authorize;
    }
  });

  it('a refused frontend tries again on kick() and connects once the backend agrees', async () => {
    be.devices.set(vbdDevice(6), { frontendId: 6, ringRefs: [8], alive: true });
    be.keys.delete(6);
    const f = new Front(dom6, target(be, 6, 8));
    const err = await refused(f);
    expect(err.message).toContain('dom6 has no key');
    be.keys.set(6, dom6.key);
    f.stream.kick();
    await f.stream.whenConnected();
    expect((await f.write(16, pattern(6))).status).toBe(0);
  });
});

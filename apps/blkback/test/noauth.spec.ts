// A bus without auth: the hypervisor mints no identities (getdomainkey: ENOSYS), frontends sign with the
// published NOAUTH seed, and blkback accepts their streams on its XenStore and liveness checks alone. A
// proof signed with any other key is refused, and so is another domain's stream, beside the rightful one.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createUser, fromSeed } from '@nats-io/nkeys';
import type { INestApplicationContext } from '@nestjs/common';
import { HypervisorClient } from '@dominion/hypervisor';
import { seedText } from '@dominion/identity';
import { NOAUTH_RING_KEY } from '@dominion/identity';
import { FrontVbd, NOAUTH_RING_SEED, addVbd, pattern, startBlkbackInProcess, startWorld, type World } from './world.js';

let w: World;
let app: INestApplicationContext;
const fronts: FrontVbd[] = [];

beforeAll(async () => {
  w = await startWorld(2, { identities: false });
  ({ app } = await startBlkbackInProcess(w));
});

afterAll(async () => {
  for (const f of fronts) f.close();
  await app?.close();
  await w?.stop();
});

describe('blkback on a bus without auth', () => {
  it('the NOAUTH key is the public half of the published seed; getdomainkey answers ENOSYS', async () => {
    expect(fromSeed(new TextEncoder().encode(NOAUTH_RING_SEED)).getPublicKey()).toBe(NOAUTH_RING_KEY);
    await expect(w.hv0.getDomainKey(w.guests[0].domid)).rejects.toMatchObject({ kind: 'ENOSYS' });
  });

  it('accepts the NOAUTH proof of the device frontend, and refuses another key and another domain beside it', async () => {
    const [g0, g1] = w.guests;
    const dirs = await addVbd(w, g0.domid, 51712, { params: 'n.img', size: '1M' });
    const hv0 = new HypervisorClient(await w.nc(), g0.domid);
    const rightful = new FrontVbd(g0, await w.client(g0.domid), hv0, dirs, w.be.domid);
    fronts.push(rightful);
    await rightful.connect();
    expect((await rightful.write(0, pattern(1))).status).toBe(0);

    const ownKey = createUser();
    const stranger = new FrontVbd({ ...g0, seed: seedText(ownKey) }, w.dom0, hv0, dirs, w.be.domid);
    const other = new FrontVbd(g1, w.dom0, hv0, dirs, w.be.domid);
    for (const f of [stranger, other]) {
      fronts.push(f);
      f.ringRef = rightful.ringRef;
      f.stream.start();
      await expect(f.stream.whenConnected()).rejects.toThrow();
    }
    expect(stranger.stream.lastError?.message).toContain(
      `signature does not verify against dom${g0.domid}'s key ${NOAUTH_RING_KEY}`,
    );
    expect(other.stream.lastError?.message).toContain(`frontend-id of ${dirs.backend} is ${g0.domid}, not ${g1.domid}`);
    expect((await rightful.read(0)).data.equals(pattern(1))).toBe(true);
  });
});

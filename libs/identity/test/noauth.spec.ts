import { createUser, fromSeed } from '@nats-io/nkeys';
import { NOAUTH_RING_KEY, NOAUTH_RING_SEED } from '../src/index.js';

describe('the no-auth ring pair', () => {
  it('is a user key pair whose seed signs for the published key, unlike any fresh user', () => {
    const kp = fromSeed(new TextEncoder().encode(NOAUTH_RING_SEED));
    expect(kp.getPublicKey()).toBe(NOAUTH_RING_KEY);
    expect(NOAUTH_RING_KEY.startsWith('U')).toBe(true);
    expect(createUser().getPublicKey()).not.toBe(NOAUTH_RING_KEY);
  });
});

// Nothing connects to the operator-mode server without valid credentials minted for this account.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { createAccount as newAccountKey, createUser as newUserKey, fromSeed } from '@nats-io/nkeys';
import { encodeUser, fmtCreds } from '@nats-io/jwt';
import { tempDir, type NatsServerHandle } from '@dominion/testing';
import {
  IdentityStore,
  credsText,
  mintDomainUser,
  permissionsFor,
  seedOfCreds,
  type MintedUser,
} from '../src/index.js';
import { connectAs, connectDomain, startOperatorServer, type Client } from './helpers.js';

const enc = new TextEncoder();

describe('connecting to the operator-mode server', () => {
  const tmp = tempDir('identity-connect-');
  let server: NatsServerHandle;
  let store: IdentityStore;
  let g5: MintedUser;
  const open: Client[] = [];

  beforeAll(async () => {
    store = await IdentityStore.open(join(tmp.path, 'identity'));
    server = await startOperatorServer(store, tmp.path);
    g5 = await mintDomainUser(store.account, 5, 'guest');
  });

  afterAll(async () => {
    await Promise.all(open.map((c) => c.nc.close()));
    await server?.stop();
    tmp.remove();
  });

  it('accepts minted credentials', async () => {
    const c = await connectDomain(server.url, g5);
    open.push(c);
    await c.nc.flush();
    expect(c.nc.isClosed()).toBe(false);
  });

  it('refuses a client with no credentials', async () => {
    await expect(connect({ servers: server.url, reconnect: false })).rejects.toThrow(/authorization/i);
  });

  it('refuses a stolen JWT presented with another key', async () => {
    const thief = newUserKey();
    await expect(connectAs(server.url, credsText(g5.jwt, thief), g5.inboxPrefix)).rejects.toThrow(/authorization/i);
  });

  it('refuses a user signed by a key that is not the account’s signing key', async () => {
    const rogue = newAccountKey();
    const ukp = newUserKey();
    const perms = permissionsFor('guest', 5);
    const jwt = await encodeUser(
      'dom5',
      ukp,
      store.account.publicKey,
      { pub: { allow: perms.pub }, sub: { allow: perms.sub } },
      { signer: rogue },
    );
    await expect(connectAs(server.url, new TextDecoder().decode(fmtCreds(jwt, ukp)), g5.inboxPrefix)).rejects.toThrow(
      /authorization/i,
    );
    // The same user signed by the real signing key gets in.
    const signer = fromSeed(enc.encode(store.account.signingSeed));
    const good = await encodeUser(
      'dom5',
      ukp,
      store.account.publicKey,
      { pub: { allow: perms.pub }, sub: { allow: perms.sub } },
      { signer },
    );
    const c = await connectAs(server.url, new TextDecoder().decode(fmtCreds(good, ukp)), g5.inboxPrefix);
    open.push(c);
    expect(c.nc.isClosed()).toBe(false);
  });

  it('refuses an expired JWT and accepts one that has not expired', async () => {
    const expired = await mintDomainUser(store.account, 6, 'guest', { expiresInSec: 1, now: Date.now() - 10_000 });
    await expect(connectDomain(server.url, expired)).rejects.toThrow(/expired|authorization/i);
    const fresh = await mintDomainUser(store.account, 6, 'guest', { expiresInSec: 60 });
    const c = await connectDomain(server.url, fresh);
    open.push(c);
    expect(c.nc.isClosed()).toBe(false);
    expect(seedOfCreds(fresh.creds)).toBe(fresh.seed);
  });
});

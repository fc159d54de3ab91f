// Revocation against a real nats-server with the full resolver: pushed, in force within a second, refused on
// reconnect, applied to users not connected, and still in force after restarts (also with the server's
// resolver directory lost, from the store's persisted account JWT alone).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { tempDir, waitFor, type NatsServerHandle } from '@dominion/testing';
import {
  IdentityError,
  IdentityStore,
  mintDomainUser,
  pushAccountJwt,
  revocationsOf,
  revokeUser,
  type MintedUser,
} from '../src/index.js';
import { collect, connectAs, connectDomain, startOperatorServer, text, type Client } from './helpers.js';

describe('revocation', () => {
  const tmp = tempDir('identity-revoke-');
  const storeDir = join(tmp.path, 'identity');
  let server: NatsServerHandle;
  let store: IdentityStore;
  let sys: Client;
  const open: Client[] = [];
  let g8: MintedUser, g9: MintedUser, g10: MintedUser;

  async function connectSys(url: string): Promise<Client> {
    const c = await connectAs(url, store.system.user.creds, store.system.user.inboxPrefix);
    open.push(c);
    return c;
  }

  beforeAll(async () => {
    store = await IdentityStore.open(storeDir);
    server = await startOperatorServer(store, tmp.path);
    sys = await connectSys(server.url);
    g8 = await mintDomainUser(store.account, 8, 'guest');
    g9 = await mintDomainUser(store.account, 9, 'guest');
    g10 = await mintDomainUser(store.account, 10, 'guest');
  });

  afterAll(async () => {
    await Promise.all(open.map((c) => c.nc.close()));
    await server?.stop();
    tmp.remove();
  });

  it('cuts a connected domain off within a second and refuses its reconnects; others stay connected', async () => {
    const victim = await connectDomain(server.url, g8, { reconnect: true });
    const other = await connectDomain(server.url, g9);
    open.push(victim, other);
    const inbox = collect(other.nc, 'xen.evtchn.9.>');
    await other.nc.flush();
    victim.nc.publish('xen.evtchn.9.1.8', text('before'));
    await waitFor(() => inbox.got.length === 1, 2000, 'the notification sent before revocation');

    const t0 = performance.now();
    await revokeUser(store, sys.nc, g8.userPublicKey);
    await waitFor(() => victim.events.includes('disconnect'), 1000, 'the revoked domain to be disconnected');
    const cutMs = performance.now() - t0;
    expect(cutMs).toBeLessThan(1000);
    expect(victim.errors.map((e) => e.message).join('\n')).toMatch(/revoked/i);

    // What it publishes now goes nowhere, while the domain next to it still talks.
    try {
      victim.nc.publish('xen.evtchn.9.1.8', text('after'));
    } catch {
      // a closed connection throws: refused just the same
    }
    other.nc.publish('xen.evtchn.9.2.9', text('still here'));
    await waitFor(() => inbox.got.length === 2, 2000, "the live domain's own notification");
    await other.nc.flush();
    expect(inbox.subjects()).toEqual(['xen.evtchn.9.1.8', 'xen.evtchn.9.2.9']);

    await expect(connectDomain(server.url, g8)).rejects.toThrow(/authorization/i);
    const again = await connectDomain(server.url, g9);
    open.push(again);
    expect(again.nc.isClosed()).toBe(false);
  });

  it('refuses a revoked user that was not connected when the revocation was pushed', async () => {
    await revokeUser(store, sys.nc, g10.userPublicKey);
    await expect(connectDomain(server.url, g10)).rejects.toThrow(/authorization/i);
  });

  it('keeps concurrent revocations: neither overwrites the other', async () => {
    const a = await mintDomainUser(store.account, 11, 'guest');
    const b = await mintDomainUser(store.account, 12, 'driver');
    await Promise.all([revokeUser(store, sys.nc, a.userPublicKey), revokeUser(store, sys.nc, b.userPublicKey)]);
    expect(Object.keys(revocationsOf(store.account.jwt))).toEqual(
      expect.arrayContaining([g8.userPublicKey, g10.userPublicKey, a.userPublicKey, b.userPublicKey]),
    );
    await expect(connectDomain(server.url, a)).rejects.toThrow(/authorization/i);
    await expect(connectDomain(server.url, b)).rejects.toThrow(/authorization/i);
  });

  it('reports a claims update the server refuses', async () => {
    await expect(pushAccountJwt(sys.nc, 'not.a.jwt')).rejects.toMatchObject({ kind: 'EIO' });
    await expect(pushAccountJwt(sys.nc, 'not.a.jwt')).rejects.toBeInstanceOf(IdentityError);
  });

  it('survives a nats-server restart, with its resolver directory and without it', async () => {
    // A restarted hypervisor reads the revocations back from its store.
    const reopened = await IdentityStore.open(storeDir);
    expect(Object.keys(revocationsOf(reopened.account.jwt))).toEqual(
      expect.arrayContaining([g8.userPublicKey, g10.userPublicKey]),
    );
    for (const resolverDir of [join(tmp.path, 'jwt'), join(tmp.path, 'jwt-lost')]) {
      await Promise.all(open.splice(0).map((c) => c.nc.close()));
      await server.stop();
      server = await startOperatorServer(reopened, tmp.path, resolverDir);
      await expect(connectDomain(server.url, g8)).rejects.toThrow(/authorization/i);
      await expect(connectDomain(server.url, g10)).rejects.toThrow(/authorization/i);
      const live = await connectDomain(server.url, g9);
      open.push(live);
      await live.nc.flush();
      expect(live.nc.isClosed()).toBe(false);
    }
  });
});

// Each domain's NATS identity, held by the hypervisor (issue 3): it mints a fresh user for every domain it
// creates and revokes that user when the domain is destroyed. Only the hypervisor is given the identity
// store (DOMINION_IDENTITY_DIR): it holds the account signing key and the system user that pushes claims.
//
// A domain crashed by liveness (or reportexit) keeps its credentials: the toolstack decides what happens to
// a crashed domain (restart, preserve, destroy), and only destroydomain revokes.
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import type { DomId } from '@dominion/abi';
import { IdentityStore, mintDomainUser, revokeUser } from '@dominion/identity';

/** What createdomain returns to the control domain for the new domain's process (a secret: never log it). */
export interface DomainCredentials {
  /** The .creds file text (user JWT + nkey seed). */
  creds: string;
  /** The client option `inboxPrefix` the domain must use. */
  inbox_prefix: string;
}

export class DomainIdentities {
  /** domid -> the user key of its current incarnation (what destroydomain revokes). */
  private readonly users = new Map<DomId, string>();

  private constructor(
    private readonly store: IdentityStore,
    private readonly sys: NatsConnection,
  ) {}

  /** Opens the store in `dir` and connects its system user to `natsUrl`. */
  static async open(dir: string, natsUrl: string): Promise<DomainIdentities> {
    const store = await IdentityStore.open(dir);
    const sys = await connect({
      servers: natsUrl,
      name: 'hypervisor-claims',
      authenticator: credsAuthenticator(new TextEncoder().encode(store.system.user.creds)),
      inboxPrefix: store.system.user.inboxPrefix,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    return new DomainIdentities(store, sys);
  }

  /** Mints the credentials of a new domain: a driver domain's role, or a guest's. */
  async mint(domid: DomId, driverDomain: boolean): Promise<DomainCredentials> {
    const u = await mintDomainUser(this.store.account, domid, driverDomain ? 'driver' : 'guest');
    this.users.set(domid, u.userPublicKey);
    return { creds: u.creds, inbox_prefix: u.inboxPrefix };
  }

  /** The user key recorded for `domid`, if the hypervisor minted one. */
  userOf(domid: DomId): string | undefined {
    return this.users.get(domid);
  }

  /** Revokes `domid`'s user: the server disconnects it at once and refuses its reconnects. */
  async revoke(domid: DomId): Promise<boolean> {
    const key = this.users.get(domid);
    if (key === undefined) return false;
    await revokeUser(this.store, this.sys, key);
    this.users.delete(domid);
    return true;
  }

  async close(): Promise<void> {
    if (!this.sys.isClosed()) await this.sys.close();
  }
}

// Each domain's NATS identity, held by the hypervisor (issue 3): it mints a fresh user for every domain it
// creates and revokes that user when the domain is destroyed. Only the hypervisor is given the identity
// store (DOMINION_IDENTITY_DIR): it holds the account signing key and the system user that pushes claims.
//
// The domid -> user key map is persisted (domain-keys.json, written before createdomain answers), so that
// a restarted hypervisor still knows every key it handed out. A crash of the domain (liveness, reportexit)
// does not revoke: the toolstack decides what happens to a crashed domain, and only destroydomain revokes.
// dom0's key is the launcher's (launched-keys.json, read once): getdomainkey answers it too.
import { join } from 'node:path';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import type { DomId } from '@dominion/abi';
import {
  DOMAIN_KEYS_FILE,
  IdentityStore,
  LAUNCHED_KEYS_FILE,
  IdentityError,
  UserKeyTable,
  inboxPrefixOf,
  issueUserJwt,
  mintDomainUser,
  revocationsOf,
  revokeUser,
} from '@dominion/identity';

/**
 * What createdomain returns to the control domain for the new domain's process: a .creds text (user JWT +
 * nkey seed; a secret, never logged) when the hypervisor made the key, or only the JWT when the domain's
 * service made its own key (createdomain's `user_key`, the bootstrap exchange).
 */
export type DomainCredentials =
  | {
      creds: string;
      /** The client option `inboxPrefix` the domain must use. */
      inbox_prefix: string;
    }
  | { jwt: string; inbox_prefix: string };

export class DomainIdentities {
  private constructor(
    private readonly store: IdentityStore,
    private readonly sys: NatsConnection,
    /** domid -> the user key of its current incarnation (what destroydomain revokes). */
    private readonly users: UserKeyTable,
    /** The launcher's keys (dom0's): answered by getdomainkey, never revoked here. */
    private readonly launched: UserKeyTable,
  ) {}

  /** Opens the store in `dir` with its key tables, and connects its system user to `natsUrl`. */
  static async open(dir: string, natsUrl: string): Promise<DomainIdentities> {
    const store = await IdentityStore.open(dir);
    const users = await UserKeyTable.open(join(dir, DOMAIN_KEYS_FILE));
    const launched = await UserKeyTable.open(join(dir, LAUNCHED_KEYS_FILE));
    const sys = await connect({
      servers: natsUrl,
      name: 'hypervisor-claims',
      authenticator: credsAuthenticator(new TextEncoder().encode(store.system.user.creds)),
      inboxPrefix: store.system.user.inboxPrefix,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    return new DomainIdentities(store, sys, users, launched);
  }

  /**
   * Mints the credentials of a new domain (a driver domain's role, or a guest's) and records its key before
   * they are handed out. A key still on record for the domid (a revocation that failed earlier) is revoked
   * first: a domid handed out again must not bring back its previous holder.
   */
  async mint(domid: DomId, driverDomain: boolean, userKey?: string): Promise<DomainCredentials> {
    const stale = this.users.get(domid);
    if (stale) await revokeUser(this.store, this.sys, stale.key);
    const role = driverDomain ? 'driver' : 'guest';
    if (userKey !== undefined) {
      // A key shown by a service that bootstraps: it must not be one already revoked or in use.
      if (this.isKnownKey(userKey))
        throw new IdentityError('EINVAL', `domain ${domid}: user key ${userKey} was already given to a domain`);
      const { jwt } = await issueUserJwt(this.store.account, domid, role, userKey);
      await this.users.set(domid, { key: userKey, role });
      return { jwt, inbox_prefix: inboxPrefixOf(domid) };
    }
    const u = await mintDomainUser(this.store.account, domid, role);
    await this.users.set(domid, { key: u.userPublicKey, role });
    return { creds: u.creds, inbox_prefix: u.inboxPrefix };
  }

  private isKnownKey(key: string): boolean {
    if (revocationsOf(this.store.account.jwt)[key] !== undefined) return true;
    return [...this.users.entries(), ...this.launched.entries()].some(([, e]) => e.key === key);
  }

  /** The user key of `domid`'s current incarnation, if one is on record (the hypervisor's, or dom0's). */
  userOf(domid: DomId): string | undefined {
    return (this.users.get(domid) ?? (domid === 0 ? this.launched.get(0) : undefined))?.key;
  }

  /** Revokes `domid`'s user: the server disconnects it at once and refuses its reconnects. */
  async revoke(domid: DomId): Promise<boolean> {
    const e = this.users.get(domid);
    if (e === undefined) return false;
    await revokeUser(this.store, this.sys, e.key);
    await this.users.delete(domid);
    return true;
  }

  /**
   * Revokes, in one claims update, every recorded user whose domain is not `live`: at start, the domains a
   * previous incarnation of the hypervisor created and this one does not know (its domain table is not
   * persisted). Their domids are free again, so their holders must lose them now. Resolves the domids.
   */
  async revokeAllBut(live: ReadonlySet<DomId>): Promise<DomId[]> {
    const gone = this.users.entries().filter(([d]) => !live.has(d));
    if (gone.length === 0) return [];
    await revokeUser(
      this.store,
      this.sys,
      gone.map(([, e]) => e.key),
    );
    const domids = gone.map(([d]) => d);
    await this.users.delete(...domids);
    return domids;
  }

  async close(): Promise<void> {
    if (!this.sys.isClosed()) await this.sys.close();
  }
}

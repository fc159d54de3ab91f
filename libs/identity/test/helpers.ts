// A real nats-server in operator mode, configured by the library under test, and clients logged in with
// minted credentials.
import { join } from 'node:path';
import { connect, credsAuthenticator, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { freePort, startNatsServer, waitFor, type NatsServerHandle } from '@dominion/testing';
import { writeNatsServerConfig, type IdentityMaterial, type MintedUser } from '../src/index.js';

export async function startOperatorServer(
  material: IdentityMaterial,
  dir: string,
  resolverDir = join(dir, 'jwt'),
): Promise<NatsServerHandle> {
  const port = await freePort();
  const conf = join(dir, 'nats-server.conf');
  await writeNatsServerConfig(material, conf, { port, resolverDir });
  return startNatsServer({ noDefaultListen: true, args: ['-c', conf] });
}

export interface Client {
  nc: NatsConnection;
  /** Server errors this connection received (permission violations, revocation). */
  errors: Error[];
  /** Every status event type, in order. */
  events: string[];
  waitViolation(operation: 'publish' | 'subscription', subject: string): Promise<void>;
}

function watch(nc: NatsConnection): Client {
  const errors: Error[] = [];
  const events: string[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      events.push(s.type);
      if (s.type === 'error') errors.push(s.error);
    }
  })();
  return {
    nc,
    errors,
    events,
    waitViolation: async (operation, subject) => {
      await waitFor(
        () =>
          errors.some((e) => {
            const pe = e as { name?: string; operation?: string; subject?: string };
            return pe.name === 'PermissionViolationError' && pe.operation === operation && pe.subject === subject;
          }),
        3000,
        `a ${operation} violation on ${subject}`,
      );
    },
  };
}

export async function connectAs(
  url: string,
  creds: string,
  inboxPrefix: string | undefined,
  opts: { reconnect?: boolean } = {},
): Promise<Client> {
  const nc = await connect({
    servers: url,
    authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
    inboxPrefix,
    reconnect: opts.reconnect ?? false,
  });
  return watch(nc);
}

export function connectDomain(url: string, u: MintedUser, opts: { reconnect?: boolean } = {}): Promise<Client> {
  return connectAs(url, u.creds, u.inboxPrefix, opts);
}

export interface Collector {
  subs: Subscription[];
  got: Msg[];
  subjects(): string[];
  unsubscribe(): void;
}

/** Collects, in arrival order, what one connection receives on some subscriptions. */
export function collect(nc: NatsConnection, ...patterns: string[]): Collector {
  const got: Msg[] = [];
  const subs = patterns.map((p) =>
    nc.subscribe(p, {
      callback: (err, m) => {
        if (!err) got.push(m);
      },
    }),
  );
  return {
    subs,
    got,
    subjects: () => got.map((m) => m.subject),
    unsubscribe: () => subs.forEach((s) => s.unsubscribe()),
  };
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

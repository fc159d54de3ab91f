import { readFile } from 'node:fs/promises';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import type { DomainConfig } from './config.js';

/** Connects to the bus with the credentials the config names; reconnects forever. */
export async function connectBus(cfg: DomainConfig, name?: string): Promise<NatsConnection> {
  const authenticator = cfg.natsCredsFile ? credsAuthenticator(await readFile(cfg.natsCredsFile)) : undefined;
  return connect({
    servers: cfg.natsUrl,
    name: name ?? `${cfg.service}${cfg.domid !== undefined ? `:${cfg.domid}` : ''}`,
    token: cfg.natsToken,
    authenticator,
    inboxPrefix: cfg.natsInboxPrefix,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  });
}

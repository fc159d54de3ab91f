// How zfs and zpool, acting as dom0, find the bus: as xl does (apps/xl/src/bus-location.ts; apps never import
// apps), DOMINION_NATS_URL (with DOMINION_NATS_CREDS and DOMINION_NATS_INBOX_PREFIX) when set, else the
// bus.json the launcher writes into DOMINION_HOME while the system is up.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { busRequest, subjects } from '@dominion/bus';
import type { ZfsCall } from './io.js';

type Env = Record<string, string | undefined>;

export interface BusLocation {
  url: string;
  creds?: string;
  inboxPrefix?: string;
  source: string;
}

export function findBus(env: Env, repoRoot: string): BusLocation {
  if (env.DOMINION_NATS_URL)
    return {
      url: env.DOMINION_NATS_URL,
      creds: env.DOMINION_NATS_CREDS || undefined,
      inboxPrefix: env.DOMINION_NATS_INBOX_PREFIX || undefined,
      source: 'DOMINION_NATS_URL',
    };
  const file = join(resolve(env.DOMINION_HOME || join(repoRoot, 'var', 'run')), 'bus.json');
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(
      `cannot reach the Dominion bus: ${file}: ${(e as Error).message}: is \`npm start\` running? (or set DOMINION_NATS_URL)`,
      { cause: e },
    );
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const str = (k: string) => (typeof o[k] === 'string' ? o[k] : undefined);
  const url = str('url');
  if (!url) throw new Error(`${file}: no "url"`);
  return { url, creds: str('creds'), inboxPrefix: str('inboxPrefix'), source: file };
}

/** Connects as dom0; every call is `xen.zfs.0.<verb>`. Long calls (receive-end, scrubs) get a minute. */
export async function connectZfs(env: Env, repoRoot: string): Promise<{ call: ZfsCall; close(): Promise<void> }> {
  const bus = findBus(env, repoRoot);
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: bus.url,
      name: 'zfs',
      authenticator: bus.creds ? credsAuthenticator(await readFile(bus.creds)) : undefined,
      inboxPrefix: bus.inboxPrefix,
      reconnect: false,
      timeout: 3000,
    });
  } catch (e) {
    throw new Error(`cannot reach the Dominion bus at ${bus.url} (from ${bus.source}): ${(e as Error).message}`, {
      cause: e,
    });
  }
  return {
    call: (verb, body) => busRequest(nc, subjects.zfs(0, verb), body, { timeoutMs: 60_000 }),
    close: () => nc.close(),
  };
}

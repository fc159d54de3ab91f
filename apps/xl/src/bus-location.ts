// How xl, acting as dom0, finds the bus: DOMINION_NATS_URL (with DOMINION_NATS_CREDS and
// DOMINION_NATS_INBOX_PREFIX) when set, else the bus.json the launcher (`npm start`) writes into
// DOMINION_HOME while the system is up.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface BusLocation {
  url: string;
  creds?: string;
  inboxPrefix?: string;
  /** Where the location came from, for error messages. */
  source: string;
}

export class BusLocationError extends Error {
  override readonly name = 'BusLocationError';
  readonly kind = 'ENOENT' as const;
}

type Env = Record<string, string | undefined>;

export function findBus(env: Env, repoRoot: string): BusLocation {
  if (env.DOMINION_NATS_URL) {
    return {
      url: env.DOMINION_NATS_URL,
      creds: env.DOMINION_NATS_CREDS || undefined,
      inboxPrefix: env.DOMINION_NATS_INBOX_PREFIX || undefined,
      source: 'DOMINION_NATS_URL',
    };
  }
  const home = resolve(env.DOMINION_HOME || join(repoRoot, 'var', 'run'));
  const file = join(home, 'bus.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new BusLocationError(
      `cannot reach the Dominion bus: ${file} does not exist: is \`npm start\` running? (or set DOMINION_NATS_URL)`,
    );
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new BusLocationError(`${file}: not JSON: ${(e as Error).message}`);
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof o[k] === 'string' ? o[k] : undefined);
  const url = str('url');
  if (!url) throw new BusLocationError(`${file}: no "url"`);
  return { url, creds: str('creds'), inboxPrefix: str('inboxPrefix'), source: file };
}

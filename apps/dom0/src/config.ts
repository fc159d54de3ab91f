import { join } from 'node:path';
import type { DomainConfig } from '@dominion/runtime';

/** libxenstore's XENSTORED_PATH when set (the stock tools read the same variable), else in the state dir. */
export function xenstoredSocketPath(
  cfg: Pick<DomainConfig, 'stateDir'>,
  env: Record<string, string | undefined> = process.env,
): string {
  return env.XENSTORED_PATH || join(cfg.stateDir, 'xenstored.socket');
}

/** Where the store's snapshot and journal live. */
export function xenstoreDir(cfg: Pick<DomainConfig, 'stateDir'>): string {
  return join(cfg.stateDir, 'xenstore');
}

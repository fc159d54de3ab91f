// Typed configuration of a domain service, from its environment. Credentials come from here so that the
// identity work can give every domain its own without touching the services.
import { isDomId, type DomId } from '@dominion/abi';
import { join, resolve } from 'node:path';

export interface DomainConfig {
  /** The service kind: hypervisor, dom0, blkback, … */
  service: string;
  natsUrl: string;
  /** A NATS .creds file (user JWT + seed), when the bus runs in operator mode. */
  natsCredsFile?: string;
  natsToken?: string;
  /** Reply-subject prefix; in operator mode each domain's permissions name its own. */
  natsInboxPrefix?: string;
  /** This domain's id, when it is known at start (the hypervisor, dom0, or a launched domain). */
  domid?: DomId;
  domainName?: string;
  /** Where the service keeps durable state. */
  stateDir: string;
  /** host:port the service's gRPC server binds (data path), when it has one. */
  grpcListen?: string;
  /** Port of the plain-HTTP health endpoint (/healthz, /readyz), when wanted (containers). */
  healthPort?: number;
  logLevel: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly kind = 'EINVAL' as const;
}

type Env = Record<string, string | undefined>;

function intVar(env: Env, key: string, check: (n: number) => boolean, what: string): number | undefined {
  const v = env[key];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!/^[0-9]+$/.test(v) || !check(n)) throw new ConfigError(`${key}=${JSON.stringify(v)}: expected ${what}`);
  return n;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadDomainConfig(service: string, env: Env = process.env): DomainConfig {
  const natsUrl = env.DOMINION_NATS_URL ?? 'nats://127.0.0.1:4222';
  if (!/^(nats|tls|ws|wss):\/\/[^\s]+$/.test(natsUrl))
    throw new ConfigError(`DOMINION_NATS_URL=${JSON.stringify(natsUrl)}: expected nats://host:port`);
  const logLevel = env.DOMINION_LOG_LEVEL ?? 'info';
  if (!LEVELS.includes(logLevel))
    throw new ConfigError(`DOMINION_LOG_LEVEL=${JSON.stringify(logLevel)}: expected one of ${LEVELS.join(', ')}`);
  const grpcListen = env.DOMINION_GRPC_LISTEN || undefined;
  if (grpcListen !== undefined && !/^[^\s:]+:[0-9]{1,5}$/.test(grpcListen))
    throw new ConfigError(`DOMINION_GRPC_LISTEN=${JSON.stringify(grpcListen)}: expected host:port`);
  return {
    service,
    natsUrl,
    natsCredsFile: env.DOMINION_NATS_CREDS || undefined,
    natsToken: env.DOMINION_NATS_TOKEN || undefined,
    natsInboxPrefix: env.DOMINION_NATS_INBOX_PREFIX || undefined,
    domid: intVar(env, 'DOMINION_DOMID', isDomId, 'a domid (0..32751)'),
    domainName: env.DOMINION_DOMAIN_NAME || undefined,
    stateDir: resolve(env.DOMINION_STATE_DIR || join('var', service)),
    grpcListen,
    healthPort: intVar(env, 'DOMINION_HEALTH_PORT', (n) => n > 0 && n < 65536, 'a TCP port'),
    logLevel,
  };
}

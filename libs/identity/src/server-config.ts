// The nats-server configuration of operator mode, written at every start from the identity store and passed
// to nats-server with `-c`. Nothing in it is secret (JWTs are signed, not encrypted), but it is written 0600
// anyway: it is the list of who may connect.
//
// Resolver: `full`, not MEMORY. Revocations must hold across restarts and must apply even to an account with
// no client connected at the moment: with MEMORY, a claims update for an account without connections is
// answered "jwt update skipped" and the revoked user can connect later, and no update survives a restart
// (reference/nats-identity.md, pitfalls 3-4). The full resolver stores every pushed account JWT in its
// directory, accepts `$SYS.REQ.CLAIMS.UPDATE` for any account, and keeps it across restarts. The preload
// below also carries the store's latest account JWT (the resolver keeps whichever is newer), so that even a
// lost resolver directory does not resurrect a revoked user.
import { isAbsolute } from 'node:path';
import { IdentityError } from './errors.js';
import type { IdentityMaterial } from './keys.js';
import { ensurePrivateDir, writeSecretFile } from './secret-file.js';

export interface NatsServerConfigOptions {
  port: number;
  /** Listen address; default 127.0.0.1 (a container sets 0.0.0.0). */
  host?: string;
  /** The full resolver's directory (absolute; created 0700). It is the server's: one server per directory. */
  resolverDir: string;
}

type ConfigMaterial = {
  operator: Pick<IdentityMaterial['operator'], 'jwt'>;
  account: Pick<IdentityMaterial['account'], 'publicKey' | 'jwt'>;
  system: Pick<IdentityMaterial['system'], 'publicKey' | 'jwt'>;
};

/** A nats.conf string literal (JSON's escaping is what the config parser accepts). */
function str(s: string): string {
  return JSON.stringify(s);
}

/** Seconds a client has to authenticate (nats-server's authorization.timeout). */
export const AUTH_TIMEOUT_S = 10;

export function natsServerConfig(m: ConfigMaterial, opts: NatsServerConfigOptions): string {
  const host = opts.host ?? '127.0.0.1';
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535)
    throw new IdentityError('EINVAL', `nats-server port ${opts.port}: expected 1..65535`);
  if (!/^[A-Za-z0-9.-]+$/.test(host))
    throw new IdentityError(
      'EINVAL',
      `nats-server host ${JSON.stringify(host)}: expected an IPv4 address or host name`,
    );
  if (!isAbsolute(opts.resolverDir) || /[\0\n]/.test(opts.resolverDir))
    throw new IdentityError('EINVAL', `resolver dir ${JSON.stringify(opts.resolverDir)}: expected an absolute path`);
  return [
    '# Written by @dominion/identity at every start, from the identity store. Do not edit: changes are lost.',
    `listen: ${str(`${host}:${opts.port}`)}`,
    `operator: ${str(m.operator.jwt)}`,
    `system_account: ${str(m.system.publicKey)}`,
    '# full, not MEMORY: claims updates (revocations) apply to any account and persist across restarts.',
    'resolver: {',
    '  type: full',
    `  dir: ${str(opts.resolverDir)}`,
    '  allow_delete: false',
    '}',
    'resolver_preload: {',
    `  ${m.system.publicKey}: ${str(m.system.jwt)}`,
    `  ${m.account.publicKey}: ${str(m.account.jwt)}`,
    '}',
    '# A client signs the server nonce with its nkey at CONNECT; on a loaded 2-core host several clients',
    '# connecting at once can take longer than the 2 s default, and are then cut off mid-handshake.',
    'authorization: {',
    `  timeout: ${AUTH_TIMEOUT_S}`,
    '}',
    '',
  ].join('\n');
}

/** Writes the configuration file (0600) and creates the resolver directory (0700). */
export async function writeNatsServerConfig(
  m: ConfigMaterial,
  file: string,
  opts: NatsServerConfigOptions,
): Promise<void> {
  const text = natsServerConfig(m, opts);
  await ensurePrivateDir(opts.resolverDir);
  await writeSecretFile(file, text);
}

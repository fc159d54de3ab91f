// The ZFS domain's settings from its environment (documented in README.md):
//   DOMINION_ZFS_DIR        where vdev files and the pool cache live (default <state dir>/zfs)
//   DOMINION_ZFS_POOLS      pools to create on first start (imported on later ones), separated by blanks or
//                           `;`, each <name>:<single|mirror>:<file>[,<file>...]:<size>, files relative to
//                           DOMINION_ZFS_DIR, e.g. tank:mirror:tank-a.img,tank-b.img:1G
//   DOMINION_ZFS_GRPC_PORT  the block service's port on 127.0.0.1 (default: any free port); DOMINION_GRPC_LISTEN
//                           (host:port) wins when set
//   DOMINION_ZFS_TXG_MS     txg sync interval, OpenZFS's zfs_txg_timeout (default 5000)
import { join } from 'node:path';
import { BusError } from '@dominion/bus';
import { parseSize } from '@dominion/zfs';

type Env = Record<string, string | undefined>;

export interface PoolSpec {
  name: string;
  type: 'single' | 'mirror';
  files: string[];
  size: number;
}

export interface ZfsConfig {
  dir: string;
  pools: PoolSpec[];
  grpcListen: string;
  txgMs: number;
}

const POOL_NAME = /^[A-Za-z][A-Za-z0-9_.:-]*$/;

export function zfsConfigFromEnv(env: Env, stateDir: string, grpcListen?: string): ZfsConfig {
  const dir = env.DOMINION_ZFS_DIR || join(stateDir, 'zfs');
  const text = env.DOMINION_ZFS_POOLS?.trim() ?? '';
  const pools =
    text === ''
      ? []
      : text
          .split(/[\s;]+/)
          .filter((e) => e !== '')
          .map(parsePoolSpec);
  const port = env.DOMINION_ZFS_GRPC_PORT;
  if (port !== undefined && port !== '' && (!/^[0-9]{1,5}$/.test(port) || Number(port) > 65535))
    throw configError('DOMINION_ZFS_GRPC_PORT', port, 'expected a TCP port');
  const txg = env.DOMINION_ZFS_TXG_MS;
  if (txg !== undefined && txg !== '' && (!/^[0-9]{1,7}$/.test(txg) || Number(txg) < 10))
    throw configError('DOMINION_ZFS_TXG_MS', txg, 'expected milliseconds, at least 10');
  return {
    dir,
    pools,
    grpcListen: grpcListen ?? `127.0.0.1:${port || 0}`,
    txgMs: txg ? Number(txg) : 5000,
  };
}

export function parsePoolSpec(entry: string): PoolSpec {
  const fail = (why: string) => configError('DOMINION_ZFS_POOLS', entry, why);
  const m = /^([^:]+):(single|mirror):([^:]+):([^:]+)$/.exec(entry);
  if (!m) throw fail('expected <name>:<single|mirror>:<file>[,<file>...]:<size>');
  const [, name, type, filesText, sizeText] = m;
  if (!POOL_NAME.test(name)) throw fail(`${JSON.stringify(name)} is not a pool name`);
  const files = filesText.split(',');
  if (type === 'single' && files.length !== 1) throw fail('a single vdev is one file');
  if (type === 'mirror' && files.length < 2) throw fail('a mirror needs at least two files');
  let size: number;
  try {
    size = parseSize(sizeText, 'the vdev size');
  } catch (e) {
    throw fail((e as Error).message);
  }
  return { name, type: type as PoolSpec['type'], files, size };
}

function configError(key: string, value: string, why: string): BusError {
  return new BusError('EINVAL', `${key}=${JSON.stringify(value)}: ${why}`);
}

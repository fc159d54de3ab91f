// blkback's settings from its environment (documented in README.md):
//   DOMINION_BLKBACK_IMAGE_DIR    where relative `params` resolve (default <state dir>/images)
//   DOMINION_BLKBACK_ALLOW_DIRS   more directories absolute `params` may name, separated by `:`
//   DOMINION_BLKBACK_GRPC_PORT    port of the Ring gRPC server on 127.0.0.1 (default 0 = ephemeral);
//                                 the runtime's DOMINION_GRPC_LISTEN (host:port) overrides it
//   DOMINION_BLKBACK_NBD_PORT     TCP port of the NBD server on 127.0.0.1 (default 0 = ephemeral)
//   DOMINION_BLKBACK_MAX_QUEUES   multi-queue-max-queues published to frontends (default: CPUs, at most 4)
//   DOMINION_BLKBACK_MAX_RING_PAGE_ORDER  max-ring-page-order published (0..4, default 4 as Linux blkback)
//   DOMINION_BLKBACK_ZFS_DOMAIN   name (or domid) of the ZFS domain serving `zvol:` targets (default zfs)
import { availableParallelism } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { XENBUS_MAX_RING_GRANT_ORDER } from '@dominion/xenbus';
import { BlkbackError } from './errors.js';

type Env = Record<string, string | undefined>;

export interface BlkbackConfig {
  /** Absolute; relative `params` resolve here and new images are created here. */
  imageDir: string;
  /** Absolute directories (besides imageDir) an absolute `params` may lie under. */
  allowDirs: string[];
  /** host:port of the Ring gRPC server. */
  grpcListen: string;
  nbdPort: number;
  /** Where the per-VBD NBD Unix sockets live. */
  nbdSocketDir: string;
  maxQueues: number;
  maxRingPageOrder: number;
  /** The ZFS domain's name or domid; unset means `zfs`. */
  zfsDomain?: string;
}

const MAX_QUEUES_DEFAULT_CAP = 4;

export function blkbackConfigFromEnv(env: Env, stateDir: string, grpcListen?: string): BlkbackConfig {
  const imageDir = resolve(env.DOMINION_BLKBACK_IMAGE_DIR || join(stateDir, 'images'));
  const allowText = env.DOMINION_BLKBACK_ALLOW_DIRS ?? '';
  const allowDirs = allowText
    .split(':')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  for (const d of allowDirs) {
    if (!isAbsolute(d))
      throw configError('DOMINION_BLKBACK_ALLOW_DIRS', allowText, `${JSON.stringify(d)} is not an absolute path`);
  }
  const grpcPort = port(env, 'DOMINION_BLKBACK_GRPC_PORT');
  const mq = env.DOMINION_BLKBACK_MAX_QUEUES;
  let maxQueues = Math.min(availableParallelism(), MAX_QUEUES_DEFAULT_CAP);
  if (mq !== undefined && mq !== '') {
    if (!/^[0-9]{1,2}$/.test(mq) || Number(mq) < 1 || Number(mq) > 16)
      throw configError('DOMINION_BLKBACK_MAX_QUEUES', mq, 'expected 1..16');
    maxQueues = Number(mq);
  }
  const order = env.DOMINION_BLKBACK_MAX_RING_PAGE_ORDER;
  let maxRingPageOrder = XENBUS_MAX_RING_GRANT_ORDER;
  if (order !== undefined && order !== '') {
    if (!/^[0-9]$/.test(order) || Number(order) > XENBUS_MAX_RING_GRANT_ORDER)
      throw configError('DOMINION_BLKBACK_MAX_RING_PAGE_ORDER', order, `expected 0..${XENBUS_MAX_RING_GRANT_ORDER}`);
    maxRingPageOrder = Number(order);
  }
  const zfsDomain = env.DOMINION_BLKBACK_ZFS_DOMAIN;
  if (zfsDomain !== undefined && zfsDomain !== '' && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(zfsDomain))
    throw configError('DOMINION_BLKBACK_ZFS_DOMAIN', zfsDomain, 'expected a domain name or domid');
  return {
    imageDir,
    allowDirs: allowDirs.map((d) => resolve(d)),
    grpcListen: grpcListen ?? `127.0.0.1:${grpcPort}`,
    nbdPort: port(env, 'DOMINION_BLKBACK_NBD_PORT'),
    nbdSocketDir: join(stateDir, 'nbd'),
    maxQueues,
    maxRingPageOrder,
    ...(zfsDomain ? { zfsDomain } : {}),
  };
}

function port(env: Env, key: string): number {
  const v = env[key];
  if (v === undefined || v === '') return 0;
  if (!/^[0-9]{1,5}$/.test(v) || Number(v) > 65535) throw configError(key, v, 'expected a TCP port (0..65535)');
  return Number(v);
}

function configError(key: string, value: string, why: string): BlkbackError {
  return new BlkbackError('EINVAL', `${key}=${JSON.stringify(value)}: ${why}`);
}

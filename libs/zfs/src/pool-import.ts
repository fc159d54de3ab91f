// Finding a pool on a set of devices: the newest config among the labels that verify, every vdev that
// config names, and the newest uberblock whose checksum verifies (and whose guid sum says no vdev is
// missing). What import then does with it is in Pool.import.
import type { FileHandle, FileIO } from '@dominion/fsio';
import {
  LABEL_CONFIG_OFFSET,
  LABEL_CONFIG_SIZE,
  LABEL_SIZE,
  MIN_VDEV_SIZE,
  UBERBLOCK_RING_OFFSET,
  UBERBLOCK_SLOT_SIZE,
  UBERBLOCK_SLOTS,
} from './constants.js';
import { asZfsError, ZfsError } from './errors.js';
import { decodeLabelConfig, labelOffsets, type LabelConfig, type PoolConfig } from './label.js';
import { decodeUberblock, guidSum, newestUberblock, type Uberblock } from './uberblock.js';
import { FileVdev } from './vdev.js';

export interface FoundPool {
  readonly config: PoolConfig;
  /** Open, indexed by vdev id; the caller closes them. */
  readonly vdevs: FileVdev[];
  readonly uberblock: Uberblock;
}

/** The newest valid config among a device's four labels, or undefined if it has none. */
async function readBestLabel(io: FileIO, path: string): Promise<LabelConfig | undefined> {
  let fh: FileHandle;
  try {
    fh = await io.open(path, { readOnly: true });
  } catch (e) {
    throw asZfsError(e, `cannot open ${path}`);
  }
  try {
    const size = Math.floor((await fh.size()) / LABEL_SIZE) * LABEL_SIZE;
    if (size < MIN_VDEV_SIZE) return undefined;
    let best: LabelConfig | undefined;
    for (const at of labelOffsets(size)) {
      const config = decodeLabelConfig(await fh.read(at + LABEL_CONFIG_OFFSET, LABEL_CONFIG_SIZE));
      if ('invalid' in config) continue;
      if (best === undefined || config.txg > best.txg) best = config;
    }
    return best;
  } catch (e) {
    throw asZfsError(e, `cannot read labels of ${path}`);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

async function newestValidUberblock(config: PoolConfig, vdevs: readonly FileVdev[]): Promise<Uberblock> {
  const sum = guidSum([config.guid, ...config.vdevs.map((v) => v.guid)]);
  const candidates: Uberblock[] = [];
  for (const vdev of vdevs) {
    for (const at of labelOffsets(config.vdevs[vdev.id].size)) {
      const ring = await vdev.read(at + UBERBLOCK_RING_OFFSET, UBERBLOCK_SLOTS * UBERBLOCK_SLOT_SIZE);
      for (let slot = 0; slot < UBERBLOCK_SLOTS; slot++) {
        const bytes = ring.subarray(slot * UBERBLOCK_SLOT_SIZE, (slot + 1) * UBERBLOCK_SLOT_SIZE);
        const ub = decodeUberblock(bytes, `${vdev.path} uberblock`);
        if (ub !== undefined && ub.poolGuid === config.guid && ub.guidSum === sum) candidates.push(ub);
      }
    }
  }
  const ub = newestUberblock(candidates);
  if (ub === undefined) throw new ZfsError('EIO', `pool '${config.name}': no uberblock with a valid checksum`);
  return ub;
}

export async function findPool(io: FileIO, paths: readonly string[], name: string | undefined): Promise<FoundPool> {
  const found: { path: string; config: LabelConfig }[] = [];
  for (const path of paths) {
    const config = await readBestLabel(io, path);
    if (config !== undefined && (name === undefined || config.name === name)) found.push({ path, config });
  }
  if (found.length === 0)
    throw new ZfsError('ENOENT', `no pool${name ? ` '${name}'` : ''} found on ${paths.join(', ')}`);
  const guids = new Set(found.map((f) => f.config.guid));
  if (guids.size > 1) throw new ZfsError('EINVAL', `the paths hold ${guids.size} different pools; name one`);
  const config = found.reduce((a, b) => (b.config.txg > a.config.txg ? b : a)).config;
  const vdevs: FileVdev[] = [];
  try {
    for (const vc of config.vdevs) {
      const leaf = found.find((f) => f.config.leafGuid === vc.guid);
      if (leaf === undefined) {
        throw new ZfsError('ENXIO', `pool '${config.name}' is missing vdev ${vc.id} (${vc.path}, guid ${vc.guid})`);
      }
      const vdev = await FileVdev.open(io, vc.id, leaf.path);
      vdevs.push(vdev);
      if (vdev.size < vc.size) {
        throw new ZfsError('ENXIO', `vdev ${leaf.path} is ${vdev.size} bytes, the pool expects ${vc.size}`);
      }
    }
    return { config, vdevs, uberblock: await newestValidUberblock(config, vdevs) };
  } catch (e) {
    for (const v of vdevs) await v.close();
    throw e;
  }
}

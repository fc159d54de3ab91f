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
import { FileVdev, MirrorVdev, MissingLeaf, type TopVdev } from './vdev.js';

export interface FoundPool {
  readonly config: PoolConfig;
  /** Open, indexed by vdev id; the caller closes them. */
  readonly vdevs: TopVdev[];
  readonly uberblock: Uberblock;
}

/** The newest valid config among a device's four labels, or undefined if it has none. */
async function readBestLabel(io: FileIO, path: string): Promise<LabelConfig | undefined> {
  let fh: FileHandle;
  try {
    fh = await io.open(path, { readOnly: true });
  } catch (e) {
    // A device that is gone is left out, as zpool import does; the pool may still import without it.
    if ((e as { kind?: unknown } | null)?.kind === 'ENOENT') return undefined;
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

async function newestValidUberblock(config: PoolConfig, vdevs: readonly TopVdev[]): Promise<Uberblock> {
  const sum = guidSum([config.guid, ...config.vdevs.map((v) => v.guid)]);
  const candidates: Uberblock[] = [];
  // Every leaf's rings: a mirror child may have missed the last uberblock write before a crash.
  for (const top of vdevs) {
    for (const vdev of top.leaves.filter((l) => l.state === 'ONLINE')) {
      for (const at of labelOffsets(config.vdevs[top.id].size)) {
        const ring = await vdev.read(at + UBERBLOCK_RING_OFFSET, UBERBLOCK_SLOTS * UBERBLOCK_SLOT_SIZE);
        for (let slot = 0; slot < UBERBLOCK_SLOTS; slot++) {
          const bytes = ring.subarray(slot * UBERBLOCK_SLOT_SIZE, (slot + 1) * UBERBLOCK_SLOT_SIZE);
          const ub = decodeUberblock(bytes, `${vdev.path} uberblock`);
          if (ub !== undefined && ub.poolGuid === config.guid && ub.guidSum === sum) candidates.push(ub);
        }
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
  const vdevs: TopVdev[] = [];
  try {
    for (const vc of config.vdevs) {
      if (vc.type === 'mirror') {
        vdevs.push(await openMirror(io, config, vc.id, found));
        continue;
      }
      const leaf = found.find((f) => f.config.leafGuid === vc.guid);
      if (leaf === undefined) {
        throw new ZfsError('ENXIO', `pool '${config.name}' is missing vdev ${vc.id} (${vc.path}, guid ${vc.guid})`);
      }
      const vdev = await FileVdev.open(io, vc.id, leaf.path, vc.guid);
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

/** A mirror with the children that were found; it imports (DEGRADED) as long as one child is there. */
async function openMirror(
  io: FileIO,
  config: PoolConfig,
  id: number,
  found: readonly { path: string; config: LabelConfig }[],
): Promise<MirrorVdev> {
  const vc = config.vdevs[id];
  const leaves: (FileVdev | MissingLeaf)[] = [];
  try {
    for (const child of vc.children ?? []) {
      const f = found.find((x) => x.config.leafGuid === child.guid && x.config.guid === config.guid);
      if (f === undefined) {
        leaves.push(new MissingLeaf(child.path, child.guid, 'no valid label found on the paths searched'));
        continue;
      }
      const leaf = await FileVdev.open(io, id, f.path, child.guid);
      if (leaf.size < vc.size) {
        await leaf.close();
        leaves.push(new MissingLeaf(f.path, child.guid, `${leaf.size} bytes, the pool expects ${vc.size}`));
        continue;
      }
      leaves.push(leaf);
    }
  } catch (e) {
    for (const l of leaves) if (l instanceof FileVdev) await l.close();
    throw e;
  }
  if (!leaves.some((l) => l.state === 'ONLINE')) {
    throw new ZfsError('ENXIO', `pool '${config.name}': no child of ${vc.path} is available`);
  }
  return new MirrorVdev(id, vc.size, leaves);
}

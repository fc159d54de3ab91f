// Vdev labels. Every leaf carries four copies at fixed places, two at the front and two at the back (as in
// ZFS, so that a device overwritten at either end still has two), each of LABEL_SIZE bytes:
//     0 ..  16K  blank
//   16K .. 128K  pool config: u32 length, that many bytes of JSON, zeros, sha256 of the rest in the last 32
//  128K .. 256K  uberblock ring: UBERBLOCK_SLOTS slots of 1 KiB (uberblock.ts)
// The config holds what import needs before it can read a block: the pool's name and guid, the vdev tree,
// where the intent log area and the allocatable region lie.
import { sha256 } from './checksum/index.js';
import {
  FORMAT_VERSION,
  LABEL_CONFIG_SIZE,
  LABEL_SIZE,
  UBERBLOCK_RING_OFFSET,
  UBERBLOCK_SLOT_SIZE,
  UBERBLOCK_SLOTS,
} from './constants.js';
import { ZfsError } from './errors.js';

const CONFIG_MAGIC = 'dominion-zfs-label';

/** A leaf of a mirror as the config describes it. */
export interface LeafConfig {
  readonly guid: string;
  readonly path: string;
}

/** A top-level vdev as the config describes it: one file, or a mirror of `children` (then `path` is "mirror-N"). */
export interface VdevConfig {
  readonly type: 'file' | 'mirror';
  readonly id: number;
  readonly guid: string;
  readonly path: string;
  readonly children?: readonly LeafConfig[];
  /** Bytes in use: a whole number of labels. */
  readonly size: number;
  /** The region the allocator hands out: [allocStart, allocEnd). */
  readonly allocStart: number;
  readonly allocEnd: number;
}

/** The intent log's fixed area (like a separate log device carved out of vdev 0). */
export interface LogAreaConfig {
  readonly vdev: number;
  readonly offset: number;
  readonly size: number;
}

export interface PoolConfig {
  readonly version: number;
  readonly name: string;
  readonly guid: string;
  /** The txg this config was written in. */
  readonly txg: number;
  readonly vdevs: readonly VdevConfig[];
  readonly log: LogAreaConfig;
}

/** The config as one leaf's label stores it: the pool's, plus which leaf this is. */
export interface LabelConfig extends PoolConfig {
  readonly magic: typeof CONFIG_MAGIC;
  readonly leafGuid: string;
}

/** The byte offsets of the four labels on a device of `size` bytes (already a whole number of labels). */
export function labelOffsets(size: number): number[] {
  return [0, LABEL_SIZE, size - 2 * LABEL_SIZE, size - LABEL_SIZE];
}

export function uberblockSlotOffset(labelOffset: number, txg: number): number {
  return labelOffset + UBERBLOCK_RING_OFFSET + (txg % UBERBLOCK_SLOTS) * UBERBLOCK_SLOT_SIZE;
}

export function encodeLabelConfig(config: PoolConfig, leafGuid: string): Buffer {
  const body: LabelConfig = { ...config, magic: CONFIG_MAGIC, leafGuid };
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  if (4 + json.length > LABEL_CONFIG_SIZE - 32) {
    throw new ZfsError('EINVAL', `pool config of ${json.length} bytes does not fit a label`);
  }
  const out = Buffer.alloc(LABEL_CONFIG_SIZE);
  out.writeUInt32LE(json.length, 0);
  json.copy(out, 4);
  sha256(out.subarray(0, LABEL_CONFIG_SIZE - 32)).copy(out, LABEL_CONFIG_SIZE - 32);
  return out;
}

/** The config in a label's config area, or why there is none. */
export function decodeLabelConfig(area: Buffer): LabelConfig | { invalid: string } {
  if (area.length !== LABEL_CONFIG_SIZE) return { invalid: `config area is ${area.length} bytes` };
  const sum = sha256(area.subarray(0, LABEL_CONFIG_SIZE - 32));
  if (!sum.equals(area.subarray(LABEL_CONFIG_SIZE - 32))) return { invalid: 'config checksum mismatch' };
  const length = area.readUInt32LE(0);
  if (length === 0 || 4 + length > LABEL_CONFIG_SIZE - 32) return { invalid: `config length ${length}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(area.subarray(4, 4 + length).toString('utf8'));
  } catch {
    return { invalid: 'config is not JSON' };
  }
  const c = parsed as Partial<LabelConfig>;
  if (c.magic !== CONFIG_MAGIC) return { invalid: 'no label magic' };
  if (c.version !== FORMAT_VERSION) return { invalid: `unsupported format version ${c.version}` };
  if (typeof c.name !== 'string' || typeof c.guid !== 'string' || !Array.isArray(c.vdevs) || c.log === undefined) {
    return { invalid: 'config lacks name, guid, vdevs or log' };
  }
  return c as LabelConfig;
}

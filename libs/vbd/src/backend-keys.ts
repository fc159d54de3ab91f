// The nodes blkback publishes in its backend dir (xen-facts §2), as path -> value: the ring limits at
// probe (before InitWait, for the frontend to size its rings), the device and its features at connect
// (with Connected). Key names come from libs/blkif's keys.ts.
import { VBD_BACKEND_KEYS as K, VDISK, type VbdProperties } from '@dominion/blkif';

export interface VbdProbeKeyOptions {
  /** multi-queue-max-queues; 1 publishes nothing (a single queue), as Linux does for nr_cpus 1. */
  maxQueues?: number;
  /** max-ring-page-order; default 0. */
  maxRingPageOrder?: number;
}

export interface VbdConnectKeyOptions {
  cdrom?: boolean;
  removable?: boolean;
  /** discard-granularity in bytes; default the sector size. */
  discardGranularity?: number;
  /** discard-alignment in bytes; default 0. */
  discardAlignment?: number;
}

/** Keys written with InitWait. */
export function vbdProbeKeys(opts: VbdProbeKeyOptions = {}, dir?: string): Record<string, string> {
  const keys: Record<string, string> = { [K.MAX_RING_PAGE_ORDER]: String(opts.maxRingPageOrder ?? 0) };
  if ((opts.maxQueues ?? 1) > 1) keys[K.MULTI_QUEUE_MAX_QUEUES] = String(opts.maxQueues);
  return under(dir, keys);
}

/** Keys written with Connected: the features the server honours and the disk's geometry. */
export function vbdConnectKeys(
  props: VbdProperties,
  opts: VbdConnectKeyOptions = {},
  dir?: string,
): Record<string, string> {
  const sectorSize = props.sectorSize ?? 512;
  const info =
    (props.readonly ? VDISK.VDISK_READONLY : 0) |
    (opts.cdrom ? VDISK.VDISK_CDROM : 0) |
    (opts.removable ? VDISK.VDISK_REMOVABLE : 0);
  const keys: Record<string, string> = {
    [K.FEATURE_FLUSH_CACHE]: flag(props.featureFlushCache),
    [K.FEATURE_BARRIER]: flag(props.featureBarrier),
    [K.FEATURE_DISCARD]: flag(props.featureDiscard),
    [K.FEATURE_MAX_INDIRECT_SEGMENTS]: String(props.maxIndirectSegments ?? 0),
    [K.SECTORS]: String(props.sectors),
    [K.INFO]: String(info),
    [K.SECTOR_SIZE]: String(sectorSize),
  };
  if (props.featureDiscard) {
    keys[K.DISCARD_GRANULARITY] = String(opts.discardGranularity ?? sectorSize);
    keys[K.DISCARD_ALIGNMENT] = String(opts.discardAlignment ?? 0);
    keys[K.DISCARD_SECURE] = flag(props.discardSecure);
  }
  return under(dir, keys);
}

/** Both sets, as one map (what the backend dir holds once Connected). */
export function vbdBackendKeys(
  props: VbdProperties,
  opts: VbdProbeKeyOptions & VbdConnectKeyOptions = {},
  dir?: string,
): Record<string, string> {
  return { ...vbdProbeKeys(opts, dir), ...vbdConnectKeys(props, opts, dir) };
}

const flag = (b: boolean | undefined): string => (b ? '1' : '0');

function under(dir: string | undefined, keys: Record<string, string>): Record<string, string> {
  if (dir === undefined) return keys;
  return Object.fromEntries(Object.entries(keys).map(([k, v]) => [`${dir}/${k}`, v]));
}

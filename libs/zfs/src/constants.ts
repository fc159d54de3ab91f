// Geometry shared by the on-disk structures. Sizes follow ZFS's where it has one (256 KiB labels, a ring of
// 1 KiB uberblocks, 128-byte block pointers, 16 KiB default volblocksize); the sector size is fixed at 4 KiB
// (ashift 12) so that every allocation and every on-disk structure is a whole number of sectors.
export const ASHIFT = 12;
export const SECTOR = 1 << ASHIFT;

export const LABEL_SIZE = 256 * 1024;
/** Label bytes 0..16K stay blank (ZFS keeps them for boot blocks and VTOC). */
export const LABEL_CONFIG_OFFSET = 16 * 1024;
export const LABEL_CONFIG_SIZE = 112 * 1024;
export const UBERBLOCK_RING_OFFSET = 128 * 1024;
export const UBERBLOCK_SLOT_SIZE = 1024;
export const UBERBLOCK_SLOTS = (LABEL_SIZE - UBERBLOCK_RING_OFFSET) / UBERBLOCK_SLOT_SIZE;
export const LABELS = 4;

export const BLKPTR_SIZE = 128;
/** Indirect blocks are 16 KiB: 128 block pointers each. */
export const INDIRECT_BLOCK_SIZE = 16 * 1024;
export const INDIRECT_FANOUT = INDIRECT_BLOCK_SIZE / BLKPTR_SIZE;

export const DEFAULT_VOLBLOCKSIZE = 16 * 1024;
export const MIN_BLOCK_SIZE = 512;
export const MAX_BLOCK_SIZE = 128 * 1024;
/** The MOS is one block in this slice; past this size the pool refuses more datasets and snapshots. */
export const MAX_MOS_SIZE = 1024 * 1024;

export const MIN_VDEV_SIZE = 4 * 1024 * 1024;
export const MIN_LOG_SIZE = 256 * 1024;
export const MAX_LOG_SIZE = 64 * 1024 * 1024;

export const FORMAT_VERSION = 1;

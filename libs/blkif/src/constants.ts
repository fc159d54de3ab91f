// io/blkif.h constants, named as Xen names them.

/** BLKIF_OP_*: the `operation` byte of a request. */
export const BLKIF_OP = {
  BLKIF_OP_READ: 0,
  BLKIF_OP_WRITE: 1,
  BLKIF_OP_WRITE_BARRIER: 2,
  BLKIF_OP_FLUSH_DISKCACHE: 3,
  /** Used by SLES kernels; never valid on the wire here. */
  BLKIF_OP_RESERVED_1: 4,
  BLKIF_OP_DISCARD: 5,
  BLKIF_OP_INDIRECT: 6,
} as const;
export type BlkifOp = (typeof BLKIF_OP)[keyof typeof BLKIF_OP];

const OP_NAMES = new Map<number, string>(Object.entries(BLKIF_OP).map(([k, v]) => [v, k]));
/** `BLKIF_OP_WRITE` for 1, for messages. */
export function blkifOpName(op: number): string {
  return OP_NAMES.get(op) ?? `BLKIF_OP(${op})`;
}

/** BLKIF_RSP_*: the `status` of a response (i16). */
export const BLKIF_RSP = {
  BLKIF_RSP_EOPNOTSUPP: -2,
  BLKIF_RSP_ERROR: -1,
  BLKIF_RSP_OKAY: 0,
} as const;
export type BlkifStatus = (typeof BLKIF_RSP)[keyof typeof BLKIF_RSP];

export const BLKIF_MAX_SEGMENTS_PER_REQUEST = 11;
export const BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST = 8;
/** A segment is 8 bytes, so one 4 KiB indirect page holds 512 of them. */
export const BLKIF_SEGMENT_SIZE = 8;
export const BLKIF_SEGS_PER_INDIRECT_FRAME = 4096 / BLKIF_SEGMENT_SIZE;
/** What Linux blkback (and mirage) advertise as feature-max-indirect-segments. */
export const BLKIF_DEFAULT_MAX_INDIRECT_SEGMENTS = 256;
/** Sector fields are in 512-byte units whatever the disk's sector-size. */
export const BLKIF_SECTOR_SIZE = 512;
/** A segment's first_sect/last_sect address the 8 sectors of one 4 KiB page. */
export const BLKIF_SECTORS_PER_PAGE = 8;

/** Discard `flag` bit: the discarded data must be unrecoverable. */
export const BLKIF_DISCARD_SECURE = 1 << 0;

/** VDISK_* bits of the backend's `info` node. */
export const VDISK = {
  VDISK_CDROM: 0x1,
  VDISK_REMOVABLE: 0x2,
  VDISK_READONLY: 0x4,
} as const;

/** The frontend's `protocol` node (io/protocols.h): which ABI's struct layouts the ring carries. */
export const XEN_IO_PROTO_ABI = {
  XEN_IO_PROTO_ABI_X86_32: 'x86_32-abi',
  XEN_IO_PROTO_ABI_X86_64: 'x86_64-abi',
  XEN_IO_PROTO_ABI_ARM: 'arm-abi',
} as const;
export type BlkifProtocol = (typeof XEN_IO_PROTO_ABI)[keyof typeof XEN_IO_PROTO_ABI];
/** Dominion's native ABI: the layout used when a frontend writes no `protocol`. */
export const XEN_IO_PROTO_ABI_NATIVE: BlkifProtocol = 'x86_64-abi';

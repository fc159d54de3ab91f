// Byte offsets of the blkif structs per ABI (io/blkif.h; Linux xen-blkback common.h for the x86_32 packed
// variants). x86_64 and Arm pad the request header so that id is 8-aligned; x86_32 packs it.
import { XEN_IO_PROTO_ABI, type BlkifProtocol } from './constants.js';
import { BlkifError } from './errors.js';

export interface BlkifLayout {
  protocol: BlkifProtocol;
  /** sizeof(blkif_request): the ring entry, since a response is smaller. */
  requestSize: number;
  responseSize: number;
  /** Request fields shared by every operation. */
  id: number;
  sectorNumber: number;
  /** Read/write: seg[11]. */
  seg: number;
  /** Discard: nr_sectors u64; struct ends after it. */
  nrSectors: number;
  discardSize: number;
  /** Indirect: handle u16 and indirect_grefs[8]; the struct is 64 bytes in both ABIs. */
  indirectHandle: number;
  indirectGrefs: number;
  indirectSize: number;
}

const X86_64: Omit<BlkifLayout, 'protocol'> = {
  requestSize: 112,
  responseSize: 16,
  id: 8,
  sectorNumber: 16,
  seg: 24,
  nrSectors: 24,
  discardSize: 32,
  indirectHandle: 24,
  indirectGrefs: 28,
  indirectSize: 64,
};

const X86_32: Omit<BlkifLayout, 'protocol'> = {
  requestSize: 108,
  responseSize: 12,
  id: 4,
  sectorNumber: 12,
  seg: 20,
  nrSectors: 20,
  discardSize: 28,
  indirectHandle: 20,
  indirectGrefs: 24,
  indirectSize: 64,
};

export function blkifLayout(protocol: BlkifProtocol): BlkifLayout {
  switch (protocol) {
    case XEN_IO_PROTO_ABI.XEN_IO_PROTO_ABI_X86_64:
    case XEN_IO_PROTO_ABI.XEN_IO_PROTO_ABI_ARM:
      return { protocol, ...X86_64 };
    case XEN_IO_PROTO_ABI.XEN_IO_PROTO_ABI_X86_32:
      return { protocol, ...X86_32 };
    default:
      throw new BlkifError('EINVAL', `protocol ${String(protocol)} is none of x86_32-abi, x86_64-abi, arm-abi`);
  }
}

/** The frontend's `protocol` node, or the native ABI when it wrote none. */
export function parseProtocol(value: string | undefined): BlkifProtocol {
  if (value === undefined || value === '') return XEN_IO_PROTO_ABI.XEN_IO_PROTO_ABI_X86_64;
  const known = Object.values(XEN_IO_PROTO_ABI) as string[];
  if (!known.includes(value)) throw new BlkifError('EINVAL', `protocol "${value}" is none of ${known.join(', ')}`);
  return value as BlkifProtocol;
}

// Request validation for a backend (pure): what Linux blkback checks before touching the disk, so that a
// bad request fails alone with BLKIF_RSP_ERROR (or BLKIF_RSP_EOPNOTSUPP for an operation the device does
// not offer) and a message naming the request id and the fault.
import {
  BLKIF_DISCARD_SECURE,
  BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST,
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
  BLKIF_OP,
  BLKIF_RSP,
  BLKIF_SECTOR_SIZE,
  BLKIF_SECTORS_PER_PAGE,
  blkifOpName,
  type BlkifStatus,
} from './constants.js';
import { BlkifError } from './errors.js';
import { indirectPages, isDiscardRequest, isIndirectRequest, type BlkifRequest, type BlkifSegment } from './request.js';

/** What the backend published about the device (xen-facts §2 backend nodes). */
export interface VbdProperties {
  /** `sectors`: size in 512-byte units. */
  sectors: bigint;
  /** `sector-size`: a power of two >= 512 (default 512); offsets and lengths must be multiples of it. */
  sectorSize?: number;
  /** `mode` r / VDISK_READONLY. */
  readonly?: boolean;
  featureFlushCache?: boolean;
  featureBarrier?: boolean;
  featureDiscard?: boolean;
  discardSecure?: boolean;
  /** `feature-max-indirect-segments`; absent or 0: no indirect requests. */
  maxIndirectSegments?: number;
}

export type BlkifVerdict =
  | {
      ok: true;
      /** Length in 512-byte sectors; undefined for an indirect request checked without its segments. */
      nrSectors: bigint | undefined;
    }
  | { ok: false; status: BlkifStatus; message: string };

/**
 * Judges one request against the device. For BLKIF_OP_INDIRECT, pass the segments read from its indirect
 * pages once fetched; without them only the header is checked.
 */
export function validateRequest(
  req: BlkifRequest,
  vbd: VbdProperties,
  indirectSegments?: readonly BlkifSegment[],
): BlkifVerdict {
  const sectorSize = vbd.sectorSize ?? BLKIF_SECTOR_SIZE;
  if (!Number.isInteger(sectorSize) || sectorSize < BLKIF_SECTOR_SIZE || (sectorSize & (sectorSize - 1)) !== 0) {
    throw new BlkifError('EINVAL', `sector-size ${sectorSize} is not a power of two >= 512`);
  }
  const op = blkifOpName(req.operation);
  const error = (why: string): BlkifVerdict => ({
    ok: false,
    status: BLKIF_RSP.BLKIF_RSP_ERROR,
    message: `request id ${req.id} (${op}): ${why}`,
  });
  const unsupported = (why: string): BlkifVerdict => ({
    ok: false,
    status: BLKIF_RSP.BLKIF_RSP_EOPNOTSUPP,
    message: `request id ${req.id} (${op}): ${why}`,
  });
  const ro = vbd.readonly === true;

  if (isDiscardRequest(req)) {
    if (!vbd.featureDiscard) return unsupported('the device does not offer feature-discard');
    if ((req.flag & ~BLKIF_DISCARD_SECURE) !== 0)
      return error(`flag 0x${req.flag.toString(16)} has bits other than BLKIF_DISCARD_SECURE`);
    if (req.flag & BLKIF_DISCARD_SECURE && !vbd.discardSecure)
      return unsupported('secure discard asked of a device without discard-secure');
    if (ro) return error('the device is read-only');
    return range(req.sectorNumber, req.nrSectors, vbd, sectorSize, error);
  }

  if (isIndirectRequest(req)) {
    const max = vbd.maxIndirectSegments ?? 0;
    if (max <= 0) return unsupported('the device does not offer feature-max-indirect-segments');
    const inner = req.indirectOp;
    if (inner !== BLKIF_OP.BLKIF_OP_READ && inner !== BLKIF_OP.BLKIF_OP_WRITE)
      return error(`indirect_op ${blkifOpName(inner)} is neither READ nor WRITE`);
    if (req.nrSegments < 1) return error('nr_segments 0: an indirect request moves at least one segment');
    const pages = indirectPages(req.nrSegments);
    if (pages > BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST) {
      return error(
        `nr_segments ${req.nrSegments} needs ${pages} indirect pages, more than BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST ${BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST}`,
      );
    }
    if (req.nrSegments > max)
      return error(`nr_segments ${req.nrSegments} exceeds feature-max-indirect-segments ${max}`);
    if (req.indirectGrefs.length < pages)
      return error(`${pages} indirect pages needed, ${req.indirectGrefs.length} indirect_grefs given`);
    if (inner === BLKIF_OP.BLKIF_OP_WRITE && ro) return error('the device is read-only');
    if (!indirectSegments) return { ok: true, nrSectors: undefined };
    if (indirectSegments.length !== req.nrSegments)
      return error(
        `${indirectSegments.length} segments read from the indirect pages, nr_segments says ${req.nrSegments}`,
      );
    return segmentsInRange(req.sectorNumber, indirectSegments, vbd, sectorSize, error);
  }

  switch (req.operation) {
    case BLKIF_OP.BLKIF_OP_READ:
    case BLKIF_OP.BLKIF_OP_WRITE:
      if (req.nrSegments < 1 || req.nrSegments > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
        return error(`nr_segments ${req.nrSegments} is outside 1..${BLKIF_MAX_SEGMENTS_PER_REQUEST}`);
      }
      if (req.operation === BLKIF_OP.BLKIF_OP_WRITE && ro) return error('the device is read-only');
      break;
    case BLKIF_OP.BLKIF_OP_WRITE_BARRIER:
    case BLKIF_OP.BLKIF_OP_FLUSH_DISKCACHE: {
      const offered = req.operation === BLKIF_OP.BLKIF_OP_WRITE_BARRIER ? vbd.featureBarrier : vbd.featureFlushCache;
      if (!offered)
        return unsupported(
          `the device does not offer ${req.operation === BLKIF_OP.BLKIF_OP_WRITE_BARRIER ? 'feature-barrier' : 'feature-flush-cache'}`,
        );
      if (req.nrSegments > BLKIF_MAX_SEGMENTS_PER_REQUEST)
        return error(`nr_segments ${req.nrSegments} is outside 0..${BLKIF_MAX_SEGMENTS_PER_REQUEST}`);
      // With no segments it only orders or flushes; with segments it also writes them.
      if (req.nrSegments === 0) return { ok: true, nrSectors: 0n };
      if (ro) return error('the device is read-only');
      break;
    }
    default:
      return unsupported(`operation ${req.operation} is not supported`);
  }
  if (req.segments.length !== req.nrSegments)
    return error(`nr_segments ${req.nrSegments} but ${req.segments.length} segments`);
  return segmentsInRange(req.sectorNumber, req.segments, vbd, sectorSize, error);
}

function segmentsInRange(
  sectorNumber: bigint,
  segments: readonly BlkifSegment[],
  vbd: VbdProperties,
  sectorSize: number,
  error: (why: string) => BlkifVerdict,
): BlkifVerdict {
  const perSector = sectorSize / BLKIF_SECTOR_SIZE;
  let total = 0n;
  for (let i = 0; i < segments.length; i++) {
    const { firstSect, lastSect } = segments[i];
    if (firstSect > lastSect || lastSect >= BLKIF_SECTORS_PER_PAGE) {
      return error(
        `segment ${i}: first_sect ${firstSect}, last_sect ${lastSect} is not a range within 0..${BLKIF_SECTORS_PER_PAGE - 1}`,
      );
    }
    if (firstSect % perSector !== 0 || (lastSect + 1) % perSector !== 0) {
      return error(`segment ${i}: sectors ${firstSect}..${lastSect} are not aligned to sector-size ${sectorSize}`);
    }
    total += BigInt(lastSect - firstSect + 1);
  }
  return range(sectorNumber, total, vbd, sectorSize, error);
}

function range(
  sectorNumber: bigint,
  nrSectors: bigint,
  vbd: VbdProperties,
  sectorSize: number,
  error: (why: string) => BlkifVerdict,
): BlkifVerdict {
  const perSector = BigInt(sectorSize / BLKIF_SECTOR_SIZE);
  if (sectorNumber % perSector !== 0n || nrSectors % perSector !== 0n) {
    return error(`sectors ${sectorNumber}+${nrSectors} are not aligned to sector-size ${sectorSize}`);
  }
  if (sectorNumber + nrSectors > vbd.sectors) {
    return error(
      `sectors ${sectorNumber}..${sectorNumber + nrSectors - 1n} run past the end of the disk (${vbd.sectors} sectors)`,
    );
  }
  return { ok: true, nrSectors };
}

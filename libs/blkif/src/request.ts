// blkif requests (struct blkif_request and its discard and indirect variants) to and from bytes. The
// decoder accepts any operation byte and nr_segments a peer may send, so that a malformed request can
// still be answered by id; validateRequest() judges it.
import type { GrantRef } from '@dominion/abi';
import {
  BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST,
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
  BLKIF_OP,
  BLKIF_SEGMENT_SIZE,
  BLKIF_SEGS_PER_INDIRECT_FRAME,
  XEN_IO_PROTO_ABI_NATIVE,
  type BlkifProtocol,
} from './constants.js';
import { BlkifError } from './errors.js';
import { blkifLayout } from './layout.js';

/** struct blkif_request_segment: sectors first_sect..last_sect (inclusive, 0..7) of granted page gref. */
export interface BlkifSegment {
  gref: GrantRef;
  firstSect: number;
  lastSect: number;
}

/**
 * READ, WRITE, WRITE_BARRIER, FLUSH_DISKCACHE, and any operation this side does not know (decoded with
 * the read/write layout, whose id is where every request keeps it).
 */
export interface BlkifRwRequest {
  operation: number;
  nrSegments: number;
  /** The virtual device (blkif_vdev_t). */
  handle: number;
  id: bigint;
  sectorNumber: bigint;
  /** The first min(nr_segments, 11) segments. */
  segments: BlkifSegment[];
}

export interface BlkifDiscardRequest {
  operation: typeof BLKIF_OP.BLKIF_OP_DISCARD;
  /** BLKIF_DISCARD_SECURE or 0. */
  flag: number;
  handle: number;
  id: bigint;
  sectorNumber: bigint;
  nrSectors: bigint;
}

export interface BlkifIndirectRequest {
  operation: typeof BLKIF_OP.BLKIF_OP_INDIRECT;
  /** BLKIF_OP_READ or BLKIF_OP_WRITE. */
  indirectOp: number;
  nrSegments: number;
  handle: number;
  id: bigint;
  sectorNumber: bigint;
  /** Pages holding the segments, 512 per page; ceil(nr_segments/512) of them are used. */
  indirectGrefs: GrantRef[];
}

export type BlkifRequest = BlkifRwRequest | BlkifDiscardRequest | BlkifIndirectRequest;

export function isDiscardRequest(r: BlkifRequest): r is BlkifDiscardRequest {
  return r.operation === BLKIF_OP.BLKIF_OP_DISCARD;
}
export function isIndirectRequest(r: BlkifRequest): r is BlkifIndirectRequest {
  return r.operation === BLKIF_OP.BLKIF_OP_INDIRECT;
}

/** Indirect pages an indirect request of `nrSegments` segments uses: ceil(nr_segments / 512). */
export function indirectPages(nrSegments: number): number {
  return Math.ceil(nrSegments / BLKIF_SEGS_PER_INDIRECT_FRAME);
}

/** Encodes a request into one ring entry (sizeof(blkif_request) for the ABI; unused bytes zero). */
export function encodeRequest(req: BlkifRequest, protocol: BlkifProtocol = XEN_IO_PROTO_ABI_NATIVE): Buffer {
  const L = blkifLayout(protocol);
  const out = Buffer.alloc(L.requestSize);
  const where = `request id ${String(req.id)}`;
  out.writeUInt8(uint(req.operation, 8, `${where}: operation`), 0);
  out.writeBigUInt64LE(u64(req.id, `${where}: id`), L.id);
  out.writeBigUInt64LE(u64(req.sectorNumber, `${where}: sector_number`), L.sectorNumber);
  if (isDiscardRequest(req)) {
    out.writeUInt8(uint(req.flag, 8, `${where}: flag`), 1);
    out.writeUInt16LE(uint(req.handle, 16, `${where}: handle`), 2);
    out.writeBigUInt64LE(u64(req.nrSectors, `${where}: nr_sectors`), L.nrSectors);
  } else if (isIndirectRequest(req)) {
    out.writeUInt8(uint(req.indirectOp, 8, `${where}: indirect_op`), 1);
    out.writeUInt16LE(uint(req.nrSegments, 16, `${where}: nr_segments`), 2);
    out.writeUInt16LE(uint(req.handle, 16, `${where}: handle`), L.indirectHandle);
    if (req.indirectGrefs.length > BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST) {
      throw new BlkifError(
        'EINVAL',
        `${where}: ${req.indirectGrefs.length} indirect_grefs, at most ${BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST} fit`,
      );
    }
    req.indirectGrefs.forEach((g, i) =>
      out.writeUInt32LE(uint(g, 32, `${where}: indirect_grefs[${i}]`), L.indirectGrefs + 4 * i),
    );
  } else {
    out.writeUInt8(uint(req.nrSegments, 8, `${where}: nr_segments`), 1);
    out.writeUInt16LE(uint(req.handle, 16, `${where}: handle`), 2);
    if (req.segments.length > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
      throw new BlkifError(
        'EINVAL',
        `${where}: ${req.segments.length} segments, at most ${BLKIF_MAX_SEGMENTS_PER_REQUEST} fit`,
      );
    }
    req.segments.forEach((s, i) => writeSegment(out, L.seg + BLKIF_SEGMENT_SIZE * i, s, `${where}: seg[${i}]`));
  }
  return out;
}

/** Decodes one request; fails (EPROTO) only when the bytes are too few for the operation's struct. */
export function decodeRequest(buf: Uint8Array, protocol: BlkifProtocol = XEN_IO_PROTO_ABI_NATIVE): BlkifRequest {
  const L = blkifLayout(protocol);
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 1) throw new BlkifError('EPROTO', 'empty blkif request');
  const operation = b.readUInt8(0);
  const need =
    operation === BLKIF_OP.BLKIF_OP_DISCARD
      ? L.discardSize
      : operation === BLKIF_OP.BLKIF_OP_INDIRECT
        ? L.indirectSize
        : L.requestSize;
  if (b.length < need)
    throw new BlkifError(
      'EPROTO',
      `blkif request of ${b.length} bytes, operation ${operation} needs ${need} (${protocol})`,
    );
  const id = b.readBigUInt64LE(L.id);
  const sectorNumber = b.readBigUInt64LE(L.sectorNumber);
  if (operation === BLKIF_OP.BLKIF_OP_DISCARD) {
    return {
      operation,
      flag: b.readUInt8(1),
      handle: b.readUInt16LE(2),
      id,
      sectorNumber,
      nrSectors: b.readBigUInt64LE(L.nrSectors),
    };
  }
  if (operation === BLKIF_OP.BLKIF_OP_INDIRECT) {
    const nrSegments = b.readUInt16LE(2);
    const pages = Math.min(indirectPages(nrSegments), BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
    const indirectGrefs = Array.from({ length: pages }, (_, i) => b.readUInt32LE(L.indirectGrefs + 4 * i));
    return {
      operation,
      indirectOp: b.readUInt8(1),
      nrSegments,
      handle: b.readUInt16LE(L.indirectHandle),
      id,
      sectorNumber,
      indirectGrefs,
    };
  }
  const nrSegments = b.readUInt8(1);
  const segments = Array.from({ length: Math.min(nrSegments, BLKIF_MAX_SEGMENTS_PER_REQUEST) }, (_, i) =>
    readSegment(b, L.seg + BLKIF_SEGMENT_SIZE * i),
  );
  return { operation, nrSegments, handle: b.readUInt16LE(2), id, sectorNumber, segments };
}

/** Lays segments out in indirect pages, 512 per 4 KiB page. */
export function encodeIndirectSegments(segments: readonly BlkifSegment[]): Buffer[] {
  const pages = Array.from({ length: indirectPages(segments.length) }, () => Buffer.alloc(4096));
  segments.forEach((s, i) => {
    const page = pages[Math.floor(i / BLKIF_SEGS_PER_INDIRECT_FRAME)];
    writeSegment(page, (i % BLKIF_SEGS_PER_INDIRECT_FRAME) * BLKIF_SEGMENT_SIZE, s, `indirect segment ${i}`);
  });
  return pages;
}

/** Reads `nrSegments` segments out of the indirect pages an indirect request names. */
export function decodeIndirectSegments(pages: readonly Uint8Array[], nrSegments: number): BlkifSegment[] {
  const need = indirectPages(nrSegments);
  if (pages.length < need)
    throw new BlkifError('EPROTO', `${nrSegments} indirect segments need ${need} indirect pages, got ${pages.length}`);
  return Array.from({ length: nrSegments }, (_, i) => {
    const p = pages[Math.floor(i / BLKIF_SEGS_PER_INDIRECT_FRAME)];
    const at = (i % BLKIF_SEGS_PER_INDIRECT_FRAME) * BLKIF_SEGMENT_SIZE;
    if (p.length < at + BLKIF_SEGMENT_SIZE)
      throw new BlkifError(
        'EPROTO',
        `indirect page ${Math.floor(i / BLKIF_SEGS_PER_INDIRECT_FRAME)} is ${p.length} bytes, too short for segment ${i}`,
      );
    return readSegment(Buffer.from(p.buffer, p.byteOffset, p.byteLength), at);
  });
}

function writeSegment(out: Buffer, at: number, s: BlkifSegment, where: string): void {
  out.writeUInt32LE(uint(s.gref, 32, `${where}.gref`), at);
  out.writeUInt8(uint(s.firstSect, 8, `${where}.first_sect`), at + 4);
  out.writeUInt8(uint(s.lastSect, 8, `${where}.last_sect`), at + 5);
}

function readSegment(b: Buffer, at: number): BlkifSegment {
  return { gref: b.readUInt32LE(at), firstSect: b.readUInt8(at + 4), lastSect: b.readUInt8(at + 5) };
}

export function uint(v: number, bits: 8 | 16 | 32, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits)
    throw new BlkifError('EINVAL', `${what}: ${v} is not a u${bits}`);
  return v;
}

export function u64(v: bigint, what: string): bigint {
  if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n)
    throw new BlkifError('EINVAL', `${what}: ${String(v)} is not a u64`);
  return v;
}

// blkback's request engine for one virtual block device: takes decoded blkif requests with the grant
// copies the ring delivered for them (BackRequest), checks each with libs/blkif's validateRequest, runs it
// on the BlockBackend and produces the response with the bytes to copy into the frontend's grants.
// A bad request fails alone (BLKIF_RSP_ERROR, or BLKIF_RSP_EOPNOTSUPP for an operation not offered) with
// a log line naming the domain, the device and the request id; nothing a frontend sends throws here.
//
// Ordering, as blkif.h defines it: requests run concurrently; FLUSH_DISKCACHE completes only once every
// write received before it has completed and then been made durable (so a write acknowledged before a
// flush was issued is durable when the flush is acknowledged); WRITE_BARRIER also waits for every earlier
// request, and requests received after it wait for it. Data a flush or barrier carries itself is written
// before its flush, so it is durable too.
import type { GrantRef } from '@dominion/abi';
import { XEN_PAGE_SIZE } from '@dominion/abi';
import {
  BLKIF_DEFAULT_MAX_INDIRECT_SEGMENTS,
  BLKIF_OP,
  BLKIF_RSP,
  BLKIF_SECTOR_SIZE,
  blkifOpName,
  blkifResponse,
  decodeIndirectSegments,
  indirectPages,
  isDiscardRequest,
  isIndirectRequest,
  validateRequest,
  type BlkifRequest,
  type BlkifResponse,
  type BlkifSegment,
  type VbdProperties,
} from '@dominion/blkif';
import type { BackRequest, BackRing, GrantCopy, RingResponse } from '@dominion/ring';
import type { BlockBackend } from './block-backend.js';
import { silentVbdLogger, type VbdLogger } from './logger.js';

/** Where a request's grant copies come from: BackRequest, as libs/ring's BackRing delivers it. */
export interface GrantSource {
  /** `length` bytes of grant `ref` at `offset`; throws (RingError EFAULT) for bytes not handed over. */
  read(ref: GrantRef, offset?: number, length?: number): Uint8Array;
}

export interface VbdFeatures {
  /** feature-flush-cache; default true. */
  flushCache?: boolean;
  /** feature-barrier; default true. */
  barrier?: boolean;
  /** feature-discard; default true. */
  discard?: boolean;
  /** feature-max-indirect-segments; default 256 as Linux blkback; 0 offers no indirect requests. */
  maxIndirectSegments?: number;
}

export interface VbdServerOptions {
  backend: BlockBackend;
  /** The frontend's domain and the device number: every log line names them. */
  frontendDomid: number;
  devid: number;
  features?: VbdFeatures;
  logger?: VbdLogger;
}

type Outcome = RingResponse<BlkifResponse>;

/** A request validateRequest refused, with the status to answer. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class VbdServer {
  readonly properties: VbdProperties;
  readonly backend: BlockBackend;
  private readonly label: string;
  private readonly log: VbdLogger;
  private readonly fields: { domid: number; devid: number };
  /** Requests received after a barrier wait for this. */
  private barrier: Promise<void> = Promise.resolve();
  private readonly all = new Set<Promise<Outcome>>();
  private readonly writes = new Set<Promise<Outcome>>();

  constructor(opts: VbdServerOptions) {
    const f = opts.features ?? {};
    this.backend = opts.backend;
    this.properties = {
      sectors: opts.backend.sectors,
      sectorSize: opts.backend.sectorSize,
      readonly: opts.backend.readOnly,
      featureFlushCache: f.flushCache ?? true,
      featureBarrier: f.barrier ?? true,
      featureDiscard: f.discard ?? true,
      discardSecure: false,
      maxIndirectSegments: f.maxIndirectSegments ?? BLKIF_DEFAULT_MAX_INDIRECT_SEGMENTS,
    };
    this.label = `vbd ${opts.frontendDomid}/${opts.devid}`;
    this.fields = { domid: opts.frontendDomid, devid: opts.devid };
    this.log = opts.logger ?? silentVbdLogger;
  }

  /** Requests received and not answered yet. */
  get inFlight(): number {
    return this.all.size;
  }

  /**
   * Runs one request; call in ring order (ordering against flushes and barriers is taken at the call).
   * Resolves with the response and the bytes to copy into the frontend's grants; never rejects.
   */
  execute(req: BlkifRequest, grants: GrantSource): Promise<Outcome> {
    const gate = this.barrier;
    const op = req.operation;
    const earlier =
      op === BLKIF_OP.BLKIF_OP_WRITE_BARRIER
        ? [...this.all]
        : op === BLKIF_OP.BLKIF_OP_FLUSH_DISKCACHE
          ? [...this.writes]
          : [];
    const p = (async () => {
      await gate;
      await Promise.all(earlier);
      return this.run(req, grants);
    })();
    this.all.add(p);
    if (modifiesData(req)) this.writes.add(p);
    void p.then(() => {
      this.all.delete(p);
      this.writes.delete(p);
    });
    if (op === BLKIF_OP.BLKIF_OP_WRITE_BARRIER) this.barrier = p.then(() => undefined);
    return p;
  }

  /** Executes a batch the ring delivered and answers each request on it as it completes. */
  async serve(
    ring: Pick<BackRing<BlkifRequest, BlkifResponse>, 'respond'>,
    requests: readonly BackRequest<BlkifRequest>[],
  ): Promise<void> {
    await Promise.all(
      requests.map((r) =>
        this.execute(r.req, r).then((out) => {
          ring.respond(out.rsp, out.copies);
        }),
      ),
    );
  }

  /** Resolves once every request received so far is answered. */
  async drain(): Promise<void> {
    while (this.all.size > 0) await Promise.all([...this.all]);
  }

  private async run(req: BlkifRequest, grants: GrantSource): Promise<Outcome> {
    try {
      const copies = await this.perform(req, grants);
      return { rsp: blkifResponse(req, BLKIF_RSP.BLKIF_RSP_OKAY), copies };
    } catch (e) {
      const r =
        e instanceof Refusal
          ? e
          : new Refusal(
              BLKIF_RSP.BLKIF_RSP_ERROR,
              `request id ${String(req.id)} (${blkifOpName(req.operation)}): ${e instanceof Error ? e.message : String(e)}`,
            );
      this.log(e instanceof Refusal ? 'warn' : 'error', `${this.label}: ${r.message}`, {
        ...this.fields,
        id: String(req.id),
        status: r.status,
      });
      return { rsp: blkifResponse(req, r.status), copies: [] };
    }
  }

  private judge(req: BlkifRequest, segments?: readonly BlkifSegment[]): void {
    const v = validateRequest(req, this.properties, segments);
    if (!v.ok) throw new Refusal(v.status, v.message);
  }

  private async perform(req: BlkifRequest, grants: GrantSource): Promise<GrantCopy[]> {
    const d = this.backend;
    if (isDiscardRequest(req)) {
      this.judge(req);
      await d.discard(bytes(req.sectorNumber), bytes(req.nrSectors));
      return [];
    }
    let op = req.operation;
    let segments: readonly BlkifSegment[];
    if (isIndirectRequest(req)) {
      this.judge(req);
      const pages = Array.from({ length: indirectPages(req.nrSegments) }, (_, i) =>
        grants.read(req.indirectGrefs[i], 0, XEN_PAGE_SIZE),
      );
      segments = decodeIndirectSegments(pages, req.nrSegments);
      this.judge(req, segments);
      op = req.indirectOp;
    } else {
      this.judge(req);
      segments = req.segments;
    }
    const offset = bytes(req.sectorNumber);
    switch (op) {
      case BLKIF_OP.BLKIF_OP_READ: {
        const data = await d.read(offset, totalBytes(segments));
        let at = 0;
        return segments.map((s) => {
          const n = segBytes(s);
          const copy = { ref: s.gref, offset: s.firstSect * BLKIF_SECTOR_SIZE, data: data.subarray(at, at + n) };
          at += n;
          return copy;
        });
      }
      case BLKIF_OP.BLKIF_OP_WRITE:
        await d.write(offset, gather(segments, grants));
        return [];
      default: {
        // FLUSH_DISKCACHE and WRITE_BARRIER: earlier writes are done (execute waited); write what this one
        // carries, then make it all durable. A read-only disk has nothing to make durable.
        if (segments.length > 0) await d.write(offset, gather(segments, grants));
        if (!d.readOnly) await d.flush();
        return [];
      }
    }
  }
}

function modifiesData(req: BlkifRequest): boolean {
  if (isDiscardRequest(req)) return true;
  if (isIndirectRequest(req)) return req.indirectOp === BLKIF_OP.BLKIF_OP_WRITE;
  return req.operation !== BLKIF_OP.BLKIF_OP_READ;
}

const bytes = (sectors: bigint): number => Number(sectors) * BLKIF_SECTOR_SIZE;
const segBytes = (s: BlkifSegment): number => (s.lastSect - s.firstSect + 1) * BLKIF_SECTOR_SIZE;
const totalBytes = (segs: readonly BlkifSegment[]): number => segs.reduce((n, s) => n + segBytes(s), 0);

/** The bytes of a write, segment after segment, copied out of the frontend's grants. */
function gather(segments: readonly BlkifSegment[], grants: GrantSource): Buffer {
  return Buffer.concat(segments.map((s) => grants.read(s.gref, s.firstSect * BLKIF_SECTOR_SIZE, segBytes(s))));
}

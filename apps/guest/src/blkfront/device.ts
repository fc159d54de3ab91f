// One virtual disk of the guest, as Linux's blkfront drives it (xen-facts §2, §5): the xenbus handshake
// (libs/xenbus XenbusFrontend), per queue a real guest page granted to the backend as its ring-ref and an
// event channel allocated unbound to the backend, then one ring stream per queue to the backend's
// `grpc-endpoint` (docs/device-keys.md). I/O goes in requests whose segments are granted guest pages, with
// indirect segments when the backend offers them.
//
// Beyond Xen: when the backend goes away (its driver domain restarted, possibly under a new domid) the
// rings keep their requests in flight; the handshake runs again with the backend that comes back (the
// frontend's `backend`/`backend-id` are followed), fresh ring grants and event channels are published, and
// the streams dial the endpoint read afresh and re-issue what was in flight. The guest sees a stall.
import type { DomId, EvtchnPort } from '@dominion/abi';
import {
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
  BLKIF_OP,
  BLKIF_RING_IDS,
  BLKIF_RSP,
  BLKIF_SECTORS_PER_PAGE,
  VBD_BACKEND_KEYS as BK,
  VDISK,
  XEN_IO_PROTO_ABI_NATIVE,
  blkifOpName,
  blkifRingCodec,
  blkifRingSize,
  devidToVdev,
  devidVdev,
  encodeIndirectSegments,
  indirectPages,
  type BlkifRequest,
  type BlkifResponse,
  type BlkifSegment,
} from '@dominion/blkif';
import { FrontRing, MultiQueueFront, type GrantSpan } from '@dominion/ring';
import { RingFrontStream, type RingStreamLog, type RingTarget } from '@dominion/ringstream';
import {
  S,
  XENBUS_KEYS,
  XenbusFrontend,
  queueKey,
  ringRefKey,
  silentLogger,
  type XenbusBackendView,
  type XenbusFrontendDisconnect,
  type XenbusKeys,
  type XenbusLogger,
  type XenbusStore,
} from '@dominion/xenbus';
import type { GuestMemory } from '../memory.js';
import { SECTOR, type BlockDevice } from './block-device.js';
import { BlkfrontError } from './errors.js';
import type { FramePool } from './frames.js';

/** The event-channel calls blkfront makes (libs/evtchn's EventChannels). */
export interface BlkfrontEvtchn {
  allocUnbound(remoteDom: DomId): Promise<EvtchnPort>;
  close(port: EvtchnPort): Promise<void>;
  on(port: EvtchnPort, handler: (port: EvtchnPort) => void): () => void;
}

export interface BlkfrontDeviceOptions {
  store: XenbusStore;
  /** /local/domain/<me>/device/vbd/<devid> */
  path: string;
  domid: DomId;
  memory: GuestMemory;
  frames: FramePool;
  evtchn: BlkfrontEvtchn;
  /** The domain's nkey seed: signs the backend's ring challenges. */
  seed: string;
  /** Queues wanted (capped by the backend's multi-queue-max-queues); default 4, as Linux's xen_blkif_max_queues. */
  maxQueues?: number;
  /** ring-page-order wanted (capped by max-ring-page-order); default 0, as Linux's xen_blkif_max_ring_order. */
  ringPageOrder?: number;
  /** Segments per indirect request wanted (capped by feature-max-indirect-segments); default 256. */
  maxIndirectSegments?: number;
  /** How long in-flight requests may take to finish when the backend closes the device; default 5 s. */
  drainMs?: number;
  /** xenbus waits; default 10 s. */
  timeoutMs?: number;
  /** Redial backoff of the ring streams. */
  retry?: { initialMs?: number; maxMs?: number };
  logger?: XenbusLogger;
}

export type BlkfrontPhase = 'new' | 'connecting' | 'connected' | 'closing' | 'closed';

interface Queue {
  ring: FrontRing<BlkifRequest, BlkifResponse>;
  stream: RingFrontStream<BlkifRequest, BlkifResponse>;
  /** The ring's pages (granted afresh at each handshake). */
  ringPfns: number[];
  ringRefs: number[];
  port: EvtchnPort | undefined;
  unbind: (() => void) | undefined;
}

const DEFAULT_MAX_QUEUES = 4;
const DEFAULT_MAX_INDIRECT = 256;
/** A refused stream (a dial that raced the backend's handshake) is tried again after this. */
const REFUSED_RETRY_MS = 500;

export class BlkfrontDevice implements BlockDevice {
  readonly path: string;
  readonly devid: number;
  readonly name: string;
  readonly major: number;
  readonly minor: number;
  sectors = 0;
  sectorSize = SECTOR;
  readOnly = false;
  removable = false;
  cdrom = false;
  featureFlushCache = false;
  featureBarrier = false;
  featureDiscard = false;
  /** feature-max-indirect-segments as published (0: none). */
  backendMaxIndirect = 0;
  private readonly opts: BlkfrontDeviceOptions;
  private readonly log: XenbusLogger;
  private xenbus: XenbusFrontend | undefined;
  private backendPath = '';
  private backendDomid: DomId = 0;
  private _phase: BlkfrontPhase = 'new';
  private queues: Queue[] = [];
  private mq: MultiQueueFront<BlkifRequest, BlkifResponse> | undefined;
  private ringPageOrder = 0;
  private nextId = 1n;
  private linkWaiters: Array<{ resolve(): void; reject(e: Error): void }> = [];
  private readonly watchToken: string;
  private moving: Promise<void> = Promise.resolve();
  private refusedTimers = new Set<NodeJS.Timeout>();
  /** Times the xenbus handshake reached Connected. */
  connects = 0;

  constructor(opts: BlkfrontDeviceOptions) {
    this.opts = opts;
    this.path = opts.path;
    this.log = opts.logger ?? silentLogger;
    const last = opts.path.split('/').pop() ?? '';
    if (!/^[0-9]+$/.test(last)) throw new BlkfrontError('EINVAL', `${opts.path}: the device id is not a number`);
    this.devid = Number(last);
    let name: string;
    try {
      name = devidVdev(this.devid).name;
    } catch {
      name = devidToVdev(this.devid);
    }
    this.name = name;
    // Linux gives xvd disks major 202 and 16 minors a disk, also for the extended numbering.
    const v = (() => {
      try {
        return devidVdev(this.devid);
      } catch {
        return undefined;
      }
    })();
    if (v && v.kind === 'xvd') {
      this.major = 202;
      this.minor = v.disk * 16 + v.partition;
    } else {
      this.major = (this.devid >>> 8) & 0xfff;
      this.minor = this.devid & 0xff;
    }
    this.watchToken = `blkfront:${opts.path}:${Math.random().toString(36).slice(2)}`;
  }

  get phase(): BlkfrontPhase {
    return this._phase;
  }

  /** Requests holding a ring slot, over all queues. */
  get inFlight(): number {
    return this.mq?.inFlight ?? 0;
  }

  /** Requests re-issued on a new stream after the backend went away. */
  get reissued(): number {
    return this.queues.reduce((n, q) => n + q.ring.reissued, 0);
  }

  get queueCount(): number {
    return this.queues.length;
  }

  /** The ring streams, for tests and diagnostics. */
  get streams(): ReadonlyArray<RingFrontStream<BlkifRequest, BlkifResponse>> {
    return this.queues.map((q) => q.stream);
  }

  /** Starts the handshake and follows the frontend's `backend` node (a backend moved to a new domid). */
  async start(): Promise<void> {
    this._phase = 'connecting';
    await this.startXenbus();
    await this.opts.store.watch(`${this.path}/${XENBUS_KEYS.BACKEND}`, this.watchToken, () => {
      this.moving = this.moving.then(() => this.followBackend()).catch((e: unknown) => this.warn('backend move', e));
    });
  }

  /** Resolves once the device is Connected (the first time, or again after a reconnect). */
  whenConnected(timeoutMs = this.opts.timeoutMs ?? 10_000): Promise<void> {
    if (this._phase === 'connected') return Promise.resolve();
    if (this._phase === 'closed' || this._phase === 'closing')
      return Promise.reject(new BlkfrontError('ESHUTDOWN', `${this.name}: ${this.path} is ${this._phase}`));
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.linkWaiters = this.linkWaiters.filter((w) => w.resolve !== done);
        reject(new BlkfrontError('EIO', `${this.name}: ${this.path} not Connected after ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      this.linkWaiters.push({
        resolve: done,
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
    });
  }

  /** The guest going away: stops following, ends the streams; writes nothing. */
  async stop(): Promise<void> {
    if (this._phase === 'closed') return;
    await this.opts.store.unwatch(`${this.path}/${XENBUS_KEYS.BACKEND}`, this.watchToken).catch(() => undefined);
    await this.moving;
    await this.xenbus?.stop();
    await this.teardown('the guest stopped');
  }

  // ---- I/O ----

  async read(sector: number, count: number): Promise<Uint8Array> {
    this.checkRange('read', sector, count);
    const out = new Uint8Array(count * SECTOR);
    await Promise.all(
      this.chunks(sector, count).map(([s, n]) =>
        this.transfer(BLKIF_OP.BLKIF_OP_READ, s, n, out.subarray((s - sector) * SECTOR, (s - sector + n) * SECTOR)),
      ),
    );
    return out;
  }

  async write(sector: number, data: Uint8Array): Promise<void> {
    if (data.length % SECTOR !== 0)
      throw new BlkfrontError('EINVAL', `${this.name}: write of ${data.length} bytes: not whole 512-byte sectors`);
    const count = data.length / SECTOR;
    this.checkRange('write', sector, count);
    await Promise.all(
      this.chunks(sector, count).map(([s, n]) =>
        this.transfer(BLKIF_OP.BLKIF_OP_WRITE, s, n, data.subarray((s - sector) * SECTOR, (s - sector + n) * SECTOR)),
      ),
    );
  }

  async flush(): Promise<void> {
    this.admit('flush');
    // Without either feature the backend has no volatile cache to flush (Linux: no REQ_PREFLUSH).
    const op = this.featureFlushCache
      ? BLKIF_OP.BLKIF_OP_FLUSH_DISKCACHE
      : this.featureBarrier
        ? BLKIF_OP.BLKIF_OP_WRITE_BARRIER
        : undefined;
    if (op === undefined) return;
    const id = this.nextId++;
    const rsp = await this.submit(
      { operation: op, nrSegments: 0, handle: this.handle(), id, sectorNumber: 0n, segments: [] },
      [],
    );
    this.checkStatus(rsp, op, 0, 0);
  }

  async discard(sector: number, count: number): Promise<void> {
    this.checkRange('discard', sector, count);
    if (!this.featureDiscard)
      throw new BlkfrontError('EOPNOTSUPP', `${this.name}: the backend does not offer feature-discard`);
    const rsp = await this.submit(
      {
        operation: BLKIF_OP.BLKIF_OP_DISCARD,
        flag: 0,
        handle: this.handle(),
        id: this.nextId++,
        sectorNumber: BigInt(sector),
        nrSectors: BigInt(count),
      },
      [],
    );
    this.checkStatus(rsp, BLKIF_OP.BLKIF_OP_DISCARD, sector, count);
  }

  /** Pages one request may carry: 11 direct segments, or the indirect segments both ends allow. */
  get maxSegments(): number {
    const indirect = Math.min(this.backendMaxIndirect, this.opts.maxIndirectSegments ?? DEFAULT_MAX_INDIRECT);
    // A request's pages and its indirect pages come from the frame pool; leave room for others.
    const pool = Math.max(1, Math.floor(this.opts.frames.capacity / 4) - 1);
    return Math.max(1, Math.min(Math.max(indirect, BLKIF_MAX_SEGMENTS_PER_REQUEST), pool));
  }

  private handle(): number {
    return this.devid & 0xffff;
  }

  private admit(what: string): void {
    if (this._phase === 'closing' || this._phase === 'closed')
      throw new BlkfrontError(
        'ESHUTDOWN',
        `${this.name}: ${what} refused: the device is ${this._phase === 'closing' ? 'being detached' : 'detached'} (${this.path})`,
      );
    if (this._phase === 'new' || !this.mq)
      throw new BlkfrontError('EIO', `${this.name}: ${what} refused: ${this.path} never connected`);
  }

  private checkRange(what: string, sector: number, count: number): void {
    this.admit(what);
    const align = this.sectorSize / SECTOR;
    if (!Number.isSafeInteger(sector) || !Number.isSafeInteger(count) || sector < 0 || count < 1)
      throw new BlkfrontError('EINVAL', `${this.name}: ${what} of ${count} sectors at ${sector}: not a sector range`);
    if (sector % align !== 0 || count % align !== 0)
      throw new BlkfrontError(
        'EINVAL',
        `${this.name}: ${what} of ${count} sectors at ${sector}: not aligned to the ${this.sectorSize}-byte sector size`,
      );
    if (sector + count > this.sectors)
      throw new BlkfrontError(
        'ENOSPC',
        `${this.name}: ${what} of ${count} sectors at ${sector}: past the end of the disk (${this.sectors} sectors)`,
      );
  }

  /** [sector, count] pieces of at most maxSegments pages each. */
  private chunks(sector: number, count: number): Array<[number, number]> {
    const per = this.maxSegments * BLKIF_SECTORS_PER_PAGE;
    const out: Array<[number, number]> = [];
    for (let s = sector; s < sector + count; s += per) out.push([s, Math.min(per, sector + count - s)]);
    return out;
  }

  /** One READ or WRITE request (indirect when it has more than 11 segments) over granted guest pages. */
  private async transfer(op: number, sector: number, count: number, buf: Uint8Array): Promise<void> {
    const pages = Math.ceil(count / BLKIF_SECTORS_PER_PAGE);
    const indirect = pages > BLKIF_MAX_SEGMENTS_PER_REQUEST;
    const pfns = await this.opts.frames.take(pages + (indirect ? indirectPages(pages) : 0));
    const mem = this.opts.memory;
    const refs: Array<{ ref: number; pfn: number }> = [];
    try {
      this.admit(blkifOpName(op));
      const q = this.mq!.pick();
      const to = this.queues[q].ring.backendDomid;
      const write = op === BLKIF_OP.BLKIF_OP_WRITE;
      const segments: BlkifSegment[] = [];
      for (let i = 0; i < pages; i++) {
        const n = Math.min(BLKIF_SECTORS_PER_PAGE, count - i * BLKIF_SECTORS_PER_PAGE);
        const frame = mem.frame(pfns[i]);
        if (write) frame.set(buf.subarray(i * 4096, i * 4096 + n * SECTOR));
        const ref = mem.grant(to, pfns[i], write);
        refs.push({ ref, pfn: pfns[i] });
        segments.push({ gref: ref, firstSect: 0, lastSect: n - 1 });
      }
      const spans: GrantSpan[] = refs.map((r) => ({ ref: r.ref }));
      const id = this.nextId++;
      let req: BlkifRequest;
      if (indirect) {
        const indirectGrefs = encodeIndirectSegments(segments).map((page, i) => {
          const pfn = pfns[pages + i];
          mem.frame(pfn).set(page);
          const ref = mem.grant(to, pfn, true);
          refs.push({ ref, pfn });
          return ref;
        });
        spans.push(...indirectGrefs.map((ref) => ({ ref })));
        req = {
          operation: BLKIF_OP.BLKIF_OP_INDIRECT,
          indirectOp: op,
          nrSegments: pages,
          handle: this.handle(),
          id,
          sectorNumber: BigInt(sector),
          indirectGrefs,
        };
      } else {
        req = { operation: op, nrSegments: pages, handle: this.handle(), id, sectorNumber: BigInt(sector), segments };
      }
      const rsp = await this.submit(req, spans, q);
      this.checkStatus(rsp, op, sector, count);
      if (!write)
        for (let i = 0; i < pages; i++)
          buf.set(mem.frame(pfns[i]).subarray(0, Math.min(4096, buf.length - i * 4096)), i * 4096);
    } finally {
      // The ring revokes a request's grants when it completes; these are what a refused submit left.
      for (const r of refs) {
        const g = mem.grants.get(r.ref);
        if (g && g.page === mem.frame(r.pfn)) mem.revoke(r.ref);
      }
      this.opts.frames.give(pfns);
    }
  }

  private async submit(req: BlkifRequest, spans: GrantSpan[], queue?: number): Promise<BlkifResponse> {
    this.admit(blkifOpName(req.operation));
    try {
      return await this.mq!.submit(req, spans, queue);
    } catch (e) {
      const kind = (e as { kind?: string }).kind;
      if (kind === 'ESHUTDOWN')
        throw new BlkfrontError('ESHUTDOWN', `${this.name}: request id ${req.id} abandoned: ${(e as Error).message}`);
      throw new BlkfrontError('EIO', `${this.name}: request id ${req.id}: ${(e as Error).message}`);
    }
  }

  private checkStatus(rsp: BlkifResponse, op: number, sector: number, count: number): void {
    if (rsp.status === BLKIF_RSP.BLKIF_RSP_OKAY) return;
    const what = `${this.name}: ${blkifOpName(op)} of ${count} sectors at sector ${sector} (request id ${rsp.id})`;
    if (rsp.status === BLKIF_RSP.BLKIF_RSP_EOPNOTSUPP)
      throw new BlkfrontError('EOPNOTSUPP', `${what}: the backend answered BLKIF_RSP_EOPNOTSUPP`);
    throw new BlkfrontError('EIO', `${what}: the backend answered BLKIF_RSP_ERROR (status ${rsp.status})`);
  }

  // ---- the handshake ----

  private async startXenbus(): Promise<void> {
    const fe = new XenbusFrontend({
      store: this.opts.store,
      path: this.path,
      timeoutMs: this.opts.timeoutMs,
      logger: this.log,
      handlers: {
        publish: (b) => this.publish(b),
        connected: (b) => this.connected(b),
        disconnected: (why) => this.disconnected(why),
      },
    });
    this.xenbus = fe;
    await fe.start();
    this.backendPath = (await this.opts.store.tryRead(`${this.path}/${XENBUS_KEYS.BACKEND}`)) ?? '';
  }

  /** The toolstack pointed `backend` at another dir (a driver domain back under a new domid). */
  private async followBackend(): Promise<void> {
    if (this._phase === 'closing' || this._phase === 'closed' || !this.xenbus) return;
    const now = await this.opts.store.tryRead(`${this.path}/${XENBUS_KEYS.BACKEND}`);
    if (now === undefined || now === this.backendPath) return;
    this.log('info', `${this.name}: backend moved from ${this.backendPath} to ${now}: handshake again`);
    await this.xenbus.stop();
    if (this._phase === 'connected') this.unlink();
    // A new backend dir starts at Initialising and never saw this end: announce ourselves afresh. The keys
    // of the last handshake go, so that the next one creates them with the dir's current permissions
    // (readable by the new backend domain).
    const old = this.transportKeys();
    await this.opts.store.transaction(async (tx) => {
      for (const k of old) await tx.rm(`${this.path}/${k}`);
      await tx.write(`${this.path}/${XENBUS_KEYS.STATE}`, String(S.Initialising));
    });
    await this.startXenbus();
  }

  /** The top-level keys publish() writes. */
  private transportKeys(): string[] {
    const nq = this.queues.length;
    const keys: string[] = [XENBUS_KEYS.PROTOCOL, XENBUS_KEYS.MULTI_QUEUE_NUM_QUEUES, XENBUS_KEYS.RING_PAGE_ORDER];
    if (nq > 1) for (let q = 0; q < nq; q++) keys.push(queueKey(q));
    else keys.push(XENBUS_KEYS.RING_REF, XENBUS_KEYS.EVENT_CHANNEL, ...[0, 1, 2, 3].map(ringRefKey));
    return keys;
  }

  private async publish(b: XenbusBackendView): Promise<XenbusKeys> {
    this.backendDomid = b.domid;
    this.backendPath = b.path;
    const k = b.keys;
    if (this.queues.length === 0) {
      const maxQueues = uintKey(k[BK.MULTI_QUEUE_MAX_QUEUES]) ?? 1;
      this.ringPageOrder = Math.min(this.opts.ringPageOrder ?? 0, uintKey(k[BK.MAX_RING_PAGE_ORDER]) ?? 0);
      const pages = 1 << this.ringPageOrder;
      // Ring pages may take at most half of the frames, or no I/O could ever get any.
      const room = Math.max(1, Math.floor(this.opts.frames.capacity / 2 / pages));
      const nq = Math.max(1, Math.min(this.opts.maxQueues ?? DEFAULT_MAX_QUEUES, maxQueues, room));
      const ringPfns = await this.opts.frames.take(nq * pages);
      for (let q = 0; q < nq; q++) this.queues.push(this.newQueue(q, ringPfns.slice(q * pages, (q + 1) * pages)));
      this.mq = new MultiQueueFront(this.queues.map((q) => q.ring));
    }
    const nq = this.queues.length;
    const keys: XenbusKeys = { [XENBUS_KEYS.PROTOCOL]: XEN_IO_PROTO_ABI_NATIVE };
    if (nq > 1 || k[BK.MULTI_QUEUE_MAX_QUEUES] !== undefined) keys[XENBUS_KEYS.MULTI_QUEUE_NUM_QUEUES] = String(nq);
    if (this.ringPageOrder > 0) keys[XENBUS_KEYS.RING_PAGE_ORDER] = String(this.ringPageOrder);
    const mem = this.opts.memory;
    for (let i = 0; i < nq; i++) {
      const q = this.queues[i];
      // Fresh grants and a fresh event channel for this backend: the previous one may be gone for good.
      for (const ref of q.ringRefs) if (mem.grants.get(ref)) mem.revoke(ref);
      q.ringRefs = q.ringPfns.map((pfn) => mem.grant(b.domid, pfn));
      q.unbind?.();
      if (q.port !== undefined) await this.opts.evtchn.close(q.port).catch(() => undefined);
      q.port = await this.opts.evtchn.allocUnbound(b.domid);
      // A notification from the backend is a reconnect kick: dial now rather than after the backoff.
      q.unbind = this.opts.evtchn.on(q.port, () => q.stream.kick());
      const dir = nq > 1 ? `${queueKey(i)}/` : '';
      if (this.ringPageOrder > 0) q.ringRefs.forEach((ref, p) => (keys[`${dir}${ringRefKey(p)}`] = String(ref)));
      else keys[`${dir}${XENBUS_KEYS.RING_REF}`] = String(q.ringRefs[0]);
      keys[`${dir}${XENBUS_KEYS.EVENT_CHANNEL}`] = String(q.port);
    }
    return keys;
  }

  private newQueue(q: number, ringPfns: number[]): Queue {
    const label = `${this.name} queue-${q}`;
    const ring = new FrontRing<BlkifRequest, BlkifResponse>({
      size: blkifRingSize(1 << this.ringPageOrder),
      backendDomid: this.backendDomid,
      grants: this.opts.memory.grants,
      ...BLKIF_RING_IDS,
      maxQueued: this.opts.frames.capacity,
      label,
    });
    const log: RingStreamLog = {
      info: (o, m) => this.log('info', m, o),
      warn: (o, m) => this.log('warn', m, o),
    };
    const queue: Queue = { ring, stream: undefined!, ringPfns, ringRefs: [], port: undefined, unbind: undefined };
    queue.stream = new RingFrontStream({
      ring,
      codec: blkifRingCodec(XEN_IO_PROTO_ABI_NATIVE),
      frontendDomid: this.opts.domid,
      seed: this.opts.seed,
      queue: q,
      target: () => this.target(queue, q),
      retry: this.opts.retry,
      log,
      onState: (s) => {
        if (s !== 'refused' || this._phase === 'closed' || this._phase === 'closing') return;
        const t = setTimeout(() => {
          this.refusedTimers.delete(t);
          queue.stream.kick();
        }, REFUSED_RETRY_MS);
        this.refusedTimers.add(t);
      },
    });
    return queue;
  }

  /** Read afresh before every dial: the backend may have moved since the last one. */
  private async target(queue: Queue, q: number): Promise<RingTarget> {
    await this.whenConnected(2 ** 31 - 1);
    const read = async (p: string): Promise<string> => {
      // Any failure here means "not there yet" (a backend dir being moved), never a refusal: dial again.
      const v = await this.opts.store.tryRead(p).catch((e: unknown) => {
        throw new BlkfrontError('ENOENT', `${this.name} queue-${q}: reading ${p}: ${(e as Error).message}`);
      });
      if (v === undefined) throw new BlkfrontError('ENOENT', `${this.name} queue-${q}: ${p} is missing`);
      return v;
    };
    const backend = await read(`${this.path}/${XENBUS_KEYS.BACKEND}`);
    const backendId = Number(await read(`${this.path}/${XENBUS_KEYS.BACKEND_ID}`));
    const endpoint = await read(`${backend}/grpc-endpoint`);
    const ringRef = queue.ringRefs[0];
    if (ringRef === undefined) throw new BlkfrontError('EIO', `${this.name} queue-${q}: no ring granted yet`);
    return { endpoint, backend: backendId, device: backend, ringRef };
  }

  private connected(b: XenbusBackendView): void {
    const k = b.keys;
    const sectors = uintKey(k[BK.SECTORS]);
    if (sectors === undefined)
      throw new BlkfrontError('EINVAL', `${b.path}/${BK.SECTORS}: "${k[BK.SECTORS] ?? ''}" is not a sector count`);
    const sectorSize = uintKey(k[BK.SECTOR_SIZE]) ?? SECTOR;
    if (sectorSize < SECTOR || (sectorSize & (sectorSize - 1)) !== 0)
      throw new BlkfrontError('EINVAL', `${b.path}/${BK.SECTOR_SIZE}: ${sectorSize} is not a power of two >= 512`);
    const info = uintKey(k[BK.INFO]) ?? 0;
    this.sectors = sectors;
    this.sectorSize = sectorSize;
    this.readOnly = (info & VDISK.VDISK_READONLY) !== 0;
    this.cdrom = (info & VDISK.VDISK_CDROM) !== 0;
    this.removable = (info & VDISK.VDISK_REMOVABLE) !== 0;
    this.featureFlushCache = k[BK.FEATURE_FLUSH_CACHE] === '1';
    this.featureBarrier = k[BK.FEATURE_BARRIER] === '1';
    this.featureDiscard = k[BK.FEATURE_DISCARD] === '1';
    this.backendMaxIndirect = uintKey(k[BK.FEATURE_MAX_INDIRECT_SEGMENTS]) ?? 0;
    this.connects++;
    this._phase = 'connected';
    for (const w of this.linkWaiters.splice(0)) w.resolve();
    for (const q of this.queues) {
      if (q.stream.state === 'idle') q.stream.start();
      else q.stream.kick();
    }
    this.log('info', `${this.name}: connected to ${b.path}`, {
      sectors,
      sectorSize,
      info,
      queues: this.queues.length,
      indirect: this.backendMaxIndirect,
    });
  }

  private unlink(): void {
    if (this._phase === 'connected') this._phase = 'connecting';
  }

  private async disconnected(why: XenbusFrontendDisconnect): Promise<void> {
    if (why === 'backend-lost') {
      // The backend restarted: keep everything in flight, it is re-issued once the handshake is done again.
      this.log('warn', `${this.name}: backend ${this.backendPath} lost; waiting for it to come back`);
      this.unlink();
      return;
    }
    if (why === 'stopped') return;
    // Detach: new I/O fails from now on; what is in flight may finish while the streams still run.
    this._phase = 'closing';
    const deadline = Date.now() + (this.opts.drainMs ?? 5000);
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await this.teardown(`the backend ${this.backendPath} closed the device`);
  }

  private async teardown(reason: string): Promise<void> {
    this._phase = 'closed';
    for (const t of this.refusedTimers) clearTimeout(t);
    this.refusedTimers.clear();
    const err = new BlkfrontError('ESHUTDOWN', `${this.name}: ${reason}`);
    for (const w of this.linkWaiters.splice(0)) w.reject(err);
    const mem = this.opts.memory;
    for (const q of this.queues) {
      q.stream.close(reason);
      for (const ref of q.ringRefs) if (mem.grants.get(ref)) mem.revoke(ref);
      q.ringRefs = [];
      q.unbind?.();
      if (q.port !== undefined) await this.opts.evtchn.close(q.port).catch(() => undefined);
      q.port = undefined;
      this.opts.frames.give(q.ringPfns);
      q.ringPfns = [];
    }
    this.log('info', `${this.name}: closed (${reason})`);
  }

  private warn(what: string, e: unknown): void {
    this.log('warn', `${this.name}: ${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function uintKey(v: string | undefined): number | undefined {
  return v !== undefined && /^[0-9]+$/.test(v) ? Number(v) : undefined;
}

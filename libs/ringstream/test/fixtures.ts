// Both ends of blkif rings over real grpc-js streams on 127.0.0.1: a backend whose authorize() checks a
// small XenStore-like table (frontend-id, ring-refs per queue, domain alive) and serves a RAM disk, and
// frontends with their own grant tables, keys and FrontRings.
import * as grpc from '@grpc/grpc-js';
import { createUser } from '@nats-io/nkeys';
import type { DomId } from '@dominion/abi';
import {
  BLKIF_OP,
  BLKIF_RING_IDS,
  BLKIF_RSP,
  blkifResponse,
  blkifRingCodec,
  blkifRingSize,
  isDiscardRequest,
  isIndirectRequest,
  type BlkifRequest,
  type BlkifResponse,
} from '@dominion/blkif';
import { seedText, signRingChallenge } from '@dominion/identity';
import type { WireBackMessage, WireFrontMessage } from '@dominion/proto';
import { FrontRing, GrantTable, type BackRequest, type GrantCopy } from '@dominion/ring';
import type { GrpcTls } from '@dominion/runtime';
import { waitFor } from '@dominion/testing';
import {
  RING_CHANNEL_OPTIONS,
  RingFrontStream,
  addRingService,
  ringMethod,
  type RingAccept,
  type RingCodec,
  type RingService,
  type RingStreamHello,
  type RingTarget,
} from '../src/index.js';

export const BACKEND: DomId = 1;
export const RING_SIZE = blkifRingSize(1); // 32
export const SECTOR = 512;

export const BLKIF_CODEC: RingCodec<BlkifRequest, BlkifResponse> = blkifRingCodec();

export interface Domain {
  domid: DomId;
  seed: string;
  key: string;
}

export function domain(domid: DomId): Domain {
  const kp = createUser();
  return { domid, seed: seedText(kp), key: kp.getPublicKey() };
}

export function vbdDevice(fe: DomId, devid = 51712): string {
  return `/local/domain/${BACKEND}/backend/vbd/${fe}/${devid}`;
}

/** What the backend reads from XenStore for one device: frontend-id, queue-<n>/ring-ref, domain alive. */
export interface VbdEntry {
  frontendId: DomId;
  /** Per queue its ring-ref, or several (rings of one queue, as netif's tx-ring-ref and rx-ring-ref). */
  ringRefs: Array<number | number[]>;
  alive: boolean;
}

/** Resolves when opened; requests wait on it while closed. */
export class Gate {
  private waiting: Array<() => void> = [];
  open = true;
  close(): void {
    this.open = false;
  }
  release(): void {
    this.open = true;
    for (const w of this.waiting.splice(0)) w();
  }
  pass(): Promise<void> {
    return this.open ? Promise.resolve() : new Promise((r) => this.waiting.push(r));
  }
}

export interface Served {
  id: bigint;
  operation: number;
  queue: number;
  frontend: DomId;
}

/** A block backend over a RAM disk, serving blkif requests on a grpc-js server. */
export class Backend {
  readonly disk = Buffer.alloc(1 << 20);
  readonly devices = new Map<string, VbdEntry>();
  readonly keys = new Map<DomId, string>();
  readonly served: Served[] = [];
  /** Requests the handler received and has not answered. */
  held = 0;
  gate = new Gate();
  /** Holds each response until `hold(req)` resolves (for out-of-order answers). */
  hold: ((req: BlkifRequest, frontend: DomId) => Promise<void>) | undefined;
  readonly closed: Array<Error | undefined> = [];
  server!: grpc.Server;
  svc!: RingService;
  port = 0;

  async listen(
    port = 0,
    opts: { handshakeTimeoutMs?: number; maxBatchBytes?: number; credentials?: grpc.ServerCredentials } = {},
  ): Promise<this> {
    const { credentials, ...ringOpts } = opts;
    this.server = new grpc.Server(RING_CHANNEL_OPTIONS);
    this.svc = addRingService(this.server, {
      backend: BACKEND,
      keyOf: (d) => this.keys.get(d),
      authorize: (h) => this.authorize(h),
      ...ringOpts,
    });
    this.port = await bindRetrying(this.server, port, credentials);
    return this;
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Dies as a killed driver domain does: every stream cut at once. */
  kill(): void {
    this.server.forceShutdown();
  }

  /** Runs before the XenStore checks; throw to make authorize() fail. */
  authorizeHook: ((h: RingStreamHello) => void) | undefined;

  private authorize(h: RingStreamHello): RingAccept<BlkifRequest, BlkifResponse> {
    this.authorizeHook?.(h);
    const e = this.devices.get(h.device);
    if (!e) throw new Error(`${h.device} does not exist`);
    if (e.frontendId !== h.frontendDomid) throw new Error(`frontend-id of ${h.device} is ${e.frontendId}`);
    const ref = e.ringRefs[h.queue];
    if (ref === undefined) throw new Error(`${h.device} has ${e.ringRefs.length} queues, not queue ${h.queue}`);
    if (Array.isArray(ref) ? !ref.includes(h.ringRef) : ref !== h.ringRef)
      throw new Error(`queue-${h.queue}/ring-ref of dom${h.frontendDomid} is ${String(ref)}, not ${h.ringRef}`);
    if (!e.alive) throw new Error(`dom${h.frontendDomid} is dying`);
    return {
      size: RING_SIZE,
      codec: BLKIF_CODEC,
      label: `vbd ${h.frontendDomid}/51712 queue-${h.queue}`,
      handle: (r) => this.handle(r, h),
      errorResponse: (req) => blkifResponse(req, BLKIF_RSP.BLKIF_RSP_ERROR),
      closed: (err) => this.closed.push(err),
    };
  }

  private async handle(
    r: BackRequest<BlkifRequest>,
    h: RingStreamHello,
  ): Promise<{ rsp: BlkifResponse; copies: GrantCopy[] }> {
    const req = r.req;
    this.held++;
    try {
      await this.gate.pass();
      if (this.hold) await this.hold(req, h.frontendDomid);
    } finally {
      this.held--;
    }
    this.served.push({ id: req.id, operation: req.operation, queue: h.queue, frontend: h.frontendDomid });
    if (isDiscardRequest(req) || isIndirectRequest(req))
      return { rsp: blkifResponse(req, BLKIF_RSP.BLKIF_RSP_EOPNOTSUPP), copies: [] };
    let at = Number(req.sectorNumber) * SECTOR;
    const copies: GrantCopy[] = [];
    for (const s of req.segments) {
      const off = s.firstSect * SECTOR;
      const len = (s.lastSect - s.firstSect + 1) * SECTOR;
      if (req.operation === BLKIF_OP.BLKIF_OP_WRITE) this.disk.set(r.read(s.gref, off, len), at);
      else copies.push({ ref: s.gref, offset: off, data: Buffer.from(this.disk.subarray(at, at + len)) });
      at += len;
    }
    return { rsp: blkifResponse(req), copies };
  }
}

/** Binds 127.0.0.1:port; a port just freed by a killed server may take a moment to come back. */
export async function bindRetrying(
  server: grpc.Server,
  port: number,
  credentials = grpc.ServerCredentials.createInsecure(),
): Promise<number> {
  for (let i = 0; ; i++) {
    try {
      return await new Promise<number>((resolve, reject) =>
        server.bindAsync(`127.0.0.1:${port}`, credentials, (err, p) => (err ? reject(err) : resolve(p))),
      );
    } catch (e) {
      if (i >= 50) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** A guest's blkfront for one queue: its grant table, FrontRing and ring stream. */
export class Front {
  readonly grants = new GrantTable();
  readonly ring: FrontRing<BlkifRequest, BlkifResponse>;
  readonly stream: RingFrontStream<BlkifRequest, BlkifResponse>;
  private nextId = 1n;

  constructor(
    readonly dom: Domain,
    target: RingTarget | (() => RingTarget),
    opts: {
      queue?: number;
      ring?: FrontRing<BlkifRequest, BlkifResponse>;
      grants?: GrantTable;
      claim?: DomId;
      maxBatchBytes?: number;
      /** Default plaintext, whatever DOMINION_GRPC_TLS_* says; undefined = from the environment. */
      tls?: GrpcTls | null;
    } = {},
  ) {
    if (opts.grants) this.grants = opts.grants;
    this.ring =
      opts.ring ??
      new FrontRing({
        size: RING_SIZE,
        backendDomid: BACKEND,
        grants: this.grants,
        ...BLKIF_RING_IDS,
        label: `dom${dom.domid} xvda`,
      });
    this.stream = new RingFrontStream({
      ring: this.ring,
      codec: BLKIF_CODEC,
      frontendDomid: opts.claim ?? dom.domid,
      seed: dom.seed,
      queue: opts.queue,
      target,
      retry: { initialMs: 20, maxMs: 200 },
      maxBatchBytes: opts.maxBatchBytes,
      tls: 'tls' in opts ? opts.tls : null,
    });
  }

  start(): this {
    this.stream.start();
    return this;
  }

  id(): bigint {
    return this.nextId++;
  }

  /** Writes one page (8 sectors) at `sector`. */
  write(sector: number, data: Uint8Array): Promise<BlkifResponse> {
    const page = Buffer.alloc(4096);
    page.set(data);
    const gref = this.grants.grant(BACKEND, page, true);
    return this.ring.submit(rw(BLKIF_OP.BLKIF_OP_WRITE, this.id(), sector, gref), [{ ref: gref }]);
  }

  /** Reads one page at `sector` into a granted page; resolves with the page. */
  async read(sector: number): Promise<{ rsp: BlkifResponse; page: Buffer }> {
    const page = Buffer.alloc(4096);
    const gref = this.grants.grant(BACKEND, page, false);
    const rsp = await this.ring.submit(rw(BLKIF_OP.BLKIF_OP_READ, this.id(), sector, gref), [{ ref: gref }]);
    return { rsp, page };
  }
}

export function rw(operation: number, id: bigint, sector: number, gref: number): BlkifRequest {
  return {
    operation,
    nrSegments: 1,
    handle: 51712,
    id,
    sectorNumber: BigInt(sector),
    segments: [{ gref, firstSect: 0, lastSect: 7 }],
  };
}

export function target(be: Backend, fe: DomId, ringRef: number): RingTarget {
  return { endpoint: be.endpoint, backend: BACKEND, device: vbdDevice(fe), ringRef };
}

export function pattern(seed: number, n = 4096): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 131 + i * 7) & 0xff;
  return b;
}

/**
 * A hand-driven client of the Ring service: does the handshake honestly as `dom`, then lets the test send
 * whatever it likes. `status` resolves with the stream's final status.
 */
export class RawRingClient {
  readonly client: grpc.Client;
  readonly call: grpc.ClientDuplexStream<WireFrontMessage, WireBackMessage>;
  readonly received: WireBackMessage[] = [];
  readonly status: Promise<grpc.StatusObject>;
  ended = false;

  constructor(endpoint: string) {
    this.client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), RING_CHANNEL_OPTIONS);
    const m = ringMethod();
    this.call = this.client.makeBidiStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize as (b: Buffer) => WireBackMessage,
    );
    this.call.on('data', (msg: WireBackMessage) => this.received.push(msg));
    this.call.on('error', () => undefined);
    this.status = new Promise((resolve) =>
      this.call.on('status', (st: grpc.StatusObject) => {
        this.ended = true;
        resolve(st);
      }),
    );
  }

  async connect(dom: Domain, t: RingTarget, queue = 0): Promise<void> {
    this.call.write({
      hello: { device: t.device, ringRef: t.ringRef, frontendDomid: dom.domid, queue, protocol: 'x86_64-abi' },
    });
    await waitFor(() => this.received.length >= 1);
    const c = this.received[0];
    if (!('challenge' in c)) throw new Error(`expected a challenge, got ${JSON.stringify(c)}`);
    const proof = signRingChallenge({ ...c.challenge }, dom.seed, {
      backend: t.backend,
      device: t.device,
      ringRef: t.ringRef,
      frontendDomid: dom.domid,
    });
    this.call.write({ proof });
    // Connected, or the end of a refused stream.
    await waitFor(() => this.received.length >= 2 || this.ended);
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

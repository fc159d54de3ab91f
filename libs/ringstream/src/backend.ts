// The backend end of ring streams: one gRPC bidirectional stream per ring (one queue of one device). Each
// stream proves who dialed it before it gets a ring: Hello, then a challenge bound to this backend, the
// device, the ring-ref and the claimed frontend, a proof signed with that domain's key (the key the caller's
// keyOf() vouches for), then the backend's own check of XenStore (authorize). Refusals end the stream with
// PERMISSION_DENIED naming the domain and the device. A frontend that breaks the ring (overflow, a reused
// id, a malformed entry) loses its stream and nothing else.
//
// Backpressure: a BackRing never has more than RING_SIZE requests outstanding, so at most that many
// responses wait; while grpc-js reports its write buffer full, the stream is not read, so a frontend that
// outruns the backend is held back by HTTP/2 flow control instead of filling memory.
import type * as grpc from '@grpc/grpc-js';
import { isDomId, type DomId } from '@dominion/abi';
import { errnoOf, messageOf } from '@dominion/bus';
import { issueRingChallenge, verifyRingProof, type RingBinding, type RingChallenge } from '@dominion/identity';
import type { WireBackMessage, WireFrontMessage, WireHello, WireRequestBatch } from '@dominion/proto';
import { BackRing, RingError, type BackRequest, type GrantCopy, type RequestBatch } from '@dominion/ring';
import type { RingCodec } from './codec.js';
import { RingStreamError } from './errors.js';
import { grpcStatusError } from './status.js';
import type { RingStreamLog } from './log.js';
import { DEFAULT_MAX_BATCH_BYTES, entryBytes, ringServiceDefinition, splitPush } from './wire.js';

/** What a frontend asked for in its Hello, once its proof of identity verified. */
export interface RingStreamHello {
  /** The backend device dir, e.g. /local/domain/1/backend/vbd/5/51712. */
  device: string;
  ringRef: number;
  frontendDomid: DomId;
  queue: number;
  /** The frontend's `protocol`, e.g. 'x86_64-abi'. */
  protocol: string;
  /** host:port of the peer, for logs. */
  peer: string;
}

export interface RingReply<Rsp> {
  rsp: Rsp;
  /** Bytes to copy into the frontend's grants (a read). */
  copies?: GrantCopy[];
}

/** The backend's yes to a stream: the ring it gets and who serves its requests. */
export interface RingAccept<Req, Rsp> {
  /** RING_SIZE, as the backend computes it from ring-page-order and the protocol's entry size. */
  size: number;
  codec: RingCodec<Req, Rsp>;
  /** Serves one request; requests are handed over as they arrive and may complete in any order. */
  handle(req: BackRequest<Req>): Promise<RingReply<Rsp>> | RingReply<Rsp>;
  /**
   * The response to a request whose handle() threw (blkif: BLKIF_RSP_ERROR). Without it such a throw
   * fails the whole stream.
   */
  errorResponse?(req: Req, err: unknown): Rsp;
  /** The stream ended: frontend gone, superseded by a new stream, broken, detached or server shut down. */
  closed?(err: Error | undefined): void;
  /** Names the ring in messages, e.g. `vbd 5/51712 queue-0`. */
  label?: string;
}

export interface RingServerOptions<Req, Rsp> {
  /** This backend's domid (challenges are bound to it). */
  backend: DomId;
  /** The public nkey (U…) of a domain, as the hypervisor vouches for it; undefined if it has none. */
  keyOf(domid: DomId): string | undefined | Promise<string | undefined>;
  /**
   * The backend's own check, after the proof verified: the device's frontend-id is this domain, the
   * ring-ref (queue-<n>/ring-ref) matches, the queue exists, the domain is alive. Throw to refuse (the
   * message is passed on to the frontend, with PERMISSION_DENIED). An error whose `kind` is EAGAIN, EBUSY,
   * EIO, ETIMEDOUT, ECONNREFUSED or ESHUTDOWN means the check could not be made: the stream ends with that
   * errno's status and the frontend dials again.
   */
  authorize(hello: RingStreamHello): Promise<RingAccept<Req, Rsp>> | RingAccept<Req, Rsp>;
  /** Time to get from Hello to a verified proof; default 10 s. */
  handshakeTimeoutMs?: number;
  /** Life of a challenge; default libs/identity's RING_CHALLENGE_TTL_MS. */
  challengeTtlMs?: number;
  /** Payload bytes above which a push of responses is split over several messages; default 4 MiB. */
  maxBatchBytes?: number;
  log?: RingStreamLog;
}

export interface RingStreamFilter {
  device?: string;
  frontendDomid?: DomId;
  queue?: number;
  ringRef?: number;
}

export interface RingService {
  /** For grpc.Server.addService (or runtime's startGrpcServer). */
  service: grpc.ServiceDefinition;
  impl: grpc.UntypedServiceImplementation;
  /** Streams that are connected (handshake done). */
  readonly connected: number;
  /** Ends the connected streams that match (a device detached, a domain died); returns how many. */
  detach(filter: RingStreamFilter, reason: string): number;
}

type Call = grpc.ServerDuplexStream<WireFrontMessage, WireBackMessage>;

/** Errnos of an authorize() failure that mean "could not check now" rather than "no". */
const TRANSIENT: ReadonlySet<string> = new Set(['EAGAIN', 'EBUSY', 'EIO', 'ETIMEDOUT', 'ECONNREFUSED', 'ESHUTDOWN']);

/** Creates the Ring service; add it to a grpc-js server yourself or with addRingService(). */
export function createRingService<Req, Rsp>(opts: RingServerOptions<Req, Rsp>): RingService {
  if (!isDomId(opts.backend))
    throw new RingStreamError('EINVAL', `ring service: backend ${String(opts.backend)} is not a domid`);
  const live = new Map<string, BackendStream<Req, Rsp>>();
  const impl: grpc.UntypedServiceImplementation = {
    Connect: (call: Call) => new BackendStream(call, opts, live).start(),
  };
  return {
    service: ringServiceDefinition(),
    impl,
    get connected() {
      return live.size;
    },
    detach(filter, reason) {
      let n = 0;
      for (const s of [...live.values()]) {
        if (s.matches(filter)) {
          s.fail(new RingStreamError('ESHUTDOWN', `${s.who()}: ${reason}`));
          n++;
        }
      }
      return n;
    },
  };
}

/** Registers the Ring service on a grpc-js server (before or after it is bound). */
export function addRingService<Req, Rsp>(server: grpc.Server, opts: RingServerOptions<Req, Rsp>): RingService {
  const svc = createRingService(opts);
  server.addService(svc.service, svc.impl);
  return svc;
}

/** A response with its encoding, made once when the backend answers. */
interface Encoded<Rsp> {
  rsp: Rsp;
  bytes: Uint8Array;
}

class BackendStream<Req, Rsp> {
  private phase: 'hello' | 'proof' | 'checking' | 'connected' | 'done' = 'hello';
  private hello: RingStreamHello | undefined;
  private challenge: RingChallenge | undefined;
  private binding: RingBinding | undefined;
  private accept: RingAccept<Req, Rsp> | undefined;
  private ring: BackRing<Req, Encoded<Rsp>> | undefined;
  private key: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private blocked = false;
  private readonly maxBatchBytes: number;

  constructor(
    private readonly call: Call,
    private readonly opts: RingServerOptions<Req, Rsp>,
    private readonly live: Map<string, BackendStream<Req, Rsp>>,
  ) {
    this.maxBatchBytes = opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  }

  start(): void {
    const c = this.call;
    c.on('data', (m: WireFrontMessage) => this.onMessage(m));
    c.on('end', () => this.finish(undefined, true));
    c.on('cancelled', () => this.finish(new RingStreamError('ECONNREFUSED', `${this.who()}: stream cancelled`)));
    c.on('error', (e: Error) => this.finish(e));
    c.on('drain', () => this.unblock());
    this.timer = setTimeout(
      () => this.fail(new RingStreamError('ETIMEDOUT', `${this.who()}: no proof of identity in time`)),
      this.opts.handshakeTimeoutMs ?? 10_000,
    );
  }

  who(): string {
    const h = this.hello;
    return h
      ? `ring stream of dom${h.frontendDomid} for ${h.device} queue ${h.queue}`
      : `ring stream from ${this.call.getPeer()}`;
  }

  /** Read through a call so that TS does not narrow the phase across awaits. */
  private over(): boolean {
    return this.phase === 'done';
  }

  /**
   * The ring's identity: frontend, device, queue and ring-ref, so that the rings of one queue (netif's tx
   * and rx) stand side by side, while a frontend redialing the same ring supersedes its old stream.
   */
  private slot(): string | undefined {
    const h = this.hello;
    return h && `${h.frontendDomid}|${h.device}|${h.queue}|${h.ringRef}`;
  }

  matches(f: RingStreamFilter): boolean {
    const h = this.hello!;
    return (
      (f.device === undefined || f.device === h.device) &&
      (f.frontendDomid === undefined || f.frontendDomid === h.frontendDomid) &&
      (f.queue === undefined || f.queue === h.queue) &&
      (f.ringRef === undefined || f.ringRef === h.ringRef)
    );
  }

  /** Ends the stream with the error's status (PERMISSION_DENIED for EACCES, and so on). */
  fail(err: Error): void {
    if (this.over()) return;
    this.finish(err);
    try {
      this.call.emit('error', grpcStatusError(err));
    } catch {
      // the call is already gone
    }
  }

  private onMessage(m: WireFrontMessage): void {
    try {
      switch (this.phase) {
        case 'hello':
          return this.onHello(m);
        case 'proof':
          return this.onProof(m);
        case 'connected':
          return this.onRequests(m);
        case 'checking':
          throw new RingStreamError('EPROTO', `${this.who()}: ${kindOf(m)} before Connected`);
        case 'done':
          return;
      }
    } catch (e) {
      this.fail(asError(e));
    }
  }

  private onHello(m: WireFrontMessage): void {
    if (!('hello' in m) || !m.hello) throw new RingStreamError('EPROTO', `${this.who()}: ${kindOf(m)} before Hello`);
    const h: WireHello = m.hello;
    if (!isDomId(h.frontendDomid))
      throw new RingStreamError('EINVAL', `${this.who()}: frontend ${String(h.frontendDomid)} is not a domid`);
    this.hello = {
      device: h.device,
      ringRef: h.ringRef,
      frontendDomid: h.frontendDomid,
      queue: h.queue,
      protocol: h.protocol,
      peer: this.call.getPeer(),
    };
    this.binding = { backend: this.opts.backend, device: h.device, ringRef: h.ringRef, frontendDomid: h.frontendDomid };
    // Throws EINVAL for a device that is no XenStore path or a ring-ref that is no u32.
    this.challenge = issueRingChallenge(this.binding, { ttlMs: this.opts.challengeTtlMs });
    this.phase = 'proof';
    const c = this.challenge;
    this.call.write({
      challenge: {
        backend: c.backend,
        device: c.device,
        ringRef: c.ringRef,
        frontend: c.frontend,
        expiresAt: c.expiresAt,
        nonce: c.nonce,
      },
    });
  }

  private onProof(m: WireFrontMessage): void {
    if (!('proof' in m) || !m.proof)
      throw new RingStreamError('EPROTO', `${this.who()}: ${kindOf(m)} instead of a proof`);
    const proof = m.proof;
    this.phase = 'checking';
    // Nothing is read while the checks run: a batch the frontend sends early waits for Connected, and is
    // never read if the stream is refused.
    this.call.pause();
    void this.check(proof.sig).then(
      () => {
        if (this.over()) return;
        this.phase = 'connected';
        this.call.resume();
      },
      (e: unknown) => this.fail(asError(e)),
    );
  }

  private async check(sig: string): Promise<void> {
    const h = this.hello!;
    const refused = (why: string) =>
      new RingStreamError('EACCES', `${this.who()} on backend ${this.opts.backend} refused: ${why}`);
    const key = await this.opts.keyOf(h.frontendDomid);
    if (this.over()) return;
    if (!key) throw refused(`dom${h.frontendDomid} has no key`);
    try {
      verifyRingProof(this.challenge!, { sig }, key, this.binding!);
    } catch (e) {
      throw refused(messageOf(e));
    }
    this.key = key;
    let accept: RingAccept<Req, Rsp>;
    try {
      accept = await this.opts.authorize(h);
    } catch (e) {
      // A check that could not be made (XenStore busy or unreachable) is no refusal: the frontend retries.
      const kind = (e as { kind?: unknown } | null)?.kind;
      if (typeof kind === 'string' && TRANSIENT.has(kind)) throw e;
      throw refused(messageOf(e));
    }
    if (this.over()) {
      accept.closed?.(undefined);
      return;
    }
    clearTimeout(this.timer);
    this.accept = accept;
    const codec = accept.codec;
    this.ring = new BackRing<Req, Encoded<Rsp>>({
      size: accept.size,
      label: accept.label ?? this.who(),
      requestId: (r) => codec.requestId(r),
      responseId: (r) => codec.responseId(r.rsp),
      send: (b) => this.push(b.rspProd, b.responses),
    });
    const slot = this.slot()!;
    const old = this.live.get(slot);
    // A frontend that reconnects may beat the backend to noticing its old stream died.
    old?.fail(new RingStreamError('ESHUTDOWN', `${old.who()}: superseded by a new stream from ${h.peer}`));
    this.live.set(slot, this);
    this.call.write({ connected: { ringSize: accept.size, backend: this.opts.backend } });
    this.opts.log?.info(
      { frontend: h.frontendDomid, device: h.device, queue: h.queue, peer: h.peer },
      'ring stream connected',
    );
  }

  private onRequests(m: WireFrontMessage): void {
    if (!('requests' in m) || !m.requests)
      throw new RingStreamError('EPROTO', `${this.who()}: ${kindOf(m)} on a connected ring`);
    const ring = this.ring!;
    const codec = this.accept!.codec;
    const wire: WireRequestBatch = m.requests;
    const batch: RequestBatch<Req> = { reqProd: wire.reqProd, requests: [] };
    for (const [i, r] of wire.requests.entries()) {
      let req: Req;
      try {
        req = codec.decodeRequest(r.req);
      } catch (e) {
        throw new RingError(
          'EPROTO',
          `${ring.label}: request ${i} of the batch up to req_prod ${wire.reqProd}: ${messageOf(e)}`,
        );
      }
      batch.requests.push({ req, copies: r.copies });
    }
    // Throws EPROTO for an overflow, a reused id, a req_prod that does not match: the stream fails.
    for (const r of ring.receive(batch)) this.serve(r);
  }

  private serve(r: BackRequest<Req>): void {
    const accept = this.accept!;
    let p: Promise<RingReply<Rsp>>;
    try {
      p = Promise.resolve(accept.handle(r));
    } catch (e) {
      p = Promise.reject(asError(e));
    }
    p.then(
      (reply) => this.answer(r, reply),
      (e: unknown) => this.answerError(r, e),
    );
  }

  private answer(r: BackRequest<Req>, reply: RingReply<Rsp>): void {
    if (this.ring?.state !== 'connected') return;
    try {
      const bytes = this.accept!.codec.encodeResponse(reply.rsp);
      this.ring.respond({ rsp: reply.rsp, bytes }, reply.copies ?? []);
    } catch (e) {
      this.answerError(r, e);
    }
  }

  private answerError(r: BackRequest<Req>, err: unknown): void {
    if (this.ring?.state !== 'connected') return;
    const accept = this.accept!;
    this.opts.log?.warn({ id: String(r.id), err: messageOf(err) }, `${this.ring.label}: request failed`);
    if (!accept.errorResponse) {
      this.fail(new RingStreamError('EPROTO', `${this.ring.label}: request id ${r.id} failed: ${messageOf(err)}`));
      return;
    }
    try {
      const rsp = accept.errorResponse(r.req, err);
      this.ring.respond({ rsp, bytes: accept.codec.encodeResponse(rsp) });
    } catch (e) {
      this.fail(asError(e));
    }
  }

  private push(prod: number, responses: Array<{ rsp: Encoded<Rsp>; copies: GrantCopy[] }>): void {
    for (const part of splitPush(responses, prod, (r) => entryBytes(r.rsp.bytes, r.copies), this.maxBatchBytes)) {
      const ok = this.call.write({
        responses: { rspProd: part.prod, responses: part.entries.map((r) => ({ rsp: r.rsp.bytes, copies: r.copies })) },
      });
      if (!ok) this.block();
    }
  }

  private block(): void {
    if (this.blocked) return;
    this.blocked = true;
    this.call.pause();
  }

  private unblock(): void {
    if (!this.blocked) return;
    this.blocked = false;
    if (this.phase === 'connected') this.call.resume();
  }

  /** Forgets the stream once: the end of the call, a failure, or the frontend's half-close (then ends ours). */
  private finish(err: Error | undefined, endOurs = false): void {
    if (this.over()) return;
    const wasConnected = this.phase === 'connected';
    this.phase = 'done';
    clearTimeout(this.timer);
    this.ring?.close();
    const slot = this.slot();
    if (slot && this.live.get(slot) === this) this.live.delete(slot);
    if (err) {
      const what = errnoOf(err) === 'EACCES' ? 'refused' : wasConnected ? 'broken' : 'failed in its handshake';
      this.opts.log?.warn({ peer: this.call.getPeer(), err: messageOf(err), key: this.key }, `${this.who()} ${what}`);
    }
    this.accept?.closed?.(err);
    if (endOurs) {
      try {
        this.call.end();
      } catch {
        // already ended
      }
    }
  }
}

function kindOf(m: WireFrontMessage): string {
  return m.msg ?? (Object.keys(m).join(',') || 'an empty message');
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

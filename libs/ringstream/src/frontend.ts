// The frontend end of a ring stream: dials the endpoint the backend published, answers the backend's
// challenge with the domain's key (only if the challenge is for the backend, device and ring-ref this
// frontend dialed), and once Connected hands the stream to its FrontRing. When the stream breaks it dials
// again with backoff, and FrontRing re-issues what was in flight on the new stream. A refusal
// (PERMISSION_DENIED) stops the redialing until kick(): a reconnect kick on the event channel, or the
// toolstack fixing the device, is what makes trying again worthwhile.
import * as grpc from '@grpc/grpc-js';
import { isDomId, type DomId } from '@dominion/abi';
import { errnoOf, messageOf } from '@dominion/bus';
import { grpcClientTransport, loadGrpcTls, type GrpcTls } from '@dominion/runtime';
import { signRingChallenge, type RingBinding } from '@dominion/identity';
import type { WireBackMessage, WireFrontMessage, WireResponseBatch } from '@dominion/proto';
import { RingError, type FrontRing, type RequestBatch, type ResponseBatch } from '@dominion/ring';
import type { RingCodec } from './codec.js';
import { RingStreamError } from './errors.js';
import { errorOfStatus } from './status.js';
import type { RingStreamLog } from './log.js';
import { DEFAULT_MAX_BATCH_BYTES, RING_CHANNEL_OPTIONS, entryBytes, ringMethod, splitPush } from './wire.js';

/** Where a ring's backend is, as the frontend reads it from XenStore before each dial. */
export interface RingTarget {
  /** host:port the backend published. */
  endpoint: string;
  /** The backend domain (`backend-id`). */
  backend: DomId;
  /** The backend device dir (the frontend's `backend` node). */
  device: string;
  /** The ring-ref this frontend wrote (queue-<n>/ring-ref for a multi-queue device). */
  ringRef: number;
}

export interface RingFrontStreamOptions<Req, Rsp> {
  ring: FrontRing<Req, Rsp>;
  codec: RingCodec<Req, Rsp>;
  frontendDomid: DomId;
  /** The domain's nkey seed (SU…), which signs the backend's challenge. */
  seed: string;
  /** Queue index; default 0. */
  queue?: number;
  /** The target, or how to read it afresh before every dial (a restarted backend may have moved). */
  target: RingTarget | (() => RingTarget | Promise<RingTarget>);
  /** Redial backoff: doubles from initialMs (default 50) up to maxMs (default 2000). */
  retry?: { initialMs?: number; maxMs?: number };
  /** Time from dialing to Connected; default 10 s. */
  handshakeTimeoutMs?: number;
  /** Payload bytes above which a push of requests is split over several messages; default 4 MiB. */
  maxBatchBytes?: number;
  channelOptions?: grpc.ChannelOptions;
  /** TLS to dial with; default from DOMINION_GRPC_TLS_* (off when unset), null = plaintext. */
  tls?: GrpcTls | null;
  onState?(state: RingFrontStreamState, err: Error | undefined): void;
  log?: RingStreamLog;
}

export type RingFrontStreamState = 'idle' | 'connecting' | 'connected' | 'retrying' | 'refused' | 'closed';

type Call = grpc.ClientDuplexStream<WireFrontMessage, WireBackMessage>;

interface Attempt {
  call: Call;
  target: RingTarget;
  phase: 'challenge' | 'connected-wait' | 'connected' | 'over';
  timer: NodeJS.Timeout | undefined;
}

export class RingFrontStream<Req, Rsp> {
  readonly ring: FrontRing<Req, Rsp>;
  readonly queue: number;
  private readonly opts: RingFrontStreamOptions<Req, Rsp>;
  private _state: RingFrontStreamState = 'idle';
  private attempt: Attempt | undefined;
  private client: { endpoint: string; client: grpc.Client } | undefined;
  private backoff: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private waiters: Array<{ resolve(): void; reject(e: Error): void }> = [];
  private readonly maxBatchBytes: number;
  private readonly transport: ReturnType<typeof grpcClientTransport>;
  /** Streams that reached Connected. */
  connects = 0;
  /** Why the last stream ended or was refused. */
  lastError: Error | undefined;

  constructor(opts: RingFrontStreamOptions<Req, Rsp>) {
    if (!isDomId(opts.frontendDomid))
      throw new RingStreamError('EINVAL', `ring stream: frontend ${String(opts.frontendDomid)} is not a domid`);
    this.opts = opts;
    this.ring = opts.ring;
    this.queue = opts.queue ?? 0;
    this.backoff = this.initialBackoff();
    this.maxBatchBytes = opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    // Fixed for the stream's life: a redial never falls back to plaintext.
    this.transport = grpcClientTransport((opts.tls === undefined ? loadGrpcTls() : opts.tls) ?? undefined);
  }

  get state(): RingFrontStreamState {
    return this._state;
  }

  /** Dials the backend; reconnects on its own from then on. */
  start(): this {
    if (this._state === 'idle') this.dial();
    return this;
  }

  /** Dials now: after a refusal, or to cut a backoff short (a reconnect kick). */
  kick(): void {
    if (this._state === 'closed' || this._state === 'connecting' || this._state === 'connected') return;
    clearTimeout(this.retryTimer);
    this.backoff = this.initialBackoff();
    this.dial();
  }

  /** Resolves once a stream is connected; rejects if it is (or gets) refused or closed. */
  whenConnected(): Promise<void> {
    if (this._state === 'connected') return Promise.resolve();
    if (this._state === 'closed' || this._state === 'refused')
      return Promise.reject(this.lastError ?? new RingStreamError('ESHUTDOWN', `${this.ring.label}: ${this._state}`));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Ends the stream for good; requests in flight or queued fail with ESHUTDOWN. */
  close(reason = 'ring stream closed'): void {
    if (this._state === 'closed') return;
    clearTimeout(this.retryTimer);
    const a = this.attempt;
    this.attempt = undefined;
    if (a) {
      a.phase = 'over';
      clearTimeout(a.timer);
      a.call.end();
      a.call.cancel();
    }
    this.ring.close(reason);
    this.client?.client.close();
    this.client = undefined;
    this.setState('closed', new RingStreamError('ESHUTDOWN', `${this.ring.label}: ${reason}`));
  }

  private initialBackoff(): number {
    return this.opts.retry?.initialMs ?? 50;
  }

  private setState(s: RingFrontStreamState, err?: Error): void {
    this._state = s;
    if (err) this.lastError = err;
    if (s === 'connected') for (const w of this.waiters.splice(0)) w.resolve();
    if (s === 'refused' || s === 'closed') for (const w of this.waiters.splice(0)) w.reject(err ?? new Error(s));
    this.opts.onState?.(s, err);
  }

  private dial(): void {
    // Closed behind the stream's back (FrontRing.close()): nothing left to carry.
    if (this.ring.state === 'closed') return this.close('ring closed');
    this.setState('connecting');
    void this.open().catch((e: unknown) => this.broken(undefined, e));
  }

  private async open(): Promise<void> {
    const t = this.opts.target;
    let target: RingTarget;
    try {
      target = typeof t === 'function' ? await t() : t;
    } catch (e) {
      // Not the backend's no: the target could not be read (a dead backend's XenStore dir answers EACCES
      // until the toolstack moves the device), so dial again later.
      throw new RingStreamError('ECONNREFUSED', `${this.ring.label}: reading the ring target: ${messageOf(e)}`);
    }
    if (this._state !== 'connecting') return;
    if (this.client?.endpoint !== target.endpoint) {
      this.client?.client.close();
      const options = { ...RING_CHANNEL_OPTIONS, ...this.transport.options, ...this.opts.channelOptions };
      this.client = {
        endpoint: target.endpoint,
        client: new grpc.Client(target.endpoint, this.transport.credentials, options),
      };
    }
    const m = ringMethod();
    const call = this.client.client.makeBidiStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize as (b: Buffer) => WireBackMessage,
    );
    const a: Attempt = { call, target, phase: 'challenge', timer: undefined };
    this.attempt = a;
    a.timer = setTimeout(
      () =>
        this.broken(
          a,
          new RingStreamError('ETIMEDOUT', `${this.describe(target)}: not connected after ${this.handshakeMs()} ms`),
        ),
      this.handshakeMs(),
    );
    call.on('data', (msg: WireBackMessage) => this.onMessage(a, msg));
    // 'status' always comes, 'error' too when it is not OK; whichever is first ends the attempt.
    call.on('error', (e: grpc.ServiceError) => this.broken(a, errorOfStatus(e)));
    call.on('status', (st: grpc.StatusObject) =>
      this.broken(
        a,
        st.code === grpc.status.OK
          ? new RingStreamError('ECONNREFUSED', `${this.describe(target)}: the backend ended the stream`)
          : errorOfStatus(st),
      ),
    );
    call.write({
      hello: {
        device: target.device,
        ringRef: target.ringRef,
        frontendDomid: this.opts.frontendDomid,
        queue: this.queue,
        protocol: this.opts.codec.protocol,
      },
    });
  }

  private handshakeMs(): number {
    return this.opts.handshakeTimeoutMs ?? 10_000;
  }

  private describe(t: RingTarget): string {
    return `${this.ring.label}: ring stream of dom${this.opts.frontendDomid} to dom${t.backend} ${t.device} queue ${this.queue} at ${t.endpoint}`;
  }

  private onMessage(a: Attempt, msg: WireBackMessage): void {
    if (a !== this.attempt || a.phase === 'over') return;
    try {
      if (a.phase === 'challenge') {
        if (!('challenge' in msg) || !msg.challenge)
          throw new RingStreamError('EPROTO', `${this.describe(a.target)}: ${msg.msg} instead of a challenge`);
        const c = msg.challenge;
        const expected: RingBinding = {
          backend: a.target.backend,
          device: a.target.device,
          ringRef: a.target.ringRef,
          frontendDomid: this.opts.frontendDomid,
        };
        // Refuses (EACCES) a challenge for anything but what we dialed: a backend relaying another's.
        const proof = signRingChallenge(
          {
            backend: c.backend,
            device: c.device,
            ringRef: c.ringRef,
            frontend: c.frontend,
            expiresAt: c.expiresAt,
            nonce: c.nonce,
          },
          this.opts.seed,
          expected,
        );
        a.phase = 'connected-wait';
        a.call.write({ proof });
      } else if (a.phase === 'connected-wait') {
        if (!('connected' in msg) || !msg.connected)
          throw new RingStreamError('EPROTO', `${this.describe(a.target)}: ${msg.msg} instead of Connected`);
        if (msg.connected.ringSize !== this.ring.size) {
          throw new RingStreamError(
            'EPROTO',
            `${this.describe(a.target)}: backend's ring has ${msg.connected.ringSize} slots, this frontend's ${this.ring.size}`,
          );
        }
        clearTimeout(a.timer);
        a.phase = 'connected';
        this.backoff = this.initialBackoff();
        this.connects++;
        const reissued = this.ring.connect((b) => this.push(a, b), { backendDomid: a.target.backend });
        if (this.connects > 1)
          this.opts.log?.info({ reissued, endpoint: a.target.endpoint }, `${this.describe(a.target)}: reconnected`);
        this.setState('connected');
      } else {
        if (!('responses' in msg) || !msg.responses)
          throw new RingStreamError('EPROTO', `${this.describe(a.target)}: ${msg.msg} on a connected ring`);
        // Throws EPROTO for a batch that breaks the ring; the ring has disconnected itself then.
        this.ring.receive(this.decode(msg.responses));
      }
    } catch (e) {
      this.broken(a, e);
    }
  }

  private decode(w: WireResponseBatch): ResponseBatch<Rsp> {
    const codec = this.opts.codec;
    return {
      rspProd: w.rspProd,
      responses: w.responses.map((r, i) => {
        let rsp: Rsp;
        try {
          rsp = codec.decodeResponse(r.rsp);
        } catch (e) {
          throw new RingError(
            'EPROTO',
            `${this.ring.label}: response ${i} of the batch up to rsp_prod ${w.rspProd}: ${messageOf(e)}`,
          );
        }
        return { rsp, copies: r.copies };
      }),
    };
  }

  private push(a: Attempt, batch: RequestBatch<Req>): void {
    const codec = this.opts.codec;
    const encoded = [];
    for (const r of batch.requests) {
      try {
        encoded.push({ req: codec.encodeRequest(r.req), copies: r.copies });
      } catch (e) {
        // The caller's bug, which would come back on every re-issue: the ring fails loudly instead. This
        // runs inside FrontRing's flush, so the close waits for it to return.
        const why = `request id ${String(codec.requestId(r.req))} cannot be encoded: ${messageOf(e)}`;
        this.opts.log?.warn({ err: why }, `${this.ring.label}: ring closed`);
        queueMicrotask(() => this.close(why));
        return;
      }
    }
    for (const part of splitPush(encoded, batch.reqProd, (r) => entryBytes(r.req, r.copies), this.maxBatchBytes))
      a.call.write({ requests: { reqProd: part.prod, requests: part.entries } });
  }

  /** The attempt's stream is over: forget it and dial again later, unless refused or closed. */
  private broken(a: Attempt | undefined, e: unknown): void {
    if (a && (a !== this.attempt || a.phase === 'over')) return;
    if (this._state === 'closed') return;
    const err = e instanceof Error ? e : new Error(String(e));
    if (a) {
      a.phase = 'over';
      clearTimeout(a.timer);
      a.call.cancel();
    }
    this.attempt = undefined;
    this.ring.disconnect();
    if (errnoOf(err) === 'EACCES' || errnoOf(err) === 'EPERM') {
      this.opts.log?.warn({ err: err.message }, `${this.ring.label}: ring stream refused`);
      this.setState('refused', err);
      return;
    }
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.opts.retry?.maxMs ?? 2000);
    this.setState('retrying', err);
    this.retryTimer = setTimeout(() => this.dial(), delay);
  }
}

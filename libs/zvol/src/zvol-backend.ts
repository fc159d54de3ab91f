// A VBD's storage on a zvol of the ZFS storage domain: libs/vbd's BlockBackend over the block service's
// stream (libs/proto/block.proto). Any number of requests are in flight on one stream; when the stream breaks
// (the ZFS domain restarted, the connection dropped) the backend dials again, reopens the volume and re-issues
// every request still unanswered, so its callers see a stall, not an error. Re-issuing is safe: reads, writes
// at fixed offsets, discards and flushes are all idempotent.
import * as grpc from '@grpc/grpc-js';
import { grpcClientTransport, loadGrpcTls, type GrpcTls } from '@dominion/runtime';
import type { BlockBackend, BlockSectorSize } from '@dominion/vbd';
import { checkRange } from '@dominion/vbd';
import {
  BLOCK_METHOD,
  blockService,
  type WireBlockRequest,
  type WireBlockResponse,
  type WireOpened,
} from './block-wire.js';
import { ZvolError, zvolKindOf } from './errors.js';

export interface ZvolBackendOptions {
  /** "tank/vm1", or "tank/vm1@snap" (read-only). */
  volume: string;
  /** host:port of the block service, or how to look it up again (XenStore) before every dial. */
  endpoint: string | (() => Promise<string>);
  readOnly?: boolean;
  sectorSize?: BlockSectorSize;
  /** Dials after a broken stream before the requests in flight fail ECONNREFUSED. Default 50. */
  reconnectAttempts?: number;
  /** Pause between dials. Default 100 ms. */
  reconnectDelayMs?: number;
  /** Each broken stream, with why (logging). */
  onDisconnect?: (why: string) => void;
  /** TLS to dial with; default from DOMINION_GRPC_TLS_* (off when unset), null = plaintext. */
  tls?: GrpcTls | null;
}

interface Pending {
  req: WireBlockRequest;
  resolve(r: WireBlockResponse): void;
  reject(e: ZvolError): void;
}

/** An open that the service does not answer in this time counts as a failed dial. */
const OPEN_TIMEOUT_MS = 10_000;

type BlockStream = grpc.ClientDuplexStream<WireBlockRequest, WireBlockResponse>;
type BlockClient = grpc.Client & { [BLOCK_METHOD](): BlockStream };

export class ZvolBackend implements BlockBackend {
  readonly name: string;
  readonly sectorSize: BlockSectorSize;
  private geometry!: WireOpened;
  private client?: BlockClient;
  private clientAddress?: string;
  private call?: BlockStream;
  private dialing?: Promise<void>;
  private closed = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private reconnects = 0;
  private readonly transport: ReturnType<typeof grpcClientTransport>;

  private constructor(private readonly opts: ZvolBackendOptions) {
    this.name = `zvol:${opts.volume}`;
    this.sectorSize = opts.sectorSize ?? 512;
    // Fixed for the backend's life: a redial never falls back to plaintext.
    this.transport = grpcClientTransport((opts.tls === undefined ? loadGrpcTls() : opts.tls) ?? undefined);
  }

  /** Dials the block service and opens the volume (ENOENT if it does not exist, ECONNREFUSED if unreachable). */
  static async open(opts: ZvolBackendOptions): Promise<ZvolBackend> {
    const b = new ZvolBackend(opts);
    await b.dial(1);
    if (b.geometry.size % b.sectorSize !== 0) {
      await b.close();
      throw new ZvolError('EINVAL', `${b.name}: volsize ${b.geometry.size} is not a multiple of ${b.sectorSize}`);
    }
    return b;
  }

  get size(): number {
    return this.geometry.size;
  }
  get sectors(): bigint {
    return BigInt(this.geometry.size) / 512n;
  }
  get readOnly(): boolean {
    return this.geometry.readOnly;
  }
  /** The volume's volblocksize (a good I/O size). */
  get blockSize(): number {
    return this.geometry.blockSize;
  }
  /** How many times a broken stream was re-established. */
  get reconnectCount(): number {
    return this.reconnects;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    checkRange(this, offset, length);
    return (await this.request({ read: { offset, length } })).data;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    checkRange(this, offset, data.length);
    if (this.readOnly) throw new ZvolError('EROFS', `${this.name}: read-only`);
    await this.request({ write: { offset, data } });
  }

  async flush(): Promise<void> {
    await this.request({ flush: {} });
  }

  async discard(offset: number, length: number): Promise<void> {
    checkRange(this, offset, length);
    if (this.readOnly) throw new ZvolError('EROFS', `${this.name}: read-only`);
    await this.request({ discard: { offset, length } });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    const call = this.call;
    this.call = undefined;
    call?.end();
    for (const p of this.pending.values()) p.reject(new ZvolError('ESHUTDOWN', `${this.name}: closed`));
    this.pending.clear();
    this.client?.close();
    return Promise.resolve();
  }

  private request(op: Omit<WireBlockRequest, 'id'>): Promise<WireBlockResponse> {
    if (this.closed) return Promise.reject(new ZvolError('ESHUTDOWN', `${this.name}: closed`));
    const req: WireBlockRequest = { id: this.nextId++, ...op };
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { req, resolve, reject });
      if (this.call) this.call.write(req);
      else this.reconnect();
    });
  }

  /** Starts one redial loop (if none runs); it re-issues every pending request once the volume is open. */
  private reconnect(): void {
    if (this.dialing || this.closed) return;
    const attempts = this.opts.reconnectAttempts ?? 50;
    this.dialing = this.dial(attempts)
      .then(() => {
        this.reconnects++;
        for (const p of [...this.pending.values()].sort((a, b) => a.req.id - b.req.id)) this.call?.write(p.req);
      })
      .catch((e: unknown) => {
        const err = e instanceof ZvolError ? e : new ZvolError('ECONNREFUSED', `${this.name}: ${String(e)}`);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      })
      .finally(() => {
        this.dialing = undefined;
      });
  }

  private async dial(attempts: number): Promise<void> {
    let last = '';
    for (let i = 0; i < attempts && !this.closed; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, this.opts.reconnectDelayMs ?? 100));
      try {
        await this.openStream();
        return;
      } catch (e) {
        if (e instanceof ZvolError && e.kind !== 'ECONNREFUSED') throw e; // the volume's answer, not the link's
        last = e instanceof Error ? e.message : String(e);
      }
    }
    if (this.closed) throw new ZvolError('ESHUTDOWN', `${this.name}: closed`);
    throw new ZvolError('ECONNREFUSED', `${this.name}: the block service cannot be reached (${last})`);
  }

  private async openStream(): Promise<void> {
    const ep = this.opts.endpoint;
    const address = typeof ep === 'string' ? ep : await ep();
    if (!this.client || this.clientAddress !== address) {
      this.client?.close();
      const Ctor = blockService();
      this.client = new Ctor(address, this.transport.credentials, {
        ...this.transport.options,
        'grpc.max_receive_message_length': 64 << 20,
        'grpc.max_send_message_length': 64 << 20,
        // A restarted ZFS domain is back within a second or so: do not let the channel back off for longer.
        'grpc.initial_reconnect_backoff_ms': 50,
        'grpc.max_reconnect_backoff_ms': 1000,
      }) as unknown as BlockClient;
      this.clientAddress = address;
    }
    const call = this.client[BLOCK_METHOD]();
    const openId = this.nextId++;
    const opened = await new Promise<WireOpened>((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        reject(new ZvolError('ECONNREFUSED', `${address}: no answer to open within ${OPEN_TIMEOUT_MS} ms`));
      }, OPEN_TIMEOUT_MS);
      timer.unref();
      call.on('data', (r: WireBlockResponse) => {
        if (!done && r.id === openId) {
          done = true;
          clearTimeout(timer);
          if (r.errno) reject(new ZvolError(zvolKindOf(r.errno), r.message || `${this.name}: ${r.errno}`));
          else if (!r.opened) reject(new ZvolError('EIO', `${this.name}: open answered without geometry`));
          else resolve(r.opened);
          return;
        }
        if (this.call === call) this.answer(r);
      });
      call.on('error', (e: grpc.ServiceError) => {
        if (!done) {
          done = true;
          clearTimeout(timer);
          reject(new ZvolError('ECONNREFUSED', `${address}: ${e.details || e.message}`));
        } else this.broken(call, `${address}: ${e.details || e.message}`);
      });
      call.on('end', () => {
        if (!done) {
          done = true;
          clearTimeout(timer);
          reject(new ZvolError('ECONNREFUSED', `${address}: the stream ended before the volume opened`));
        } else this.broken(call, `${address}: the stream ended`);
      });
      call.write({ id: openId, open: { volume: this.opts.volume, readOnly: this.opts.readOnly ?? false } });
    }).catch((e: unknown) => {
      call.cancel();
      throw e;
    });
    if (this.geometry && opened.size !== this.geometry.size) {
      call.cancel();
      throw new ZvolError(
        'EIO',
        `${this.name}: size changed from ${this.geometry.size} to ${opened.size} across a reconnect`,
      );
    }
    this.geometry = opened;
    this.call = call;
  }

  private answer(r: WireBlockResponse): void {
    const p = this.pending.get(r.id);
    if (!p) return; // answered on an earlier stream already
    this.pending.delete(r.id);
    if (r.errno) p.reject(new ZvolError(zvolKindOf(r.errno), r.message || `${this.name}: request ${r.id}: ${r.errno}`));
    else p.resolve(r);
  }

  private broken(call: BlockStream, why: string): void {
    if (this.call !== call || this.closed) return;
    this.call = undefined;
    this.opts.onDisconnect?.(why);
    if (this.pending.size > 0) this.reconnect();
  }
}

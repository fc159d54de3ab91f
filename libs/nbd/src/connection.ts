// The server side of one NBD connection, independent of its transport: bytes in through push(), bytes out
// through the injected transport. Fixed newstyle handshake, then requests served concurrently with replies
// in completion order (the client matches them by cookie). Memory is bounded: at most maxInFlight requests
// and maxInFlightBytes of their payloads are held; past that, or while the transport holds more than
// maxQueuedOutputBytes unsent, the connection stops reading (transport.pause) until replies have gone out.
import {
  NBD_CMD,
  NBD_CMD_FLAG,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_INFO,
  NBD_MAX_STRING,
  NBD_META_BASE_ALLOCATION,
  NBD_OPT,
  NBD_OPTION_HEADER_SIZE,
  NBD_OPTS_MAGIC,
  NBD_REP,
  NBD_REQUEST_HEADER_SIZE,
  NBD_REQUEST_MAGIC,
  nbdCmdName,
  nbdOptName,
} from './constants.js';
import { NbdError, nbdErrorValueOf } from './errors.js';
import { describeExport, transmissionFlags, type NbdExport } from './export.js';
import { decodeInfoRequest, decodeMetaContextRequest } from './options.js';
import {
  decodeRequestHeader,
  encodeBlockStatus,
  encodeChunkError,
  encodeChunkNone,
  encodeExportNameReply,
  encodeGreeting,
  encodeInfoBlockSize,
  encodeInfoExport,
  encodeInfoString,
  encodeMetaContext,
  encodeOffsetDataHead,
  encodeOffsetHole,
  encodeOptionReply,
  encodeRepServer,
  encodeSimpleReply,
  nbdString,
  type NbdRequestHeader,
} from './wire.js';
import { ByteQueue } from './byte-queue.js';
import { clipExtents, readRuns, validateRequest, type ServedExport } from './request.js';

/** Where the connection's bytes go. write() may return false (congested until drain()) or a promise. */
export interface NbdTransport {
  write(bytes: Uint8Array): boolean | void | Promise<void>;
  /** Ends the connection once what was written has gone out. */
  end(): void;
  /** Stop delivering input (the connection has enough queued); optional but needed for bounded memory. */
  pause?(): void;
  resume?(): void;
  /** Optional batching (a socket's cork/uncork): the buffers of one reply then leave in one writev. */
  cork?(): void;
  uncork?(): void;
}

export interface NbdLogEvent {
  readonly level: 'info' | 'warn';
  readonly message: string;
}

export interface NbdServerOptions {
  readonly exports: ReadonlyMap<string, NbdExport>;
  /** The export an empty name selects (proto.md's "default" export); none if absent. */
  readonly defaultExport?: string;
  /** Requests being served at once (default 64). */
  readonly maxInFlight?: number;
  /** Payload bytes (read lengths and write data) held by requests being served (default 64 MiB). */
  readonly maxInFlightBytes?: number;
  /** Largest READ or WRITE payload (default 32 MiB); an export's own blockSize.max may lower it. */
  readonly maxRequestBytes?: number;
  /** Reply bytes the transport may hold unsent (write() said false, no drain yet) before reading stops (default 16 MiB). */
  readonly maxQueuedOutputBytes?: number;
  /** Structured READ replies send zero extents as NBD_REPLY_TYPE_OFFSET_HOLE when the export can tell. */
  readonly sparseReads?: boolean;
  readonly log?: (e: NbdLogEvent) => void;
}

type Phase = 'greeting' | 'clientFlags' | 'options' | 'transmission' | 'closed';

/** Option data beyond this is skipped and answered with NBD_REP_ERR_TOO_BIG. */
const MAX_OPTION_DATA = 64 * 1024;
/** The context id handed out for base:allocation (ids are opaque to clients). */
const BASE_ALLOCATION_ID = 1;
/** Replies up to this size are joined into one write. */
const SMALL_REPLY = 64 * 1024;
/** Reads shorter than this are sent as one data chunk: looking for holes would cost more than it saves. */
const SPARSE_READ_MIN = 64 * 1024;

export class NbdServerConnection {
  private phase: Phase = 'greeting';
  private readonly input = new ByteQueue();
  private skipBytes = 0;
  private noZeroes = false;
  private structured = false;
  /** Export name (canonical) the last NBD_OPT_SET_META_CONTEXT selected base:allocation for. */
  private metaExport: string | undefined;
  private served: ServedExport | undefined;
  private inFlight = 0;
  private inFlightBytes = 0;
  /** Bytes written since write() last reported congestion, or still pending as promises. */
  private queuedOut = 0;
  private pendingOut = 0;
  private paused = false;
  private pumping = false;
  private disconnecting = false;
  private readonly maxInFlight: number;
  private readonly maxInFlightBytes: number;
  private readonly maxRequestBytes: number;
  private readonly sparseReads: boolean;
  private readonly maxQueuedOutputBytes: number;

  constructor(
    private readonly transport: NbdTransport,
    private readonly options: NbdServerOptions,
  ) {
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 64);
    this.maxRequestBytes = Math.min(options.maxRequestBytes ?? 32 * 1024 * 1024, 0x7fffffff);
    this.maxInFlightBytes = Math.max(options.maxInFlightBytes ?? 64 * 1024 * 1024, this.maxRequestBytes);
    this.sparseReads = options.sparseReads ?? true;
    this.maxQueuedOutputBytes = options.maxQueuedOutputBytes ?? 16 * 1024 * 1024;
    for (const [name, exp] of options.exports) describeExport(name, exp);
  }

  get closed(): boolean {
    return this.phase === 'closed';
  }

  /** Sends the greeting; call once the transport is connected. */
  start(): void {
    if (this.phase !== 'greeting') return;
    this.phase = 'clientFlags';
    this.send(encodeGreeting());
    this.pump();
  }

  /** Bytes from the client. */
  push(chunk: Uint8Array): void {
    if (this.phase === 'closed' || this.disconnecting) return;
    this.input.push(chunk);
    // A transport that ignores pause() would let a client queue unbounded input.
    if (this.input.length > this.maxRequestBytes + 4 * 1024 * 1024 + this.skipBytes) {
      this.abort(`${this.input.length} bytes of input queued: the transport does not honour pause()`);
      return;
    }
    this.pump();
  }

  /** The transport drained what write() had refused (a socket's 'drain' event). */
  drain(): void {
    this.queuedOut = 0;
    this.maybeResume();
  }

  /** The transport closed (either side): drop state; replies of requests still running go nowhere. */
  close(): void {
    this.phase = 'closed';
    this.input.clear();
  }

  // ---- input ----

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.step());
    } catch (e) {
      // A bug meeting odd input must cost this connection, never the process serving the others.
      this.abort(`internal error: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.pumping = false;
    }
  }

  /** Consumes one message if it is complete; false when more input (or fewer requests in flight) is needed. */
  private step(): boolean {
    if (this.skipBytes > 0) {
      this.skipBytes -= this.input.skip(this.skipBytes);
      if (this.skipBytes > 0) return false;
    }
    switch (this.phase) {
      case 'clientFlags':
        return this.stepClientFlags();
      case 'options':
        return this.stepOption();
      case 'transmission':
        return this.stepRequest();
      default:
        return false;
    }
  }

  private stepClientFlags(): boolean {
    if (this.input.length < 4) return false;
    const flags = this.input.take(4).readUInt32BE(0);
    const known = NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES;
    if ((flags & ~known) !== 0) {
      this.abort(`client flags 0x${flags.toString(16)} set bits this server did not offer`);
      return false;
    }
    this.noZeroes = (flags & NBD_FLAG_C_NO_ZEROES) !== 0;
    this.phase = 'options';
    return true;
  }

  private stepOption(): boolean {
    if (this.input.length < NBD_OPTION_HEADER_SIZE) return false;
    const h = this.input.peek(NBD_OPTION_HEADER_SIZE);
    const magic = h.readBigUInt64BE(0);
    const option = h.readUInt32BE(8);
    const length = h.readUInt32BE(12);
    if (magic !== NBD_OPTS_MAGIC) {
      this.abort(`option magic 0x${magic.toString(16)} is not IHAVEOPT`);
      return false;
    }
    if (length > MAX_OPTION_DATA) {
      this.input.skip(NBD_OPTION_HEADER_SIZE);
      if (option === NBD_OPT.NBD_OPT_EXPORT_NAME) {
        this.abort(`NBD_OPT_EXPORT_NAME with ${length} bytes of name`);
        return false;
      }
      this.skipBytes = length;
      this.optionError(
        option,
        NBD_REP.NBD_REP_ERR_TOO_BIG,
        `${nbdOptName(option)}: ${length} bytes of option data exceed ${MAX_OPTION_DATA}`,
      );
      return true;
    }
    if (this.input.length < NBD_OPTION_HEADER_SIZE + length) return false;
    this.input.skip(NBD_OPTION_HEADER_SIZE);
    const data = this.input.take(length);
    this.handleOption(option, data);
    return this.phase !== 'closed';
  }

  private stepRequest(): boolean {
    if (this.disconnecting) {
      this.input.clear();
      return false;
    }
    if (this.admissionBlocked(0)) return this.block();
    if (this.input.length < NBD_REQUEST_HEADER_SIZE) return false;
    const h = decodeRequestHeader(this.input.peek(NBD_REQUEST_HEADER_SIZE));
    if (h.magic !== NBD_REQUEST_MAGIC) {
      this.abort(`request magic 0x${h.magic.toString(16)} is not NBD_REQUEST_MAGIC`);
      return false;
    }
    const served = this.served!;
    if (h.type === NBD_CMD.NBD_CMD_DISC) {
      this.input.skip(NBD_REQUEST_HEADER_SIZE);
      this.disconnecting = true;
      this.input.clear();
      this.maybeFinish();
      return false;
    }
    if (h.type === NBD_CMD.NBD_CMD_WRITE) {
      if (h.length > served.maxPayload) {
        // Refuse it but keep the stream in step: its payload is discarded as it arrives, never held.
        this.input.skip(NBD_REQUEST_HEADER_SIZE);
        this.skipBytes = h.length;
        this.run(h, 0, () =>
          Promise.reject(
            new NbdError('EINVAL', `write of ${h.length} bytes exceeds the maximum payload ${served.maxPayload}`),
          ),
        );
        return true;
      }
      if (this.admissionBlocked(h.length)) return this.block();
      if (this.input.length < NBD_REQUEST_HEADER_SIZE + h.length) return false;
      this.input.skip(NBD_REQUEST_HEADER_SIZE);
      const data = this.input.take(h.length);
      this.run(h, h.length, () => this.serve(served, h, data));
      return true;
    }
    const cost = h.type === NBD_CMD.NBD_CMD_READ ? Math.min(h.length, served.maxPayload) : 0;
    if (this.admissionBlocked(cost)) return this.block();
    this.input.skip(NBD_REQUEST_HEADER_SIZE);
    this.run(h, cost, () => this.serve(served, h, undefined));
    return true;
  }

  // ---- flow control ----

  private admissionBlocked(cost: number): boolean {
    // A socket says "false" past 16 KiB; stopping there would starve deep queues of large reads.
    if (this.queuedOut + this.pendingOut > this.maxQueuedOutputBytes) return true;
    if (this.inFlight >= this.maxInFlight) return true;
    return this.inFlight > 0 && this.inFlightBytes + cost > this.maxInFlightBytes;
  }

  private block(): boolean {
    if (!this.paused) {
      this.paused = true;
      this.transport.pause?.();
    }
    return false;
  }

  private maybeResume(): void {
    if (this.phase === 'closed') return;
    if (this.paused && !this.admissionBlocked(0)) {
      this.paused = false;
      this.transport.resume?.();
    }
    this.pump();
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.disconnecting && this.inFlight === 0 && this.phase !== 'closed') {
      this.phase = 'closed';
      this.transport.end();
    }
  }

  // ---- output ----

  private send(...bufs: Uint8Array[]): void {
    if (this.phase === 'closed') return;
    // A small reply goes out in one write (one syscall); a large one is not copied to join it.
    if (bufs.length > 1) {
      let total = 0;
      for (const b of bufs) total += b.length;
      if (total <= SMALL_REPLY) bufs = [Buffer.concat(bufs, total)];
    }
    const corked = bufs.length > 1 && this.transport.cork !== undefined;
    if (corked) this.transport.cork!();
    for (const b of bufs) {
      const r = this.transport.write(b);
      if (r === false || this.queuedOut > 0) this.queuedOut += b.length;
      else if (r instanceof Promise) {
        this.pendingOut += b.length;
        r.then(
          () => {
            this.pendingOut -= b.length;
            this.maybeResume();
          },
          (e: unknown) => this.abort(`transport write failed: ${e instanceof Error ? e.message : String(e)}`),
        );
      }
    }
    if (corked) this.transport.uncork?.();
  }

  /** Hard disconnect after a violation by the peer. */
  private abort(why: string): void {
    if (this.phase === 'closed') return;
    this.options.log?.({ level: 'warn', message: `nbd: closing connection: ${why}` });
    this.phase = 'closed';
    this.input.clear();
    this.transport.end();
  }

  // ---- handshake ----

  private lookup(name: string): { name: string; exp: NbdExport } | undefined {
    const canonical = name === '' && this.options.defaultExport !== undefined ? this.options.defaultExport : name;
    const exp = this.options.exports.get(canonical);
    return exp ? { name: canonical, exp } : undefined;
  }

  private optionError(option: number, type: number, message: string): void {
    this.options.log?.({ level: 'info', message: `nbd: ${message}` });
    this.send(encodeOptionReply(option, type, nbdString(message)));
  }

  private handleOption(option: number, data: Buffer): void {
    const opt = nbdOptName(option);
    try {
      switch (option) {
        case NBD_OPT.NBD_OPT_EXPORT_NAME:
          return this.optExportName(data);
        case NBD_OPT.NBD_OPT_ABORT:
          // Any data is ignored, as proto.md asks.
          this.send(encodeOptionReply(option, NBD_REP.NBD_REP_ACK));
          this.phase = 'closed';
          this.transport.end();
          return;
        case NBD_OPT.NBD_OPT_LIST:
          if (data.length !== 0)
            throw new NbdError('EINVAL', `${opt}: carries ${data.length} bytes of data, none allowed`);
          for (const name of this.options.exports.keys()) this.send(encodeRepServer(option, name));
          this.send(encodeOptionReply(option, NBD_REP.NBD_REP_ACK));
          return;
        case NBD_OPT.NBD_OPT_INFO:
        case NBD_OPT.NBD_OPT_GO:
          return this.optInfo(option, data);
        case NBD_OPT.NBD_OPT_STRUCTURED_REPLY:
          if (data.length !== 0)
            throw new NbdError('EINVAL', `${opt}: carries ${data.length} bytes of data, none allowed`);
          this.structured = true;
          this.send(encodeOptionReply(option, NBD_REP.NBD_REP_ACK));
          return;
        case NBD_OPT.NBD_OPT_LIST_META_CONTEXT:
        case NBD_OPT.NBD_OPT_SET_META_CONTEXT:
          return this.optMetaContext(option, data);
        default:
          return this.optionError(option, NBD_REP.NBD_REP_ERR_UNSUP, `${opt} is not supported by this server`);
      }
    } catch (e) {
      if (e instanceof NbdError && e.kind === 'EINVAL')
        return this.optionError(option, NBD_REP.NBD_REP_ERR_INVALID, e.message);
      throw e;
    }
  }

  private optExportName(data: Buffer): void {
    if (data.length > NBD_MAX_STRING) return this.abort(`NBD_OPT_EXPORT_NAME: name of ${data.length} bytes`);
    const name = data.toString('utf8');
    const found = this.lookup(name);
    // This option cannot carry an error: proto.md says the server terminates the session.
    if (!found) return this.abort(`NBD_OPT_EXPORT_NAME: no export named '${name}'`);
    const served = this.enterTransmission(found.name, found.exp);
    this.send(encodeExportNameReply(served.size, served.flags, this.noZeroes));
  }

  private optInfo(option: number, data: Buffer): void {
    const opt = nbdOptName(option);
    const req = decodeInfoRequest(data, opt);
    const found = this.lookup(req.name);
    if (!found) return this.optionError(option, NBD_REP.NBD_REP_ERR_UNKNOWN, `${opt}: no export named '${req.name}'`);
    const { size, blockSize } = describeExport(found.name, found.exp);
    this.send(encodeInfoExport(option, size, transmissionFlags(found.exp, this.structured)));
    if (req.infos.includes(NBD_INFO.NBD_INFO_NAME))
      this.send(encodeInfoString(option, NBD_INFO.NBD_INFO_NAME, found.name));
    if (req.infos.includes(NBD_INFO.NBD_INFO_DESCRIPTION) && found.exp.description !== undefined) {
      this.send(encodeInfoString(option, NBD_INFO.NBD_INFO_DESCRIPTION, found.exp.description));
    }
    // Sent whether asked or not: a client that did not ask ignores it, and the limits are enforced anyway.
    this.send(encodeInfoBlockSize(option, { ...blockSize, max: Math.min(blockSize.max, this.maxRequestBytes) }));
    this.send(encodeOptionReply(option, NBD_REP.NBD_REP_ACK));
    if (option === NBD_OPT.NBD_OPT_GO) this.enterTransmission(found.name, found.exp);
  }

  private optMetaContext(option: number, data: Buffer): void {
    const opt = nbdOptName(option);
    const set = option === NBD_OPT.NBD_OPT_SET_META_CONTEXT;
    // Setting replaces the previous selection even when it fails.
    if (set) this.metaExport = undefined;
    if (set && !this.structured) throw new NbdError('EINVAL', `${opt} before NBD_OPT_STRUCTURED_REPLY`);
    const req = decodeMetaContextRequest(data, opt);
    const found = this.lookup(req.name);
    if (!found) return this.optionError(option, NBD_REP.NBD_REP_ERR_UNKNOWN, `${opt}: no export named '${req.name}'`);
    const offered = found.exp.blockStatus !== undefined;
    const selects = set
      ? req.queries.includes(NBD_META_BASE_ALLOCATION)
      : req.queries.length === 0 || req.queries.some((q) => q === 'base:' || q === NBD_META_BASE_ALLOCATION);
    if (offered && selects) {
      this.send(encodeMetaContext(option, set ? BASE_ALLOCATION_ID : 0, NBD_META_BASE_ALLOCATION));
      if (set) this.metaExport = found.name;
    }
    this.send(encodeOptionReply(option, NBD_REP.NBD_REP_ACK));
  }

  private enterTransmission(name: string, exp: NbdExport): ServedExport {
    const { size, blockSize } = describeExport(name, exp);
    const served: ServedExport = {
      name,
      exp,
      size,
      blockSize,
      maxPayload: Math.min(blockSize.max, this.maxRequestBytes),
      flags: transmissionFlags(exp, this.structured),
    };
    this.served = served;
    this.phase = 'transmission';
    this.options.log?.({ level: 'info', message: `nbd: serving export '${name}' (${size} bytes)` });
    return served;
  }

  // ---- transmission ----

  private run(h: NbdRequestHeader, cost: number, op: () => Promise<void>): void {
    this.inFlight++;
    this.inFlightBytes += cost;
    op()
      .catch((e: unknown) => this.replyError(h, e))
      .finally(() => {
        this.inFlight--;
        this.inFlightBytes -= cost;
        this.maybeResume();
      })
      .catch(() => undefined);
  }

  private replyError(h: NbdRequestHeader, e: unknown): void {
    const error = nbdErrorValueOf(e);
    const detail = e instanceof Error ? e.message : String(e);
    const name = this.served?.name ?? '';
    const message = `${nbdCmdName(h.type)} cookie 0x${h.cookie.toString('hex')} offset ${h.offset} length ${h.length} on '${name}': ${detail}`;
    this.options.log?.({ level: 'warn', message: `nbd: ${message}` });
    if (this.structured) this.send(encodeChunkError(h.cookie, error, message));
    else this.send(encodeSimpleReply(error, h.cookie));
  }

  private async serve(s: ServedExport, h: NbdRequestHeader, data: Buffer | undefined): Promise<void> {
    validateRequest(s, h, { structured: this.structured, metaExport: this.metaExport });
    const offset = Number(h.offset);
    const fua = (h.flags & NBD_CMD_FLAG.NBD_CMD_FLAG_FUA) !== 0;
    const exp = s.exp;
    switch (h.type) {
      case NBD_CMD.NBD_CMD_READ:
        return this.serveRead(s, h, offset);
      case NBD_CMD.NBD_CMD_WRITE:
        if (h.length > 0) await exp.write(offset, data!, { fua });
        break;
      case NBD_CMD.NBD_CMD_FLUSH:
        await exp.flush!();
        break;
      case NBD_CMD.NBD_CMD_TRIM:
        if (h.length > 0) await exp.trim!(offset, h.length);
        if (fua && exp.flush) await exp.flush();
        break;
      case NBD_CMD.NBD_CMD_WRITE_ZEROES:
        if (h.length > 0) {
          await exp.writeZeroes!(offset, h.length, {
            fua,
            noHole: (h.flags & NBD_CMD_FLAG.NBD_CMD_FLAG_NO_HOLE) !== 0,
          });
        }
        break;
      case NBD_CMD.NBD_CMD_BLOCK_STATUS:
        return this.serveBlockStatus(s, h, offset);
    }
    this.send(encodeSimpleReply(0, h.cookie));
  }

  private async serveRead(s: ServedExport, h: NbdRequestHeader, offset: number): Promise<void> {
    const len = h.length;
    if (!this.structured) {
      const data = len > 0 ? await s.exp.read(offset, len) : Buffer.alloc(0);
      this.checkReadLength(data, len);
      if (len > 0) this.send(encodeSimpleReply(0, h.cookie), data);
      else this.send(encodeSimpleReply(0, h.cookie));
      return;
    }
    if (len === 0) return this.send(encodeChunkNone(h.cookie));
    const df = (h.flags & NBD_CMD_FLAG.NBD_CMD_FLAG_DF) !== 0;
    const runs =
      !df && this.sparseReads && len >= SPARSE_READ_MIN && s.exp.blockStatus
        ? await readRuns(s.exp, offset, len)
        : [{ offset, length: len, zero: false }];
    // Everything is read before anything is sent, so an error never follows a chunk marked final.
    const datas = await Promise.all(
      runs.map((r) => (r.zero ? Promise.resolve(undefined) : s.exp.read(r.offset, r.length))),
    );
    const out: Uint8Array[] = [];
    runs.forEach((r, i) => {
      const done = i === runs.length - 1;
      const d = datas[i];
      if (d === undefined) out.push(encodeOffsetHole(done, h.cookie, r.offset, r.length));
      else {
        this.checkReadLength(d, r.length);
        out.push(encodeOffsetDataHead(done, h.cookie, r.offset, r.length), d);
      }
    });
    this.send(...out);
  }

  private checkReadLength(data: Uint8Array, len: number): void {
    if (data.length !== len) throw new NbdError('EIO', `export returned ${data.length} bytes for a read of ${len}`);
  }

  private async serveBlockStatus(s: ServedExport, h: NbdRequestHeader, offset: number): Promise<void> {
    const extents = clipExtents(await s.exp.blockStatus!(offset, h.length), s, h);
    this.send(encodeBlockStatus(true, h.cookie, BASE_ALLOCATION_ID, extents));
  }
}

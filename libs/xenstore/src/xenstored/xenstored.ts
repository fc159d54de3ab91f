// The daemon around the engine: requests run in arrival order, every change is journalled durably before
// anyone hears of it, replies leave in the order their requests came, and watch events follow the reply
// that caused them. Transports (the xs_wire socket, NATS) only feed it sessions and bytes.
import { XS, type DomId } from '@dominion/abi';
import { errnoOf, messageOf, xsdErrorOf } from '@dominion/bus';
import { DurableLog, type FileIO, type LogDiscard } from '@dominion/fsio';
import { XenstoreEngine, type JournalRecord, type WatchFire, type XsQuota } from '../store/index.js';
import { splitNul, xsErrorReply, type XsMessage } from '../wire/index.js';
import { XenstoreError } from '../errors.js';
import { XsSession, type XsSessionHooks, type XsSessionHost } from './session.js';

export type XenstoredLogger = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface XenstoredOptions {
  io: FileIO;
  /** The directory of the store's snapshot and log. */
  dir: string;
  quota?: Partial<XsQuota>;
  /** The log is folded into a new snapshot once it passes this many bytes; default 4 MiB. */
  compactAfterBytes?: number;
  log?: XenstoredLogger;
}

export interface XenstoredRecovery {
  generation: number;
  fromSnapshot: boolean;
  /** Journal entries replayed on top of the snapshot. */
  replayed: number;
  /** A torn or corrupt tail cut off the log: writes that were never acknowledged. */
  discarded?: LogDiscard;
}

/** A request (or domain change) whose outcome waits for its turn and its fsync. */
interface Pending {
  durable: boolean;
  release(ok: boolean): void;
}

const COMPACT_AFTER_BYTES = 4 << 20;

export class Xenstored implements XsSessionHost {
  private readonly sessions = new Map<number, XsSession>();
  private readonly queue: Pending[] = [];
  private readonly idleWaiters: Array<() => void> = [];
  private failure: Error | undefined;
  private closing = false;
  private closed = false;

  private constructor(
    private readonly engine: XenstoreEngine,
    private readonly durable: DurableLog,
    readonly recovery: XenstoredRecovery,
    private readonly log: XenstoredLogger,
  ) {}

  /** Recovers the store in `dir` (snapshot + journal; a torn tail is reported and dropped) and opens it. */
  static async open(opts: XenstoredOptions): Promise<Xenstored> {
    const logger: XenstoredLogger = opts.log ?? (() => undefined);
    let daemon: Xenstored | undefined;
    const { log, recovery } = await DurableLog.open(opts.io, opts.dir, {
      compactAfterBytes: opts.compactAfterBytes ?? COMPACT_AFTER_BYTES,
      onCompactDue: () => daemon?.compact(),
    });
    try {
      const engine = recovery.snapshot
        ? XenstoreEngine.importState(parseJson(recovery.snapshot, `${opts.dir} snapshot.${recovery.generation}`), {
            quota: opts.quota,
          })
        : new XenstoreEngine({ quota: opts.quota });
      let replayed = 0;
      recovery.records.forEach((rec, i) => {
        const entries = parseJson(rec, `${opts.dir} log.${recovery.generation} record ${i}`);
        if (!Array.isArray(entries)) {
          throw new XenstoreError('EIO', `${opts.dir} log.${recovery.generation} record ${i} is not a journal batch`);
        }
        for (const e of entries as JournalRecord[]) engine.applyJournal(e);
        replayed += entries.length;
      });
      const report: XenstoredRecovery = {
        generation: recovery.generation,
        fromSnapshot: recovery.snapshot !== undefined,
        replayed,
        ...(recovery.discarded && { discarded: recovery.discarded }),
      };
      if (recovery.discarded) {
        const d = recovery.discarded;
        logger(
          'warn',
          `xenstored: discarded ${d.bytes} bytes of torn log tail (${d.reason}) at ${d.file}:${d.offset}`,
          {
            ...d,
          },
        );
      }
      for (const r of recovery.rejectedSnapshots ?? [])
        logger('warn', `xenstored: passed over invalid ${r.file}: ${r.reason}`);
      logger(
        'info',
        `xenstored: store recovered (generation ${report.generation}, ${replayed} journal entries replayed)`,
      );
      daemon = new Xenstored(engine, log, report, logger);
      return daemon;
    } catch (e) {
      await log.close().catch(() => undefined);
      throw e;
    }
  }

  /** False once the journal failed (every request then fails with EIO) or close() began. */
  get ready(): boolean {
    return this.failure === undefined && !this.closing;
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Bytes in the current journal (compaction folds it into a snapshot). */
  get journalBytes(): number {
    return this.durable.logBytes;
  }

  /**
   * A new client. An unprivileged domain must have been introduced (in Xen it has no ring before), so
   * this throws EACCES for one that was not, or has been released.
   */
  connect(domid: DomId, opts: XsSessionHooks & { privileged?: boolean } = {}): XsSession {
    this.usable(`connect domain ${domid}`);
    const privileged = opts.privileged ?? false;
    if (!privileged && !this.engine.isIntroduced(domid)) {
      throw new XenstoreError('EACCES', `domain ${domid} is not introduced to xenstored`);
    }
    const session = new XsSession(this, this.engine.connect(domid, { privileged }), opts);
    this.sessions.set(session.id, session);
    return session;
  }

  isIntroduced(domid: DomId): boolean {
    return this.engine.isIntroduced(domid);
  }

  /** Domains introduced other than dom0. */
  introducedDomains(): DomId[] {
    return this.engine.introducedDomains();
  }

  /** What INTRODUCE does, for dom0's domain builder: durable when this resolves, @introduceDomain fired. */
  async introduceDomain(domid: DomId): Promise<void> {
    const what = `introduce domain ${domid}`;
    this.usable(what);
    await this.change(this.engine.introduceDomain(domid), what);
  }

  /**
   * What RELEASE does: the domain's sessions end at once, the nodes it owns go; durable when this resolves,
   * @releaseDomain fired. ENOENT for a domain that is not introduced.
   */
  async releaseDomain(domid: DomId): Promise<void> {
    const what = `release domain ${domid}`;
    this.usable(what);
    const out = this.engine.releaseDomain(domid);
    this.endSessionsOf(domid);
    await this.change(out, what);
  }

  /** Stops taking sessions, gives every owed reply, ends the sessions and closes the journal. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.queue.length > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    for (const s of [...this.sessions.values()]) s.close('xenstored is shutting down');
    this.closed = true;
    await this.durable.close();
  }

  /** @internal XsSessionHost */
  submit(session: XsSession, msg: XsMessage, respond: (reply: XsMessage) => void): void {
    if (this.failure !== undefined || this.closed) {
      respond(xsErrorReply(msg, 'EIO'));
      return;
    }
    let reply: XsMessage;
    let events: WatchFire[] = [];
    let journal: JournalRecord[] = [];
    try {
      const out = session.conn.handle(msg.type, msg.txId, msg.payload);
      reply = { type: out.reply.type, reqId: msg.reqId, txId: msg.txId, payload: out.reply.payload };
      events = out.events;
      journal = out.journal;
    } catch (e) {
      // The engine answers bad requests itself; a throw here is a bug, and must cost this request only.
      const kind = errnoOf(e);
      if (kind === 'EIO')
        this.log('error', `xenstored: engine failed on a request of domain ${session.domid}: ${messageOf(e)}`);
      reply = xsErrorReply(msg, xsdErrorOf(kind));
    }
    if (msg.type === XS.XS_RELEASE && reply.type === XS.XS_RELEASE) {
      const domid = Number(splitNul(msg.payload)[0]);
      if (domid !== session.domid) this.endSessionsOf(domid);
    }
    this.enqueue(journal, (ok) => {
      if (!ok) {
        respond(xsErrorReply(msg, 'EIO'));
        return;
      }
      respond(reply);
      this.deliver(events);
    });
  }

  /** @internal XsSessionHost */
  detach(session: XsSession): void {
    this.sessions.delete(session.id);
  }

  private usable(what: string): void {
    if (this.failure) throw new XenstoreError('EIO', `${what}: the journal failed earlier (${this.failure.message})`);
    if (this.closing) throw new XenstoreError('EIO', `${what}: xenstored is shutting down`);
  }

  private change(out: { events: WatchFire[]; journal: JournalRecord[] }, what: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.enqueue(out.journal, (ok) => {
        if (!ok) {
          reject(new XenstoreError('EIO', `${what}: the journal failed (${this.failure?.message})`));
          return;
        }
        this.deliver(out.events);
        resolve();
      }),
    );
  }

  private endSessionsOf(domid: DomId): void {
    for (const s of [...this.sessions.values()]) {
      if (s.domid === domid) s.close(`domain ${domid} was released`);
    }
  }

  private deliver(events: WatchFire[]): void {
    for (const ev of events) this.sessions.get(ev.connId)?.deliver(ev.path, ev.token);
  }

  /**
   * Queues an outcome. It is released (in queue order) once its journal entries are durable; one that
   * changed nothing still waits for the ones before it.
   */
  private enqueue(journal: JournalRecord[], release: (ok: boolean) => void): void {
    if (journal.length === 0 && this.queue.length === 0) {
      release(true);
      return;
    }
    const p: Pending = { durable: journal.length === 0, release };
    this.queue.push(p);
    if (journal.length === 0) return;
    let batch: Buffer;
    try {
      batch = Buffer.from(JSON.stringify(journal), 'utf8');
      this.durable.append([batch]).then(
        () => {
          p.durable = true;
          this.flush();
        },
        (e: unknown) => this.fail(e),
      );
    } catch (e) {
      this.fail(e);
    }
  }

  private flush(): void {
    while (this.queue.length > 0 && this.queue[0].durable) this.queue.shift()!.release(this.failure === undefined);
    if (this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * The journal could not be made durable: the tree in memory is ahead of the disk, so from here on
   * nothing is acknowledged (fail-stop); a restart recovers what was durable.
   */
  private fail(e: unknown): void {
    if (this.failure === undefined) {
      this.failure = e instanceof Error ? e : new Error(String(e));
      this.log('error', `xenstored: journal failed, refusing every request from now on: ${messageOf(e)}`);
    }
    for (const p of this.queue) p.durable = true;
    this.flush();
  }

  private compact(): void {
    if (this.failure || this.closing) return;
    let snapshot: Buffer;
    try {
      snapshot = Buffer.from(JSON.stringify(this.engine.exportState()), 'utf8');
    } catch (e) {
      this.fail(e);
      return;
    }
    const before = this.durable.logBytes;
    this.durable.compact(snapshot).then(
      () => this.log('info', `xenstored: compacted a ${before}-byte journal into a ${snapshot.length}-byte snapshot`),
      (e: unknown) => this.fail(e),
    );
  }
}

function parseJson(buf: Buffer, what: string): unknown {
  try {
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch (e) {
    throw new XenstoreError('EIO', `${what} is not valid JSON: ${messageOf(e)}`);
  }
}

// XenStore for domains over NATS (the protocol is in apps/dom0/README.md). The caller's domid comes from
// the subject, which NATS permissions vouch for; the session that owns watches and transactions comes from
// the Xs-Session header, scoped to that domid so that no domain can reach another's.
import { headers as natsHeaders, type Msg } from '@nats-io/nats-core';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { DOMID_0, XS, xsTypeName, type DomId, type XsdError } from '@dominion/abi';
import { callerOf, errnoOf, messageOf, replyAllowed, serverRequiresAuth, subjects, xsdErrorOf } from '@dominion/bus';
import {
  decodeXsHeader,
  decodeXsMessage,
  encodeXsMessage,
  splitNul,
  xsErrorReply,
  xsOkReply,
  xsWatchEvent,
  type XsMessage,
} from '../wire/index.js';
import {
  XS_CONTROL_SESSION_CLOSE,
  XS_CONTROL_SESSION_KEEPALIVE,
  XS_ERROR_MESSAGE_HEADER,
  XS_SESSION_HEADER,
  XS_SESSION_ID,
  XS_SESSION_LEASE_MS,
  XS_SESSION_OPENED_HEADER,
} from './nats-protocol.js';
import type { XsSession } from './session.js';
import type { Xenstored, XenstoredLogger } from './xenstored.js';
import { XenstoreError } from '../errors.js';

export interface XsNatsTransportOptions {
  /** A session with no request for this long is closed; default 60 s. */
  leaseMs?: number;
  /** Sessions one domain may hold at once; default 256. */
  maxSessionsPerDomain?: number;
  log?: XenstoredLogger;
}

interface NatsSession {
  readonly key: string;
  readonly domid: DomId;
  readonly session: XsSession;
  lastUsed: number;
}

/** A request the transport refuses before it reaches the engine. */
class Refusal extends Error {
  constructor(
    readonly error: XsdError,
    message: string,
  ) {
    super(message);
  }
}

export class XsNatsTransport {
  private sub: Subscription | undefined;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private readonly sessions = new Map<string, NatsSession>();
  private readonly perDomain = new Map<DomId, number>();
  private readonly leaseMs: number;
  private readonly maxSessions: number;
  private readonly log: XenstoredLogger;

  constructor(
    private readonly xenstored: Xenstored,
    private readonly nc: NatsConnection,
    opts: XsNatsTransportOptions = {},
  ) {
    this.leaseMs = opts.leaseMs ?? XS_SESSION_LEASE_MS;
    this.maxSessions = opts.maxSessionsPerDomain ?? 256;
    this.log = opts.log ?? (() => undefined);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Subscribes `xen.xs.*`; resolves once the server has the subscription. */
  async start(): Promise<void> {
    if (this.sub) return;
    this.sub = this.nc.subscribe(subjects.xsAny(), {
      callback: (err, m) => {
        if (!err) this.onRequest(m);
      },
    });
    this.sweeper = setInterval(() => this.expire(), Math.max(20, Math.min(this.leaseMs / 4, 5000)));
    this.sweeper.unref();
    await this.nc.flush();
  }

  /** Stops taking requests and ends every session (replies still owed are given by xenstored). */
  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    const sub = this.sub;
    this.sub = undefined;
    if (sub && !this.nc.isClosed()) await sub.drain().catch(() => undefined);
    for (const s of [...this.sessions.values()]) s.session.close('xenstored stopped serving NATS');
  }

  private onRequest(m: Msg): void {
    // Answers go only into the caller's own inbox: a reply subject such as another domain's watch subject
    // (which xenstored may publish on) would make xenstored a deputy. Such a request is not run at all.
    const from = callerOf(m.subject);
    if (m.reply && !replyAllowed(from, m.reply, serverRequiresAuth(this.nc))) {
      this.log(
        'warn',
        `xenstored: request on ${m.subject} (domid ${from ?? '?'}) dropped: reply subject ${m.reply} is not its inbox`,
      );
      return;
    }
    let req: XsMessage | undefined;
    try {
      const caller = callerOf(m.subject);
      if (caller === undefined) throw new Refusal('EINVAL', `subject ${m.subject} names no caller domid`);
      req = decode(m.data);
      const sessionId = m.headers?.get(XS_SESSION_HEADER) ?? '';
      if (sessionId === '') this.oneShot(m, caller, req);
      else this.inSession(m, caller, sessionId, req);
    } catch (e) {
      if (e instanceof Refusal) {
        this.refuse(m, req, e);
      } else {
        const kind = xsdErrorOf(errnoOf(e));
        if (kind === 'EIO') this.log('error', `xenstored: NATS request on ${m.subject} failed: ${messageOf(e)}`);
        this.refuse(m, req, new Refusal(kind, messageOf(e)));
      }
    }
  }

  /** No session: the request runs alone and its session ends with it, so it cannot own anything. */
  private oneShot(m: Msg, caller: DomId, req: XsMessage): void {
    if (req.type === XS.XS_WATCH || req.type === XS.XS_TRANSACTION_START) {
      throw new Refusal(
        'EINVAL',
        `${xsTypeName(req.type)} needs a session: send it with an ${XS_SESSION_HEADER} header`,
      );
    }
    const control = sessionControl(req);
    if (control !== undefined) {
      this.respond(m, xsOkReply(req));
      return;
    }
    const session = this.xenstored.connect(caller, { privileged: caller === DOMID_0 });
    session.submit(req, (reply) => this.respond(m, reply));
    session.close('one-shot request done');
  }

  private inSession(m: Msg, caller: DomId, id: string, req: XsMessage): void {
    if (!XS_SESSION_ID.test(id)) {
      throw new Refusal(
        'EINVAL',
        `${XS_SESSION_HEADER} ${JSON.stringify(id.slice(0, 80))} is not 1..64 of [A-Za-z0-9_-]`,
      );
    }
    const key = `${caller}/${id}`;
    const control = sessionControl(req);
    let s = this.sessions.get(key);
    if (control === XS_CONTROL_SESSION_CLOSE) {
      s?.session.close('closed by its client');
      this.respond(m, xsOkReply(req));
      return;
    }
    let opened = false;
    if (s === undefined) {
      s = this.open(caller, id, key);
      opened = true;
    }
    s.lastUsed = Date.now();
    if (control === XS_CONTROL_SESSION_KEEPALIVE) {
      this.respond(m, xsOkReply(req), opened);
      return;
    }
    s.session.submit(req, (reply) => this.respond(m, reply, opened));
  }

  private open(domid: DomId, id: string, key: string): NatsSession {
    const held = this.perDomain.get(domid) ?? 0;
    if (held >= this.maxSessions) {
      throw new Refusal('ENOSPC', `domain ${domid} already holds ${held} sessions, the most one domain may`);
    }
    const watchSubject = subjects.xsWatch(domid, id);
    const session = this.xenstored.connect(domid, {
      privileged: domid === DOMID_0,
      onEvent: (path, token) => {
        try {
          this.nc.publish(watchSubject, encodeXsMessage(xsWatchEvent(path, token)));
        } catch (e) {
          this.log('warn', `xenstored: watch event for ${watchSubject} not sent: ${messageOf(e)}`);
        }
      },
      onClose: () => {
        this.sessions.delete(key);
        const n = (this.perDomain.get(domid) ?? 1) - 1;
        if (n > 0) this.perDomain.set(domid, n);
        else this.perDomain.delete(domid);
      },
    });
    const s: NatsSession = { key, domid, session, lastUsed: Date.now() };
    this.sessions.set(key, s);
    this.perDomain.set(domid, held + 1);
    return s;
  }

  private expire(): void {
    const deadline = Date.now() - this.leaseMs;
    for (const s of [...this.sessions.values()]) {
      if (s.lastUsed < deadline) s.session.close(`lease expired (no request for ${this.leaseMs} ms)`);
    }
  }

  private respond(m: Msg, reply: XsMessage, opened = false, message?: string): void {
    if (!m.reply) return;
    try {
      if (opened || message !== undefined) {
        const h = natsHeaders();
        if (opened) h.set(XS_SESSION_OPENED_HEADER, '1');
        if (message !== undefined) h.set(XS_ERROR_MESSAGE_HEADER, message.replace(/[\r\n]+/g, ' '));
        m.respond(encodeXsMessage(reply), { headers: h });
      } else {
        m.respond(encodeXsMessage(reply));
      }
    } catch (e) {
      this.log('warn', `xenstored: reply on ${m.subject} not sent: ${messageOf(e)}`);
    }
  }

  private refuse(m: Msg, req: XsMessage | undefined, r: Refusal): void {
    // A body too broken to decode still gets an error that echoes whatever header it had.
    const head = req ?? headerOf(m.data);
    this.respond(m, xsErrorReply(head, r.error), false, r.message);
  }
}

function decode(data: Uint8Array): XsMessage {
  try {
    return decodeXsMessage(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  } catch (e) {
    if (e instanceof XenstoreError) {
      throw new Refusal(e.kind === 'E2BIG' ? 'E2BIG' : 'EINVAL', `malformed xs_wire request: ${e.message}`);
    }
    throw e;
  }
}

function headerOf(data: Uint8Array): XsMessage {
  try {
    const h = decodeXsHeader(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    return { type: h.type, reqId: h.reqId, txId: h.txId, payload: Buffer.alloc(0) };
  } catch {
    return { type: XS.XS_ERROR, reqId: 0, txId: 0, payload: Buffer.alloc(0) };
  }
}

/** Dominion's own XS_CONTROL commands (session-close, session-keepalive), or undefined. */
function sessionControl(req: XsMessage): string | undefined {
  if (req.type !== XS.XS_CONTROL) return undefined;
  const cmd = splitNul(req.payload)[0];
  return cmd === XS_CONTROL_SESSION_CLOSE || cmd === XS_CONTROL_SESSION_KEEPALIVE ? cmd : undefined;
}

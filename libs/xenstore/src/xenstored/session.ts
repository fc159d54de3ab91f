// One client of xenstored: what a socket connection or a ring is in Xen, and what a NATS session stands in
// for. Its watches and transactions live in its engine connection and end with it.
import type { DomId } from '@dominion/abi';
import type { XsConnection } from '../store/index.js';
import { xsErrorReply, type XsMessage } from '../wire/index.js';

export interface XsSessionHooks {
  /** A watch of this session fired (always after the reply to the request that caused it). */
  onEvent?(path: string, token: string): void;
  /** The session ended: closed by its owner, or by xenstored (its domain was released). */
  onClose?(reason: string): void;
}

/** @internal What a session needs from the daemon that owns it. */
export interface XsSessionHost {
  submit(session: XsSession, msg: XsMessage, respond: (reply: XsMessage) => void): void;
  detach(session: XsSession): void;
}

export class XsSession {
  private ended: string | undefined;

  constructor(
    private readonly host: XsSessionHost,
    /** @internal */ readonly conn: XsConnection,
    private readonly hooks: XsSessionHooks,
  ) {}

  get id(): number {
    return this.conn.id;
  }
  get domid(): DomId {
    return this.conn.domid;
  }
  get privileged(): boolean {
    return this.conn.privileged;
  }
  get closed(): boolean {
    return this.ended !== undefined;
  }

  /**
   * Runs one request. `respond` gets its reply once every change it made is durable and every earlier
   * request's reply has been given, so no one sees data a crash could take back.
   */
  submit(msg: XsMessage, respond: (reply: XsMessage) => void): void {
    if (this.ended !== undefined) {
      respond(xsErrorReply(msg, 'EIO'));
      return;
    }
    this.host.submit(this, msg, respond);
  }

  request(msg: XsMessage): Promise<XsMessage> {
    return new Promise((resolve) => this.submit(msg, resolve));
  }

  /** Drops the session's watches and open transactions. Replies still owed are still given. */
  close(reason = 'closed by its client'): void {
    if (this.ended !== undefined) return;
    this.ended = reason;
    this.conn.close();
    this.host.detach(this);
    this.hooks.onClose?.(reason);
  }

  /** @internal */
  deliver(path: string, token: string): void {
    if (this.ended === undefined) this.hooks.onEvent?.(path, token);
  }
}

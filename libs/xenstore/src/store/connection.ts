// A session with xenstored: a socket connection of a dom0 tool, or a domain's NATS session. It owns its
// watches and transactions, which end with it.
import type { XsPerm } from '../wire/perms.js';
import type { WatchFire } from './events.js';
import type { JournalRecord } from './journal.js';
import { domainPath } from './path.js';
import type { Transaction } from './transaction.js';
import type { Watch, WatchOwner } from './watches.js';

export type { XsPerm };

export interface XsReply {
  /** The request's type, or XS_ERROR with the error name as payload (`ENOENT\0`). */
  type: number;
  payload: Buffer;
}

/**
 * What one request did. The transport writes `journal` durably, then sends `reply`, then delivers `events`
 * (so a WATCH's reply precedes its first event, and nothing is acknowledged before it is durable).
 * Payloads may share memory with the store: send them, never modify them.
 */
export interface Outcome {
  reply: XsReply;
  events: WatchFire[];
  journal: JournalRecord[];
  /** With an XS_ERROR reply: what was wrong and where, for the transport's log (never sent to the client). */
  detail?: string;
}

export interface XsConnection {
  readonly id: number;
  readonly domid: number;
  readonly privileged: boolean;
  /** Processes one request, synchronously. Never throws: a bad request gets an XS_ERROR reply. */
  handle(type: number, txId: number, payload: Buffer): Outcome;
  /** Session end: drops its watches, aborts its transactions. */
  close(): void;
}

/** The engine side a connection calls into. */
export interface ConnectionHost {
  dispatch(c: Connection, type: number, txId: number, payload: Buffer): Outcome;
  disconnect(c: Connection): void;
}

export class Connection implements XsConnection, WatchOwner {
  readonly home: string;
  /** Keyed `path\0token`: a duplicate watch is the same path and token. */
  readonly watches = new Map<string, Watch>();
  readonly transactions = new Map<number, Transaction>();
  closed = false;
  private nextTxId = 1;

  constructor(
    private readonly host: ConnectionHost,
    readonly id: number,
    readonly domid: number,
    readonly privileged: boolean,
  ) {
    this.home = domainPath(domid);
  }

  handle(type: number, txId: number, payload: Buffer): Outcome {
    return this.host.dispatch(this, type, txId, payload);
  }

  close(): void {
    this.host.disconnect(this);
  }

  /** A transaction id: non-zero (0 means "no transaction"), unsigned 32-bit, not in use on this connection. */
  allocTxId(): number {
    for (;;) {
      const id = this.nextTxId;
      this.nextTxId = id >= 0xffffffff ? 1 : id + 1;
      if (!this.transactions.has(id)) return id;
    }
  }
}

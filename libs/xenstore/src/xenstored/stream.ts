// An xs_wire byte stream (the Unix socket the stock tools use): bytes in, whole messages to a session,
// replies and watch events out in the order xenstored gives them. A message xenstored cannot frame (a len
// over XENSTORE_PAYLOAD_MAX) ends this connection, as it does in Xen; nothing else is affected.
import type { DomId } from '@dominion/abi';
import { encodeXsMessage, xsWatchEvent, XsWireParser, type XsMessage } from '../wire/index.js';
import type { XsSession } from './session.js';
import type { Xenstored } from './xenstored.js';

export interface XsStreamPeer {
  write(bytes: Buffer): void;
  /** Drop the connection; `reason` says why, for the log. */
  destroy(reason: string): void;
}

export class XsStreamConnection {
  private readonly parser = new XsWireParser();
  private readonly session: XsSession;
  private dead = false;

  constructor(
    xenstored: Xenstored,
    private readonly peer: XsStreamPeer,
    opts: { domid?: DomId; privileged?: boolean } = {},
  ) {
    this.session = xenstored.connect(opts.domid ?? 0, {
      privileged: opts.privileged ?? true,
      onEvent: (path, token) => this.send(xsWatchEvent(path, token)),
      onClose: (reason) => this.kill(reason),
    });
  }

  get closed(): boolean {
    return this.dead;
  }

  feed(chunk: Buffer): void {
    if (this.dead) return;
    let msgs: XsMessage[];
    try {
      msgs = this.parser.feed(chunk);
    } catch (e) {
      this.kill(`bad xs_wire message: ${(e as Error).message}`);
      return;
    }
    for (const m of msgs) this.session.submit(m, (reply) => this.send(reply));
    // The messages before an unframeable header are applied first, as in C xenstored; their replies may not
    // make it out before the connection dies.
    if (this.parser.failed) this.kill(`bad xs_wire message: ${this.parser.failed.message}`);
  }

  /** The peer went away. */
  close(): void {
    this.dead = true;
    this.session.close('connection closed');
  }

  private send(m: XsMessage): void {
    if (!this.dead) this.peer.write(encodeXsMessage(m));
  }

  private kill(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    this.session.close(reason);
    this.peer.destroy(reason);
  }
}

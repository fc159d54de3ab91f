// A test-side 9P client on a P9Session with no socket: it encodes T-messages, and matches replies by tag.
import {
  P9Server,
  decodeMessage,
  encodeMessage,
  type P9Message,
  type P9MessageName,
  type P9MessageOf,
} from '@dominion/p9';

type Request = P9Message extends infer M ? (M extends { type: `T${string}` } ? Omit<M, 'tag'> : never) : never;

export class WireClient {
  private readonly pending = new Map<number, (m: P9Message) => void>();
  private tag = 1;
  private readonly session;

  constructor(server: P9Server) {
    this.session = server.connect({
      send: (b) => {
        const m = decodeMessage(b);
        this.pending.get(m.tag)?.(m);
        this.pending.delete(m.tag);
      },
      close: () => undefined,
    });
  }

  send(req: Request): Promise<P9Message> {
    const tag = this.tag++;
    const reply = new Promise<P9Message>((resolve) => this.pending.set(tag, resolve));
    this.session.receive(encodeMessage({ ...req, tag }));
    return reply;
  }

  async ok<N extends P9MessageName>(req: Request, want: N): Promise<P9MessageOf<N>> {
    const r = await this.send(req);
    if (r.type !== want)
      throw new Error(`${req.type}: wanted ${want}, got ${r.type}${r.type === 'Rlerror' ? ` errno ${r.ecode}` : ''}`);
    return r as P9MessageOf<N>;
  }

  /** The errno of an Rlerror (throws on any other reply). */
  async errno(req: Request): Promise<number> {
    const r = await this.send(req);
    if (r.type !== 'Rlerror') throw new Error(`${req.type}: wanted Rlerror, got ${r.type}`);
    return r.ecode;
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

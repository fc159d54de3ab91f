// A test-side 9P client wired straight to a P9Session (no socket): it sends encoded T-messages and waits
// for the reply carrying the same tag.
import {
  P9Error,
  P9Message,
  P9MessageName,
  P9MessageOf,
  P9Server,
  P9Session,
  decodeMessage,
  encodeMessage,
} from '../src/index.js';

type Req = P9Message extends infer M ? (M extends { type: `T${string}` } ? Omit<M, 'tag'> : never) : never;

export class TestClient {
  readonly session: P9Session;
  readonly replies: P9Message[] = [];
  closedWith: P9Error | undefined | 'open' = 'open';
  private waiters = new Map<number, (m: P9Message) => void>();
  private nextTag = 1;

  constructor(server: P9Server) {
    this.session = server.connect({
      send: (b) => {
        const m = decodeMessage(b);
        this.replies.push(m);
        const w = this.waiters.get(m.tag);
        if (w) {
          this.waiters.delete(m.tag);
          w(m);
        }
      },
      close: (reason) => {
        this.closedWith = reason;
      },
    });
  }

  tag(): number {
    return this.nextTag++;
  }

  /** Sends raw bytes. */
  raw(bytes: Buffer): void {
    this.session.receive(bytes);
  }

  reply(tag: number): Promise<P9Message> {
    return new Promise((resolve) => this.waiters.set(tag, resolve));
  }

  send(req: Req, tag = this.tag()): Promise<P9Message> {
    const p = this.reply(tag);
    this.session.receive(encodeMessage({ ...req, tag }));
    return p;
  }

  /** Sends and expects a reply of the given name; an Rlerror throws with its errno number. */
  async call<N extends P9MessageName>(req: Req, expect: N): Promise<P9MessageOf<N>> {
    const r = await this.send(req);
    if (r.type !== expect) {
      throw new Error(
        `${req.type}: expected ${expect}, got ${r.type}${r.type === 'Rlerror' ? ` ecode ${r.ecode}` : ''}`,
      );
    }
    return r as P9MessageOf<N>;
  }

  /** Sends and expects an Rlerror; returns its ecode. */
  async fails(req: Req): Promise<number> {
    const r = await this.send(req);
    if (r.type !== 'Rlerror') throw new Error(`${req.type}: expected Rlerror, got ${r.type}`);
    return r.ecode;
  }

  async version(msize = 8192): Promise<P9MessageOf<'Rversion'>> {
    return this.call({ type: 'Tversion', msize, version: '9P2000.L' }, 'Rversion');
  }

  async attach(fid = 0, aname = ''): Promise<P9MessageOf<'Rattach'>> {
    return this.call({ type: 'Tattach', fid, afid: 0xffffffff, uname: '', aname, n_uname: 1000 }, 'Rattach');
  }

  async walk(fid: number, newfid: number, ...wnames: string[]): Promise<P9MessageOf<'Rwalk'>> {
    return this.call({ type: 'Twalk', fid, newfid, wnames }, 'Rwalk');
  }

  /** Creates `name` in directory fid `dir` via a clone: the new fid is left open. */
  async create(dir: number, fid: number, name: string, flags = 2, mode = 0o644): Promise<void> {
    await this.walk(dir, fid);
    await this.call({ type: 'Tlcreate', fid, name, flags, mode, gid: 1000 }, 'Rlcreate');
  }

  async open(dir: number, fid: number, flags: number, ...path: string[]): Promise<void> {
    await this.walk(dir, fid, ...path);
    await this.call({ type: 'Tlopen', fid, flags }, 'Rlopen');
  }

  async write(fid: number, offset: number, data: string | Buffer): Promise<number> {
    const r = await this.call({ type: 'Twrite', fid, offset: BigInt(offset), data: Buffer.from(data) }, 'Rwrite');
    return r.count;
  }

  async read(fid: number, offset: number, count: number): Promise<Buffer> {
    return (await this.call({ type: 'Tread', fid, offset: BigInt(offset), count }, 'Rread')).data;
  }

  async clunk(fid: number): Promise<void> {
    await this.call({ type: 'Tclunk', fid }, 'Rclunk');
  }

  async getattr(fid: number): Promise<P9MessageOf<'Rgetattr'>> {
    return this.call({ type: 'Tgetattr', fid, request_mask: 0x3fffn }, 'Rgetattr');
  }
}

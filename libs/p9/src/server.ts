// The 9P server: the exports (aname → filesystem) shared by every connection, and one P9Session per
// connection. A transport (TCP socket, Unix socket, 9pfs ring) only moves bytes:
//
//   const session = server.connect({ send: (b) => sock.write(b), close: () => sock.destroy() });
//   sock.on('data', (b) => session.receive(b));
//   sock.on('close', () => void session.close());
import { P9_IOHDRSZ, P9_MIN_MSIZE } from './constants.js';
import { P9Error } from './errors.js';
import type { P9Filesystem } from './filesystem.js';
import { P9Session, P9Transport } from './session.js';

export interface P9ServerOptions {
  /** aname → filesystem. A single filesystem serves every aname. */
  exports: P9Filesystem | ReadonlyMap<string, P9Filesystem>;
  /** The largest msize offered (default 512 KiB of payload plus the I/O header). */
  maxMsize?: number;
  /** Fids per session (default 65536). */
  maxFids?: number;
  /** Open fids per session, xl's `max-open-files` (default 65536). */
  maxOpenFiles?: number;
}

export const P9_DEFAULT_MSIZE = 512 * 1024 + P9_IOHDRSZ;

export class P9Server {
  private readonly live = new Set<P9Session>();
  readonly maxMsize: number;

  constructor(private readonly options: P9ServerOptions) {
    this.maxMsize = options.maxMsize ?? P9_DEFAULT_MSIZE;
    if (!Number.isInteger(this.maxMsize) || this.maxMsize < P9_MIN_MSIZE || this.maxMsize > 0xffffffff) {
      throw new P9Error('EINVAL', `P9Server: maxMsize ${this.maxMsize} is outside ${P9_MIN_MSIZE}..2^32-1`);
    }
  }

  /** A session for one new connection. */
  connect(transport: P9Transport): P9Session {
    const exp = this.options.exports;
    const session = new P9Session(
      {
        send: (b) => transport.send(b),
        close: (reason) => {
          this.live.delete(session);
          transport.close(reason);
        },
      },
      {
        maxMsize: this.maxMsize,
        exportFor: (aname) => (isMap(exp) ? exp.get(aname) : exp),
        maxFids: this.options.maxFids ?? 65536,
        maxOpenFiles: this.options.maxOpenFiles ?? 65536,
      },
    );
    this.live.add(session);
    return session;
  }

  get sessions(): number {
    return this.live.size;
  }

  /** Closes every session (their fids clunked). */
  async close(): Promise<void> {
    await Promise.all([...this.live].map((s) => s.close()));
  }
}

function isMap(e: P9Filesystem | ReadonlyMap<string, P9Filesystem>): e is ReadonlyMap<string, P9Filesystem> {
  return typeof (e as P9Filesystem).lookup !== 'function';
}

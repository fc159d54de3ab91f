// xenstored's Unix socket: the real xs_wire protocol, so that Debian's xenstore-utils (via XENSTORED_PATH)
// talk to Dominion's xenstored. Each connection is one privileged dom0 client, as in Xen.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { XsStreamConnection, type Xenstored, type XenstoredLogger } from '@dominion/xenstore';

/** Replies a client has not read yet, past which xenstored stops reading its requests. */
const WRITE_BACKLOG = 1 << 20;

export class XsSocketServer {
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly path: string,
    private readonly server: Server,
  ) {}

  get listening(): boolean {
    return this.server.listening;
  }

  get connections(): number {
    return this.sockets.size;
  }

  /**
   * Makes `path` ready to listen on: creates its directory and removes a socket a dead xenstored left;
   * refuses a live socket or anything that is not a socket.
   */
  static async claim(path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await removeStale(path);
  }

  static async listen(path: string, xenstored: Xenstored, log: XenstoredLogger): Promise<XsSocketServer> {
    await XsSocketServer.claim(path);
    const server = createServer();
    const self = new XsSocketServer(path, server);
    server.on('connection', (sock) => self.accept(sock, xenstored, log));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Whoever can connect is dom0 with full rights, as /run/xenstored/socket is.
    await chmod(path, 0o600);
    return self;
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private accept(sock: Socket, xenstored: Xenstored, log: XenstoredLogger): void {
    let conn: XsStreamConnection;
    try {
      conn = new XsStreamConnection(xenstored, {
        write: (bytes) => {
          if (!sock.write(bytes) && sock.writableLength > WRITE_BACKLOG) sock.pause();
        },
        destroy: (reason) => {
          log('warn', `xenstored: dropping socket connection: ${reason}`);
          sock.destroy();
        },
      });
    } catch (e) {
      log('warn', `xenstored: refusing socket connection: ${(e as Error).message}`);
      sock.destroy();
      return;
    }
    this.sockets.add(sock);
    sock.on('drain', () => sock.resume());
    sock.on('data', (chunk: Buffer) => conn.feed(chunk));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      this.sockets.delete(sock);
      conn.close();
    });
  }
}

/** A socket left by a dead xenstored is removed; a live one, or anything that is not a socket, is not. */
async function removeStale(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket; not replacing it`);
  const alive = await new Promise<boolean>((resolve) => {
    const c = connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`${path}: another xenstored is listening there`);
  await unlink(path);
}

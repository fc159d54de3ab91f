// blkback's NBD service: one TCP listener on 127.0.0.1 serving every VBD's export by name
// (`vbd-<fe>-<devid>`), and one Unix socket per VBD in the state dir serving that export (also as the
// default export, so `nbd+unix:///?socket=…` works). Each accepted socket gets an NbdServerConnection.
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { NbdServerConnection, type NbdExport, type NbdServerOptions } from '@dominion/nbd';
import type { XenbusLogger } from '@dominion/xenbus';

export interface NbdEndpoint {
  /** nbd://127.0.0.1:<port>/<name> */
  uri: string;
  socket: string;
}

class Listener {
  readonly sockets = new Set<Socket>();
  readonly server: Server;
  constructor(options: NbdServerOptions) {
    this.server = createServer((sock) => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
      serveSocket(sock, options);
    });
  }
  listen(where: { port: number } | { path: string }): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      const done = () => {
        this.server.off('error', reject);
        resolve();
      };
      if ('path' in where) this.server.listen(where.path, done);
      else this.server.listen(where.port, '127.0.0.1', done);
    });
  }
  async close(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

function serveSocket(sock: Socket, options: NbdServerOptions): void {
  sock.setNoDelay?.(true);
  const conn = new NbdServerConnection(
    {
      write: (b) => sock.write(b),
      end: () => sock.end(),
      pause: () => sock.pause(),
      resume: () => sock.resume(),
      cork: () => sock.cork(),
      uncork: () => sock.uncork(),
    },
    options,
  );
  sock.on('data', (d: Buffer) => conn.push(d));
  sock.on('drain', () => conn.drain());
  sock.on('close', () => conn.close());
  sock.on('error', () => sock.destroy());
  conn.start();
}

export class NbdServers {
  private readonly exports = new Map<string, NbdExport>();
  private readonly unix = new Map<string, Listener>();
  private tcp!: Listener;
  port = 0;

  constructor(
    private readonly socketDir: string,
    private readonly log: XenbusLogger,
  ) {}

  async start(port: number): Promise<void> {
    this.tcp = new Listener(this.options(this.exports));
    await this.tcp.listen({ port });
    const a = this.tcp.server.address();
    this.port = typeof a === 'object' && a ? a.port : port;
    mkdirSync(this.socketDir, { recursive: true, mode: 0o700 });
  }

  private options(exports: ReadonlyMap<string, NbdExport>, defaultExport?: string): NbdServerOptions {
    return {
      exports,
      defaultExport,
      log: (e) => this.log(e.level, e.message),
    };
  }

  socketPath(name: string): string {
    return join(this.socketDir, `${name}.sock`);
  }

  /** Serves `exp` as `name` over TCP and on its own Unix socket. */
  async add(name: string, exp: NbdExport): Promise<NbdEndpoint> {
    await this.remove(name);
    this.exports.set(name, exp);
    const path = this.socketPath(name);
    rmSync(path, { force: true });
    const l = new Listener(this.options(new Map([[name, exp]]), name));
    await l.listen({ path });
    this.unix.set(name, l);
    return { uri: `nbd://127.0.0.1:${this.port}/${name}`, socket: path };
  }

  async remove(name: string): Promise<void> {
    this.exports.delete(name);
    const l = this.unix.get(name);
    if (!l) return;
    this.unix.delete(name);
    await l.close();
    rmSync(this.socketPath(name), { force: true });
  }

  async close(): Promise<void> {
    for (const name of [...this.unix.keys()]) await this.remove(name);
    await this.tcp?.close();
  }
}

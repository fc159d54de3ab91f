// A real node:net NBD server for tests and benchmarks: each accepted socket gets an NbdServerConnection.
import { createServer, type Server, type Socket } from 'node:net';
import { NbdServerConnection, type NbdExport, type NbdServerOptions } from '../../src/index.js';

export interface NbdTestServer {
  /** nbd://127.0.0.1:port/name, or nbd+unix:///name?socket=path. */
  uri(name: string): string;
  readonly port?: number;
  readonly socketPath?: string;
  /** Warnings the connections logged (bad requests, hang-ups). */
  readonly warnings: string[];
  connections(): number;
  close(): Promise<void>;
}

/** Wires one socket to one connection: the few lines an app needs. */
export function serveSocket(sock: Socket, options: NbdServerOptions): NbdServerConnection {
  sock.setNoDelay(true);
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
  return conn;
}

export async function startNbdServer(
  exports: Record<string, NbdExport>,
  where: { unix: string } | { tcp: true },
  extra: Partial<NbdServerOptions> = {},
): Promise<NbdTestServer> {
  const warnings: string[] = [];
  const sockets = new Set<Socket>();
  const options: NbdServerOptions = {
    exports: new Map(Object.entries(exports)),
    log: (e) => {
      if (e.level === 'warn') warnings.push(e.message);
    },
    ...extra,
  };
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    serveSocket(sock, options);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if ('unix' in where) server.listen(where.unix, resolve);
    else server.listen(0, '127.0.0.1', resolve);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : undefined;
  const socketPath = 'unix' in where ? where.unix : undefined;
  return {
    port,
    socketPath,
    warnings,
    uri: (name) => (socketPath ? `nbd+unix:///${name}?socket=${socketPath}` : `nbd://127.0.0.1:${port}/${name}`),
    connections: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

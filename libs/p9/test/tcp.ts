// A loopback TCP listener in front of a P9Server: the wiring an app does for real clients.
import { AddressInfo, Server, Socket, createServer } from 'node:net';
import { P9Server } from '../src/index.js';

export async function listenTcp(p9: P9Server): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const srv: Server = createServer((sock) => {
    sockets.add(sock);
    sock.setNoDelay(true);
    const session = p9.connect({ send: (b) => sock.write(b), close: () => sock.destroy() });
    sock.on('data', (b) => session.receive(b));
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      sockets.delete(sock);
      void session.close();
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
}

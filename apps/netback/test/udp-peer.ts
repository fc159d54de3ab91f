// A real UDP socket on 127.0.0.1 standing in for QEMU's `-netdev dgram` or socat: sends frames as
// datagrams and keeps what it receives.
import dgram from 'node:dgram';
import { waitFor } from '@dominion/testing';

export class UdpPeer {
  readonly received: Buffer[] = [];
  private constructor(private readonly sock: dgram.Socket) {
    sock.on('message', (m) => this.received.push(m));
  }

  static async open(): Promise<UdpPeer> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    return new UdpPeer(sock);
  }

  get port(): number {
    return this.sock.address().port;
  }

  send(frame: Uint8Array, port: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.sock.send(frame, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
    );
  }

  async nth(n: number, what = `frame ${n}`): Promise<Buffer> {
    await waitFor(() => this.received.length >= n, 5000, what);
    return this.received[n - 1];
  }

  close(): Promise<void> {
    return new Promise((r) => this.sock.close(() => r()));
  }
}

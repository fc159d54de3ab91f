// A hand-driven NBD client over a real socket: the test writes the bytes and reads back exactly what
// the server sent, so a malformed request can be sent on purpose.
import { connect, type Socket } from 'node:net';
import { hex } from '@dominion/testing';

export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  static async open(where: { port: number } | { path: string }): Promise<RawClient> {
    const sock = 'port' in where ? connect(where.port, '127.0.0.1') : connect(where.path);
    await new Promise<void>((r, j) => sock.once('connect', () => r()).once('error', j));
    return new RawClient(sock);
  }

  send(b: Buffer): void {
    this.sock.write(b);
  }

  async read(n: number, timeoutMs = 5000): Promise<Buffer> {
    const end = Date.now() + timeoutMs;
    while (this.buf.length < n) {
      if (this.closed) throw new Error(`connection closed with ${this.buf.length} of ${n} bytes`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${n} bytes (have ${this.buf.length})`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Resolves once the server has closed the connection. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > end) throw new Error('server did not close the connection');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /** Greeting, client flags, NBD_OPT_GO for a 4-byte export name with no info requests. */
  async go4(name: string): Promise<void> {
    if (Buffer.byteLength(name) !== 4) throw new Error('go4 takes a 4-byte name');
    await this.read(18);
    this.send(hex`00000003 # C_FIXED_NEWSTYLE | C_NO_ZEROES`);
    this.send(
      Buffer.concat([
        hex`49484156454f5054 00000007 0000000a 00000004 # IHAVEOPT, NBD_OPT_GO, 10 bytes, name length 4`,
        Buffer.from(name),
        hex`0000 # no info requests`,
      ]),
    );
    // NBD_REP_INFO export (20+12), NBD_REP_INFO block size (20+14), NBD_REP_ACK (20).
    const r = await this.read(86);
    if (r.readUInt32BE(66 + 12) !== 1) throw new Error(`NBD_OPT_GO not acknowledged: ${r.toString('hex')}`);
  }

  destroy(): void {
    this.sock.destroy();
  }
}

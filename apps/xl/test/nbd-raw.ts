// A bare NBD client with hand-written bytes from the NBD protocol document (fixed newstyle handshake,
// NBD_OPT_EXPORT_NAME, simple replies), which, unlike qemu and libnbd, sends a WRITE to an export that
// says it is read-only: what the server itself answers is what a test wants to see.
import { connect, type Socket } from 'node:net';

/** What a simple reply carried: NBD's error number (0 = ok) and, for a read, the data. */
export interface NbdReply {
  error: number;
  data: Buffer;
}

export interface RawNbd {
  size: bigint;
  /** Transmission flags (NBD_FLAG_READ_ONLY is bit 1). */
  flags: number;
  /** NBD_CMD_READ (0) or NBD_CMD_WRITE (1) of `length` bytes at `offset`. */
  request(type: 0 | 1, offset: number, length: number, data?: Buffer): Promise<NbdReply>;
  close(): void;
}

/** Opens `nbd://host:port/name` (TCP). */
export async function openRawNbd(uri: string): Promise<RawNbd> {
  const m = /^nbd:\/\/([^:/]+):(\d+)\/(.+)$/.exec(uri);
  if (!m) throw new Error(`not an nbd:// URI: ${uri}`);
  const sock: Socket = connect(Number(m[2]), m[1]);
  let buf = Buffer.alloc(0);
  let want: { n: number; resolve(b: Buffer): void } | undefined;
  const pump = () => {
    if (want && buf.length >= want.n) {
      const w = want;
      want = undefined;
      const b = buf.subarray(0, w.n);
      buf = buf.subarray(w.n);
      w.resolve(b);
    }
  };
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    pump();
  });
  const closed = new Promise<never>((_, reject) => {
    sock.once('error', reject);
    sock.once('close', () => reject(new Error(`${uri}: the server closed the connection`)));
  });
  closed.catch(() => undefined);
  const read = (n: number): Promise<Buffer> =>
    Promise.race([
      new Promise<Buffer>((resolve) => {
        want = { n, resolve };
        pump();
      }),
      closed,
    ]);

  // "NBDMAGIC", "IHAVEOPT", then the 16-bit handshake flags
  const greeting = await read(18);
  if (greeting.toString('latin1', 0, 16) !== 'NBDMAGICIHAVEOPT') throw new Error(`${uri}: not a newstyle server`);
  // client flags: NBD_FLAG_C_FIXED_NEWSTYLE (1) | NBD_FLAG_C_NO_ZEROES (2)
  sock.write(Buffer.from('00000003', 'hex'));
  const name = Buffer.from(m[3], 'utf8');
  const opt = Buffer.alloc(16);
  opt.write('IHAVEOPT', 0, 'latin1');
  opt.writeUInt32BE(1, 8); // NBD_OPT_EXPORT_NAME
  opt.writeUInt32BE(name.length, 12);
  sock.write(Buffer.concat([opt, name]));
  // export size (64 bits), transmission flags (16 bits); no zeroes: NO_ZEROES was agreed
  const info = await read(10);
  let handle = 1n;

  return {
    size: info.readBigUInt64BE(0),
    flags: info.readUInt16BE(8),
    request: async (type, offset, length, data) => {
      const h = handle++;
      const req = Buffer.alloc(28);
      req.writeUInt32BE(0x25609513, 0); // NBD_REQUEST_MAGIC
      req.writeUInt16BE(0, 4); // command flags
      req.writeUInt16BE(type, 6);
      req.writeBigUInt64BE(h, 8);
      req.writeBigUInt64BE(BigInt(offset), 16);
      req.writeUInt32BE(length, 24);
      sock.write(type === 1 ? Buffer.concat([req, data ?? Buffer.alloc(length)]) : req);
      // NBD_SIMPLE_REPLY_MAGIC, error, handle; then the data of a successful read
      const reply = await read(16);
      if (reply.readUInt32BE(0) !== 0x67446698 || reply.readBigUInt64BE(8) !== h)
        throw new Error(`${uri}: not the simple reply to handle ${h}: ${reply.toString('hex')}`);
      const error = reply.readUInt32BE(4);
      return { error, data: type === 0 && error === 0 ? Buffer.from(await read(length)) : Buffer.alloc(0) };
    },
    close: () => sock.destroy(),
  };
}

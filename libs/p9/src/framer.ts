// Cuts a byte stream (a socket, a 9pfs ring's out half) into whole 9P messages. A size field below the
// 7-byte header or above msize loses the framing for good, so it ends the connection (P9Error EPROTO);
// everything else about a message is judged after framing and fails that message only.
import { P9_HEADER_SIZE } from './constants.js';
import { P9Error } from './errors.js';

export class P9Framer {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private broken: P9Error | undefined;

  constructor(
    /** The largest message accepted; lowered after Tversion. */
    public msize: number,
  ) {}

  /** The whole messages completed by `chunk`, in order. Throws once the stream is unframeable. */
  push(chunk: Uint8Array): Buffer[] {
    if (this.broken) throw this.broken;
    if (chunk.length > 0) {
      this.pending.push(Buffer.from(chunk));
      this.pendingLen += chunk.length;
    }
    const out: Buffer[] = [];
    let buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingLen);
    let pos = 0;
    while (buf.length - pos >= 4) {
      const size = buf.readUInt32LE(pos);
      if (size < P9_HEADER_SIZE || size > this.msize) {
        this.broken = new P9Error(
          'EPROTO',
          `9P stream: message at byte ${pos} declares size ${size}, outside ${P9_HEADER_SIZE}..${this.msize} (msize)`,
        );
        this.pending = [];
        this.pendingLen = 0;
        throw this.broken;
      }
      if (buf.length - pos < size) break;
      out.push(Buffer.from(buf.subarray(pos, pos + size)));
      pos += size;
    }
    buf = buf.subarray(pos);
    this.pending = buf.length ? [buf] : [];
    this.pendingLen = buf.length;
    return out;
  }

  /** Bytes of an incomplete message held back. */
  get buffered(): number {
    return this.pendingLen;
  }
}

// A socket delivers bytes in arbitrary chunks; this reassembles whole xsd_sockmsg messages.
import { XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG_SIZE, xsTypeName } from '@dominion/abi';
import { XenstoreError } from '../errors.js';
import { asBuffer, decodeXsHeader, type XsHeader, type XsMessage } from './message.js';

export class XsWireParser {
  private chunks: Buffer[] = [];
  private total = 0;
  private header: XsHeader | undefined;
  private failure: XenstoreError | undefined;

  /** Bytes received but not yet returned as a message. */
  get buffered(): number {
    return this.total + (this.header ? XSD_SOCKMSG_SIZE : 0);
  }

  /** The error that stopped this parser, if any. */
  get failed(): XenstoreError | undefined {
    return this.failure;
  }

  /**
   * Appends `chunk` and returns every message it completes, in order. A header announcing more than
   * XENSTORE_PAYLOAD_MAX stops the parser with E2BIG (see `failed`; xenstored kills such a connection) but the
   * messages framed before it are still returned, as C xenstored handles them before it reads the bad header.
   * The stream cannot be resynchronised after that, so every later call throws EINVAL.
   */
  feed(chunk: Uint8Array): XsMessage[] {
    if (this.failure) {
      throw new XenstoreError('EINVAL', `xs_wire parser stopped after an earlier error: ${this.failure.message}`);
    }
    if (chunk.length > 0) {
      this.chunks.push(asBuffer(chunk));
      this.total += chunk.length;
    }
    const out: XsMessage[] = [];
    for (;;) {
      if (!this.header) {
        if (this.total < XSD_SOCKMSG_SIZE) break;
        const h = decodeXsHeader(this.take(XSD_SOCKMSG_SIZE));
        if (h.len > XENSTORE_PAYLOAD_MAX) {
          this.failure = new XenstoreError(
            'E2BIG',
            `${xsTypeName(h.type)} req_id ${h.reqId} tx_id ${h.txId}: len ${h.len} exceeds XENSTORE_PAYLOAD_MAX ${XENSTORE_PAYLOAD_MAX}`,
          );
          this.chunks = [];
          this.total = 0;
          break;
        }
        this.header = h;
      }
      if (this.total < this.header.len) break;
      const { type, reqId, txId, len } = this.header;
      this.header = undefined;
      out.push({ type, reqId, txId, payload: this.take(len) });
    }
    return out;
  }

  /** Removes the first n buffered bytes into a buffer of their own (never a view into a caller's chunk). */
  private take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0];
      const k = Math.min(head.length, n - filled);
      head.copy(out, filled, 0, k);
      filled += k;
      if (k === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(k);
    }
    this.total -= n;
    return out;
  }
}

// The console's recent output, bounded in bytes like xenconsoled's buffer: the oldest output falls off first,
// so `xl console` can show what the guest printed before it attached.
import { GuestError } from './errors.js';

export class ConsoleRing {
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new GuestError('EINVAL', `console ring capacity ${capacity} is not a positive number of bytes`);
  }

  get size(): number {
    return this.bytes;
  }

  append(text: string | Uint8Array): void {
    const b = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text);
    if (b.length === 0) return;
    this.chunks.push(b);
    this.bytes += b.length;
    while (this.bytes - this.chunks[0].length >= this.capacity) this.bytes -= this.chunks.shift()!.length;
    if (this.bytes > this.capacity) {
      const cut = this.bytes - this.capacity;
      this.chunks[0] = this.chunks[0].subarray(cut);
      this.bytes -= cut;
    }
  }

  contents(): Buffer {
    return Buffer.concat(this.chunks, this.bytes);
  }
}

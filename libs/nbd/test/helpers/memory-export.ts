// An export held in a Buffer, for driving the connection state machine in unit tests: every call is
// recorded, and `gate` lets a test hold an operation until it chooses to release it.
import { NBD_STATE_HOLE, NBD_STATE_ZERO, type NbdExport, type NbdExtent } from '../../src/index.js';

export interface Call {
  op: string;
  offset?: number;
  length?: number;
  fua?: boolean;
  noHole?: boolean;
}

export class MemoryExport implements NbdExport {
  readonly data: Buffer;
  readonly calls: Call[] = [];
  readonly written: Uint8Array;
  /** Awaited before an operation touches the data; replace it to hold operations. */
  gate: (c: Call) => Promise<void> = () => Promise.resolve();
  canMultiConn = false;
  description?: string;

  constructor(
    readonly size: number,
    readonly readOnly = false,
  ) {
    this.data = Buffer.alloc(size);
    this.written = new Uint8Array(Math.ceil(size / 4096));
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const c = { op: 'read', offset, length };
    this.calls.push(c);
    await this.gate(c);
    return Buffer.from(this.data.subarray(offset, offset + length));
  }

  async write(offset: number, data: Uint8Array, o: { fua: boolean }): Promise<void> {
    const c = { op: 'write', offset, length: data.length, fua: o.fua };
    this.calls.push(c);
    await this.gate(c);
    this.data.set(data, offset);
    for (let b = Math.floor(offset / 4096); b * 4096 < offset + data.length; b++) this.written[b] = 1;
  }

  async flush(): Promise<void> {
    const c = { op: 'flush' };
    this.calls.push(c);
    await this.gate(c);
  }

  async trim(offset: number, length: number): Promise<void> {
    this.calls.push({ op: 'trim', offset, length });
    await Promise.resolve();
  }

  async writeZeroes(offset: number, length: number, o: { fua: boolean; noHole: boolean }): Promise<void> {
    const c = { op: 'writeZeroes', offset, length, fua: o.fua, noHole: o.noHole };
    this.calls.push(c);
    await this.gate(c);
    this.data.fill(0, offset, offset + length);
  }

  async blockStatus(offset: number, length: number): Promise<NbdExtent[]> {
    this.calls.push({ op: 'blockStatus', offset, length });
    await Promise.resolve();
    const out: Array<{ length: number; flags: number }> = [];
    const end = Math.min(this.size, offset + length);
    for (let at = offset; at < end;) {
      const b = Math.floor(at / 4096);
      const next = Math.min(this.size, (b + 1) * 4096);
      const flags = this.written[b] ? 0 : NBD_STATE_HOLE | NBD_STATE_ZERO;
      const last = out[out.length - 1];
      if (last && last.flags === flags) last.length += next - at;
      else out.push({ length: next - at, flags });
      at = next;
    }
    return out;
  }
}

/** A promise and the function that settles it. */
export function deferred(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((r) => (release = r));
  return { promise, release };
}

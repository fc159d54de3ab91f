// The hypervisor's console ring (`xl dmesg`): a bounded buffer of `(XEN) ...` lines that drops the oldest
// lines when full, as Xen's conring does.

export const DMESG_RING_BYTES = 16 * 1024;

export class ConsoleRing {
  private lines: string[] = [];
  private bytes = 0;
  /** Lines dropped to make room since boot (or the last clear). */
  dropped = 0;

  constructor(
    private readonly capacity = DMESG_RING_BYTES,
    private readonly bootMs = 0,
  ) {}

  /** Appends `(XEN) [   s.uuuuuu] msg`, with seconds since the hypervisor booted. */
  log(now: number, msg: string): string {
    const t = ((now - this.bootMs) / 1000).toFixed(6).padStart(12);
    let line = `(XEN) [${t}] ${msg}`;
    if (line.length + 1 > this.capacity) line = line.slice(0, this.capacity - 1);
    this.lines.push(line);
    this.bytes += line.length + 1;
    while (this.bytes > this.capacity) {
      this.bytes -= this.lines.shift()!.length + 1;
      this.dropped++;
    }
    return line;
  }

  read(): string[] {
    return [...this.lines];
  }

  /** `xl dmesg -c`: read, then empty the ring. */
  readAndClear(): string[] {
    const out = this.lines;
    this.lines = [];
    this.bytes = 0;
    this.dropped = 0;
    return out;
  }

  get size(): number {
    return this.bytes;
  }
}

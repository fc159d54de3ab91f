// A small block cache standing in for ZFS's ARC: verified block contents by DVA and birth, least recently
// used evicted first. Keying by birth as well as DVA means a freed and reused extent never returns the old
// contents. Blocks a txg writes go in too, so syncing context can read what it just wrote.
export class BlockCache {
  private readonly map = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly capacity: number) {}

  static key(vdev: number, offset: number, birth: number): string {
    return `${vdev}:${offset}:${birth}`;
  }

  get(key: string): Buffer | undefined {
    const hit = this.map.get(key);
    if (hit !== undefined) {
      this.map.delete(key);
      this.map.set(key, hit);
    }
    return hit;
  }

  set(key: string, data: Buffer): void {
    if (data.length > this.capacity) return;
    const old = this.map.get(key);
    if (old !== undefined) {
      this.bytes -= old.length;
      this.map.delete(key);
    }
    this.map.set(key, data);
    this.bytes += data.length;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.capacity) break;
      this.map.delete(k);
      this.bytes -= v.length;
    }
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
}

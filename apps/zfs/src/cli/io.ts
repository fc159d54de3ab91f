// What a CLI run talks to: the ZFS domain's API, and its standard streams (the real ones in main, files or
// pipes in tests).
import type { Readable, Writable } from 'node:stream';

/** One call of `xen.zfs.0.<verb>`. */
export type ZfsCall = <T>(verb: string, body?: unknown) => Promise<T>;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** For zfs receive. */
  stdin?: Readable;
  /** For zfs send. */
  stdout?: Writable;
}

/** Writes and waits for the stream to take it (back-pressure). */
export function writeAll(w: Writable, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    w.write(data, (e) => (e ? reject(e) : resolve()));
  });
}

/** The message of a failed call; zfs's own messages ("cannot open 'x': dataset does not exist") pass as they are. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

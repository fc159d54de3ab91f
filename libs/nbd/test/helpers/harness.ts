// Drives an NbdServerConnection with bytes and collects what it sends, with no socket in between.
import { NbdServerConnection, type NbdExport, type NbdServerOptions } from '../../src/index.js';

export interface Harness {
  conn: NbdServerConnection;
  /** Everything sent since the last take(). */
  take(): Buffer;
  ended(): boolean;
  paused(): boolean;
  /** Makes write() report congestion (false) until drain. */
  congest(on: boolean): void;
  /** Lets queued promise callbacks (export operations, replies) run. */
  settle(): Promise<void>;
}

export function harness(exports: Record<string, NbdExport>, extra: Partial<NbdServerOptions> = {}): Harness {
  const out: Buffer[] = [];
  let ended = false;
  let paused = false;
  let congested = false;
  const conn = new NbdServerConnection(
    {
      write: (b) => {
        out.push(Buffer.from(b));
        return !congested;
      },
      end: () => {
        ended = true;
      },
      pause: () => {
        paused = true;
      },
      resume: () => {
        paused = false;
      },
    },
    { exports: new Map(Object.entries(exports)), ...extra },
  );
  conn.start();
  return {
    conn,
    take: () => Buffer.concat(out.splice(0)),
    ended: () => ended,
    paused: () => paused,
    congest: (on) => {
      congested = on;
    },
    settle: async () => {
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    },
  };
}

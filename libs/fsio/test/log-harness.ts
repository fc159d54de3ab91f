// Shared by the DurableLog specs: records that name themselves, and an owner's state that is the list of
// records applied so far (a snapshot is that list as JSON).
import { CrashSimFileIO, DurableLog, type DurableLogOptions, type FileIO, type Recovery } from '../src/index.js';

export const DIR = '/var/lib/xenstored';

export const rec = (i: number, pad = i % 7) => Buffer.from(`rec-${i}${'.'.repeat(pad)}`);
export const recs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => rec(from + k));
export const names = (bufs: readonly Buffer[]) => bufs.map((b) => b.toString());

export const snapshotOf = (state: readonly Buffer[]) => Buffer.from(JSON.stringify(names(state)));

/** The owner's state after recovery: the snapshot's records, then the log's. */
export function stateOf(r: Recovery): string[] {
  const base = r.snapshot === undefined ? [] : (JSON.parse(r.snapshot.toString()) as string[]);
  return [...base, ...names(r.records)];
}

export async function openLog(io: FileIO, options?: DurableLogOptions) {
  return DurableLog.open(io, DIR, options);
}

/** A disk holding a log with `records` appended (and acknowledged) in one batch each. */
export async function diskWith(records: Buffer[]): Promise<CrashSimFileIO> {
  const io = new CrashSimFileIO();
  const { log } = await openLog(io);
  for (const r of records) await log.append([r]);
  await log.close();
  return io;
}

import { join } from 'node:path';
import { CrashSimFileIO, DurableLog, frameRecord, scanLog } from '../src/index.js';
import { diskWith, DIR, names, openLog, rec, recs, snapshotOf, stateOf } from './log-harness.js';

/** Records durable in log.<gen> right now, read from the simulator's durable image. */
function durableRecords(io: CrashSimFileIO, gen = 0): string[] {
  const file = io.snapshotDisk().get(join(DIR, `log.${gen}`)) ?? Buffer.alloc(0);
  return names(scanLog(file, 1 << 20).records);
}

describe('DurableLog', () => {
  it('starts empty, and recovers appended records in order after close and after a crash', async () => {
    const io = new CrashSimFileIO();
    const first = await openLog(io);
    expect(first.recovery).toEqual({ generation: 0, snapshot: undefined, records: [] });
    await first.log.append([rec(1)]);
    await first.log.append([rec(2), rec(3)]);
    await first.log.close();

    const reopened = await openLog(io);
    expect(names(reopened.recovery.records)).toEqual(names(recs(1, 3)));
    await reopened.log.append([rec(4)]);
    const afterCrash = await openLog(io.crash({ mode: 'drop-all' }));
    expect(names(afterCrash.recovery.records)).toEqual(names(recs(1, 4)));
    expect(afterCrash.recovery.discarded).toBeUndefined();
  });

  it('resolves an append only once its records are durable', async () => {
    const io = new CrashSimFileIO();
    const { log } = await openLog(io);
    for (let i = 1; i <= 5; i++) {
      const syncs = io.fsyncCount;
      const pending = log.append([rec(i)]);
      expect(durableRecords(io)).toHaveLength(i - 1);
      await pending;
      expect(io.fsyncCount).toBeGreaterThan(syncs);
      expect(durableRecords(io)).toEqual(names(recs(1, i)));
    }
  });

  it('group-commits concurrent appends: one sync covers every append waiting for it', async () => {
    const io = new CrashSimFileIO();
    const { log } = await openLog(io);
    const before = io.fsyncCount;
    const acks: Promise<void>[] = [];
    for (let wave = 0; wave < 5; wave++) {
      for (let i = 0; i < 40; i++) acks.push(log.append([rec(wave * 40 + i)]));
      await new Promise((r) => setImmediate(r)); // the next wave arrives while a sync is running
    }
    await Promise.all(acks);
    const syncs = io.fsyncCount - before;
    expect(syncs).toBeGreaterThanOrEqual(2);
    expect(syncs).toBeLessThanOrEqual(10); // 200 appends
    const { recovery } = await openLog(io.crash({ mode: 'drop-all' }));
    expect(names(recovery.records)).toEqual(names(recs(0, 199)));
  });

  it('refuses empty and oversized records, and accepts the ones beside them', async () => {
    const io = new CrashSimFileIO();
    const { log } = await openLog(io, { maxRecordBytes: 8 });
    await expect(log.append([rec(1), Buffer.alloc(0)])).rejects.toMatchObject({
      kind: 'EINVAL',
      message: expect.stringContaining('record 1 is empty'),
    });
    await expect(log.append([Buffer.alloc(9)])).rejects.toMatchObject({
      kind: 'EINVAL',
      message: expect.stringContaining('9 bytes'),
    });
    await log.append([Buffer.alloc(8, 1), rec(2)]);
    await log.close();
    await expect(log.append([rec(3)])).rejects.toMatchObject({ kind: 'EBADF' });
    const { recovery } = await openLog(io, { maxRecordBytes: 8 });
    expect(recovery.records).toEqual([Buffer.alloc(8, 1), rec(2)]);
  });

  it('refuses a maxRecordBytes that cannot be framed', async () => {
    await expect(DurableLog.open(new CrashSimFileIO(), DIR, { maxRecordBytes: 0 })).rejects.toMatchObject({
      kind: 'EINVAL',
    });
  });

  it('fails every later call after an I/O failure, until reopened', async () => {
    const io = new CrashSimFileIO();
    const { log } = await openLog(io);
    await log.append([rec(1)]);
    io.powerCutAfter(0);
    await expect(log.append([rec(2)])).rejects.toMatchObject({ kind: 'EIO' });
    await expect(log.append([rec(3)])).rejects.toMatchObject({
      kind: 'EIO',
      message: expect.stringContaining('reopen'),
    });
    await expect(log.compact(snapshotOf([]))).rejects.toMatchObject({ kind: 'EIO' });
    const { recovery } = await openLog(io.crash());
    expect(names(recovery.records)).toEqual(names([rec(1)]));
  });

  it('makes what recovery returns durable, even if the last run died before its sync', async () => {
    const io = await diskWith([rec(1)]);
    // A process killed between write and fsync: its bytes sit in the page cache, which outlives it.
    const fh = await io.open(join(DIR, 'log.0'));
    await fh.append(frameRecord(rec(2)));
    await fh.close();
    const { recovery } = await openLog(io);
    expect(names(recovery.records)).toEqual(names(recs(1, 2)));
    const afterPowerCut = await openLog(io.crash({ mode: 'drop-all' }));
    expect(names(afterPowerCut.recovery.records)).toEqual(names(recs(1, 2)));
  });

  it('compacts: new snapshot, empty log, old generation removed, state intact', async () => {
    const io = await diskWith(recs(1, 3));
    const { log } = await openLog(io);
    await log.compact(snapshotOf(recs(1, 3)));
    expect([log.generation, log.logBytes]).toEqual([1, 0]);
    await log.append([rec(4)]);
    expect(await io.readdir(DIR)).toEqual(['log.1', 'snapshot.1']);
    await log.compact(snapshotOf(recs(1, 4)));
    expect(await io.readdir(DIR)).toEqual(['log.2', 'snapshot.2']);
    await log.append([rec(5)]);
    const { recovery } = await openLog(io.crash({ mode: 'drop-all' }));
    expect(recovery.generation).toBe(2);
    expect(names(recovery.records)).toEqual(names([rec(5)]));
    expect(stateOf(recovery)).toEqual(names(recs(1, 5)));
  });

  it('puts appends called before compact() in the old log and appends called after it in the new one', async () => {
    const io = await diskWith(recs(1, 4));
    const { log } = await openLog(io);
    const before = log.append([rec(5)]);
    const compacted = log.compact(snapshotOf(recs(1, 5)));
    const after = log.append([rec(6)]);
    await Promise.all([before, compacted, after]);
    const { recovery } = await openLog(io.crash({ mode: 'drop-all' }));
    expect(recovery.generation).toBe(1);
    expect(names(recovery.records)).toEqual(names([rec(6)]));
    expect(stateOf(recovery)).toEqual(names(recs(1, 6)));
  });

  it('calls the compaction policy hook once the log passes its size, once per generation', async () => {
    const io = new CrashSimFileIO();
    const state: Buffer[] = [];
    const due: number[] = [];
    const { log } = await openLog(io, {
      compactAfterBytes: 200,
      onCompactDue: (l) => {
        due.push(l.logBytes);
        void l.compact(snapshotOf(state));
      },
    });
    for (let i = 0; i < 60; i++) {
      const r = rec(i);
      state.push(r); // the owner applies a change as it logs it
      await log.append([r]);
    }
    await log.close();
    expect(due.length).toBeGreaterThanOrEqual(3);
    expect(due.every((b) => b >= 200 && b < 400)).toBe(true);
    expect(log.generation).toBe(due.length);
    const { recovery } = await openLog(io.crash({ mode: 'drop-all' }));
    expect(stateOf(recovery)).toEqual(names(state));
    expect(recovery.generation).toBe(due.length);
  });

  it('passes over a newer snapshot that is not valid, reports it, and never reuses its generation', async () => {
    const io = await diskWith(recs(1, 2));
    {
      const { log } = await openLog(io);
      await log.compact(snapshotOf(recs(1, 2)));
      await log.append([rec(3)]);
      await log.close();
    }
    await io.writeFile(join(DIR, 'snapshot.2'), Buffer.from('not a snapshot'));
    const { log, recovery } = await openLog(io);
    expect(recovery.generation).toBe(1);
    expect(stateOf(recovery)).toEqual(names(recs(1, 3)));
    expect(recovery.rejectedSnapshots).toEqual([{ file: join(DIR, 'snapshot.2'), reason: 'no SNAP magic' }]);
    await log.compact(snapshotOf(recs(1, 3)));
    expect(log.generation).toBe(3);
    expect(await io.readdir(DIR)).toEqual(['log.3', 'snapshot.3']);
  });
});

// Power cuts against DurableLog on CrashSimFileIO: an acknowledged record is never lost, an
// unacknowledged one may be, and a torn or corrupt tail is found, reported and cut off.
import { join } from 'node:path';
import { type CrashMode, CrashSimFileIO, RECORD_HEADER_BYTES } from '../src/index.js';
import { diskWith, DIR, names, openLog, rec, recs, snapshotOf, stateOf } from './log-harness.js';

const MODES: CrashMode[] = ['drop-all', 'random-subset', 'reorder-prefix'];
const LOG0 = join(DIR, 'log.0');
/** Records from 10 bytes to most of two sectors, so torn writes land inside records too. */
const big = (i: number) => Buffer.from(`big-${i}:${'x'.repeat((i * 131) % 900)}`);
const turn = () => new Promise<void>((r) => setImmediate(r));

describe('DurableLog under power cuts', () => {
  it('never loses an acknowledged append; what survives is a prefix of what was appended', async () => {
    let tornTails = 0;
    let unackedSurvivors = 0;
    for (const mode of MODES) {
      for (let seed = 0; seed < 40; seed++) {
        const io = new CrashSimFileIO();
        const { log } = await openLog(io);
        const issued: Buffer[] = [];
        let acked = 0; // appends resolve in order, so the acknowledged ones are a prefix
        const settled: Promise<void>[] = [];
        const append = (r: Buffer) => {
          const i = issued.push(r);
          settled.push(
            log.append([r]).then(
              () => void (acked = Math.max(acked, i)),
              () => undefined,
            ),
          );
        };
        let disk: CrashSimFileIO | undefined;
        for (let t = 0; disk === undefined; t++) {
          for (let k = 0; k < 1 + (seed % 4); k++) append(big(issued.length));
          await turn();
          if (t === seed % 6) disk = io.crash({ seed, mode });
        }
        await Promise.all(settled);

        const { log: after, recovery } = await openLog(disk);
        const got = names(recovery.records);
        expect(got).toEqual(names(issued.slice(0, got.length)));
        expect(got.length).toBeGreaterThanOrEqual(acked);
        if (recovery.discarded) tornTails++;
        if (got.length > acked) unackedSurvivors++;

        await after.append([rec(1000)]);
        const again = await openLog(disk.crash({ seed, mode }));
        expect(names(again.recovery.records)).toEqual([...got, rec(1000).toString()]);
      }
    }
    // The simulator did tear and keep un-synced writes, so the properties above were really exercised.
    expect(tornTails).toBeGreaterThan(10);
    expect(unackedSurvivors).toBeGreaterThan(10);
  });

  describe('a damaged last record', () => {
    const earlier = [rec(1), big(2)];
    const last = big(5); // 664 payload bytes: spans a sector boundary
    const start = earlier.reduce((n, r) => n + RECORD_HEADER_BYTES + r.length, 0);
    const end = start + RECORD_HEADER_BYTES + last.length;
    let base: CrashSimFileIO;
    beforeAll(async () => {
      base = await diskWith([...earlier, last]);
    });

    /** Why the scan must reject the last record once its byte `i` is flipped (16 MiB is the default limit). */
    function reasonAfterFlip(i: number): string {
      if (i >= 4) return 'crc-mismatch';
      const header = Buffer.alloc(4);
      header.writeUInt32LE(last.length);
      header[i] ^= 0xff;
      const length = header.readUInt32LE();
      if (length === 0 || length > 16 << 20) return 'bad-length';
      return start + RECORD_HEADER_BYTES + length > end ? 'short-payload' : 'crc-mismatch';
    }

    /** Recovery after the damage keeps `earlier`, and the log takes appends that recover. */
    async function expectRecovers(io: CrashSimFileIO) {
      const { log, recovery } = await openLog(io);
      expect(names(recovery.records)).toEqual(names(earlier));
      await log.append([rec(9)]);
      await log.close();
      const again = await openLog(io.crash({ mode: 'drop-all' }));
      expect(names(again.recovery.records)).toEqual(names([...earlier, rec(9)]));
      expect(again.recovery.discarded).toBeUndefined();
      return recovery.discarded;
    }

    it('truncated at every offset: the earlier records survive and the tail is reported', async () => {
      expect(end - start).toBeGreaterThan(512);
      for (let cut = start; cut < end; cut++) {
        const io = base.crash({ mode: 'drop-all' });
        const fh = await io.open(LOG0);
        await fh.truncate(cut);
        await fh.sync();
        await fh.close();
        const discarded = await expectRecovers(io);
        if (cut === start) expect(discarded).toBeUndefined();
        else
          expect(discarded).toEqual({
            file: LOG0,
            offset: start,
            bytes: cut - start,
            reason: cut - start < RECORD_HEADER_BYTES ? 'short-header' : 'short-payload',
          });
      }
    });

    it('with a byte flipped at every offset: the earlier records survive and the tail is reported', async () => {
      for (let at = start; at < end; at++) {
        const io = base.crash({ mode: 'drop-all' });
        const fh = await io.open(LOG0);
        const [byte] = await fh.read(at, 1);
        await fh.write(at, Buffer.from([byte ^ 0xff]));
        await fh.sync();
        await fh.close();
        const discarded = await expectRecovers(io);
        expect(discarded).toEqual({
          file: LOG0,
          offset: start,
          bytes: end - start,
          reason: reasonAfterFlip(at - start),
        });
      }
    });

    it('with zeroed space after it (a hole a torn write left): the zeros are cut off', async () => {
      const io = base.crash({ mode: 'drop-all' });
      const fh = await io.open(LOG0);
      await fh.truncate(end + 1024);
      await fh.sync();
      await fh.close();
      const { recovery } = await openLog(io);
      expect(names(recovery.records)).toEqual(names([...earlier, last]));
      expect(recovery.discarded).toEqual({ file: LOG0, offset: end, bytes: 1024, reason: 'bad-length' });
    });
  });

  it('survives a power cut at every step of compact(): the old generation whole or the new one whole', async () => {
    const before = recs(1, 5);
    // Generation 1 with records in its log, compacting to generation 2.
    async function setup() {
      const io = new CrashSimFileIO();
      const { log } = await openLog(io);
      await log.append(recs(1, 3));
      await log.compact(snapshotOf(recs(1, 3)));
      await log.append(recs(4, 5));
      return { io, log };
    }
    let completedAt: number | undefined;
    const generations = new Set<number>();
    for (let step = 0; completedAt === undefined; step++) {
      const { io, log } = await setup();
      io.powerCutAfter(step);
      const done = await log.compact(snapshotOf(before)).then(
        () => true,
        () => false,
      );
      if (done) completedAt = step;
      for (const mode of MODES) {
        for (let seed = 0; seed < 6; seed++) {
          const disk = io.crash({ seed, mode });
          const { log: after, recovery } = await openLog(disk);
          expect(stateOf(recovery)).toEqual(names(before));
          expect(done ? [2] : [1, 2]).toContain(recovery.generation);
          generations.add(recovery.generation);
          const g = recovery.generation;
          expect(await disk.readdir(DIR)).toEqual([`log.${g}`, `snapshot.${g}`]);
          await after.append([rec(6)]);
          const again = await openLog(disk.crash({ seed, mode }));
          expect(stateOf(again.recovery)).toEqual(names(recs(1, 6)));
        }
      }
    }
    expect(completedAt).toBeGreaterThan(5); // the walk really crossed every step
    expect([...generations].sort()).toEqual([1, 2]);
  });
});

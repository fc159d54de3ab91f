// The same store on a real disk, through real fsync: what the simulator models must hold here too.
import { readdirSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@dominion/testing';
import { DurableLog, NodeFileIO } from '../src/index.js';
import { names, rec, recs, snapshotOf, stateOf } from './log-harness.js';

describe('DurableLog on NodeFileIO', () => {
  let tmp: ReturnType<typeof tempDir>;
  let dir: string;
  beforeEach(() => {
    tmp = tempDir('fsio-log-');
    dir = join(tmp.path, 'var', 'lib', 'xenstored');
  });
  afterEach(() => tmp.remove());

  it('round-trips appends, compaction and reopening with a fresh FileIO', async () => {
    const first = await DurableLog.open(new NodeFileIO(), dir);
    expect(first.recovery).toEqual({ generation: 0, snapshot: undefined, records: [] });
    await Promise.all(recs(1, 50).map((r) => first.log.append([r])));
    await first.log.close();

    const second = await DurableLog.open(new NodeFileIO(), dir);
    expect(names(second.recovery.records)).toEqual(names(recs(1, 50)));
    await second.log.compact(snapshotOf(recs(1, 50)));
    await second.log.append([rec(51)]);
    await second.log.close();
    expect(readdirSync(dir).sort()).toEqual(['log.1', 'snapshot.1']);

    const third = await DurableLog.open(new NodeFileIO(), dir);
    expect(third.recovery.generation).toBe(1);
    expect(stateOf(third.recovery)).toEqual(names(recs(1, 51)));
    await third.log.close();
  });

  it('cuts a torn tail off a real log file and appends after it', async () => {
    const { log } = await DurableLog.open(new NodeFileIO(), dir);
    await log.append([rec(1)]);
    await log.append([rec(2)]);
    await log.close();
    const file = join(dir, 'log.0');
    const whole = 8 + rec(1).length;
    truncateSync(file, whole + 5);

    const reopened = await DurableLog.open(new NodeFileIO(), dir);
    expect(names(reopened.recovery.records)).toEqual(names([rec(1)]));
    expect(reopened.recovery.discarded).toEqual({ file, offset: whole, bytes: 5, reason: 'short-header' });
    await reopened.log.append([rec(3)]);
    await reopened.log.close();

    const last = await DurableLog.open(new NodeFileIO(), dir);
    expect(names(last.recovery.records)).toEqual(names([rec(1), rec(3)]));
    expect(last.recovery.discarded).toBeUndefined();
    await last.log.close();
  });
});

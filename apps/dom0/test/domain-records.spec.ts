// The toolstack's per-domain records on real files: what a restarted dom0 reads back to adopt its guests.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@dominion/testing';
import { DomainRecords, type DomainRecord } from '../src/domain-records.js';

describe('domain records', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir('dom0-records-')));
  afterEach(() => dir.remove());

  const rec = (domid: number): DomainRecord => ({
    domid,
    name: `g${domid}`,
    uuid: '6f1c7c44-0a1b-4c2d-8e3f-123456789abc',
    request: { config: `name = "g${domid}"\n`, source: 'g.cfg', overrides: ['memory=32'] },
    pid: 4242,
  });

  it('saves, loads back and removes; no temporary file is left', () => {
    const records = new DomainRecords(join(dir.path, 'toolstack'));
    records.save(rec(3));
    records.save({ ...rec(5), preserved: true });
    const bad: string[] = [];
    expect(records.load((f) => bad.push(f)).sort((a, b) => a.domid - b.domid)).toEqual([
      rec(3),
      { ...rec(5), preserved: true },
    ]);
    expect(readdirSync(join(dir.path, 'toolstack')).sort()).toEqual(['domain-3.json', 'domain-5.json']);
    records.remove(3);
    expect(records.load(() => undefined).map((r) => r.domid)).toEqual([5]);
    expect(bad).toEqual([]);
  });

  it('reports and skips a file that is not a record (torn, or naming another domid); the others load', () => {
    const records = new DomainRecords(dir.path);
    records.save(rec(7));
    writeFileSync(join(dir.path, 'domain-8.json'), '{"domid": 8, "na');
    writeFileSync(join(dir.path, 'domain-9.json'), JSON.stringify(rec(10)));
    writeFileSync(join(dir.path, 'unrelated.txt'), 'x');
    const bad: string[] = [];
    expect(records.load((f) => bad.push(f)).map((r) => r.domid)).toEqual([7]);
    expect(bad.sort()).toEqual([join(dir.path, 'domain-8.json'), join(dir.path, 'domain-9.json')]);
  });

  it('a directory that does not exist yet holds no records', () => {
    expect(new DomainRecords(join(dir.path, 'none')).load(() => undefined)).toEqual([]);
  });
});

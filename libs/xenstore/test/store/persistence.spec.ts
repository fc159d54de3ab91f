// Durability: exportState / importState, and the journal: replaying the records of a run onto the export
// taken before it rebuilds the same store.
import { describe, expect, it } from '@jest/globals';
import { XenstoreEngine, type JournalRecord, type Outcome } from '../../src/store/index.js';
import {
  begin,
  call,
  control,
  dir,
  getPerms,
  getQuota,
  introduce,
  mkdir,
  read,
  release,
  rm,
  run,
  setPerms,
  setQuota,
  txEnd,
  watch,
  write,
} from './helpers.js';

/** Through JSON, as the journal and state files carry them. */
const viaJson = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('exportState / importState', () => {
  it('round-trips the tree, values, perms, listing order, special perms, domains and quotas', () => {
    const e = new XenstoreEngine({ quota: { nodes: 77 } });
    const dom0 = e.connect(0);
    run([
      [dom0, 0, write('/z/b', Buffer.from([0, 1, 2, 255])), 'OK|'],
      [dom0, 0, mkdir('/z/a'), 'OK|'],
      [dom0, 0, setPerms('/z/a', 'n3', 'r4'), 'OK|'],
      [dom0, 0, setPerms('@releaseDomain', 'n0', 'r3'), 'OK|'],
      [dom0, 0, introduce(3), 'OK|'],
      [dom0, 0, setQuota('3', 'watches', '9'), 'OK|'],
    ]);
    const state = viaJson(e.exportState());
    const f = XenstoreEngine.importState(state);
    expect(f.exportState()).toEqual(state);
    const c = f.connect(0);
    run([
      [c, 0, dir('/z'), 'b|a|'],
      [c, 0, getPerms('/z/a'), 'n3|r4|'],
      [c, 0, getPerms('@releaseDomain'), 'n0|r3|'],
      [c, 0, getQuota('3', 'watches'), '9|'],
      [c, 0, getQuota('nodes'), '77|'],
      [c, 0, control('check'), 'OK|'],
    ]);
    expect(call(c, read('/z/b')).reply.payload).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(f.isIntroduced(3)).toBe(true);
  });

  it('keeps quota accounting: the imported store still charges owners', () => {
    const e = new XenstoreEngine({ quota: { nodes: 2 } });
    const dom0 = e.connect(0);
    run([
      [dom0, 0, mkdir('/local/domain/5'), 'OK|'],
      [dom0, 0, setPerms('/local/domain/5', 'n5'), 'OK|'],
      [dom0, 0, write('/local/domain/5/a', ''), 'OK|'],
    ]);
    const f = XenstoreEngine.importState(viaJson(e.exportState()));
    run([[f.connect(5), 0, write('b', ''), 'E:ENOSPC']]);
  });

  it('lets options override the saved global quotas', () => {
    const e = new XenstoreEngine({ quota: { nodes: 77 } });
    const f = XenstoreEngine.importState(viaJson(e.exportState()), { quota: { nodes: 5 } });
    run([[f.connect(0), 0, getQuota('nodes'), '5|']]);
  });

  it('refuses malformed state', () => {
    const good = viaJson(new XenstoreEngine().exportState());
    expect(() => XenstoreEngine.importState(null)).toThrow(/XenStore state/);
    expect(() => XenstoreEngine.importState({ ...good, version: 2 })).toThrow(/version/);
    expect(() => XenstoreEngine.importState({ ...good, nodes: [['/x', '', ['n0']]] })).toThrow(/first node/);
    expect(() => XenstoreEngine.importState({ ...good, nodes: [...good.nodes, ['/a/b', '', ['n0']]] })).toThrow(
      /before its parent/,
    );
    expect(() => XenstoreEngine.importState({ ...good, nodes: [...good.nodes, ['/a', '', ['q0']]] })).toThrow(/perms/);
    expect(() => XenstoreEngine.importState({ ...good, nodes: [...good.nodes, ['/a b', '', ['n0']]] })).toThrow(/a b/);
  });
});

describe('the journal', () => {
  it('replayed onto an earlier export, yields the live engine’s state', () => {
    const live = new XenstoreEngine();
    const dom0 = live.connect(0);
    const dom5 = live.connect(5);
    run([
      [dom0, 0, write('/before', 'x'), 'OK|'],
      [dom0, 0, introduce(5), 'OK|'],
    ]);
    const snapshot = viaJson(live.exportState());

    const outcomes: Outcome[] = [];
    const step = (o: Outcome) => outcomes.push(o);
    step(call(dom0, mkdir('/local/domain/5')));
    step(call(dom0, setPerms('/local/domain/5', 'n5', 'r6')));
    step(call(dom5, write('data/a/b', 'guest wrote this')));
    step(call(dom5, write('data/bin', Buffer.from([0, 0xfe]))));
    step(call(dom0, write('/vm/uuid/name', 'guest')));
    step(call(dom0, rm('/before')));
    step(call(dom0, write('/local/domain/6/backend/vbd/5/51712/state', '1')));
    step(call(dom0, introduce(6)));
    step(call(dom0, setPerms('/local/domain/6/backend', 'n6', 'r5')));
    const tx = begin(dom5);
    step(call(dom5, write('data/tx/one', '1'), tx));
    step(call(dom5, rm('data/a'), tx));
    step(call(dom5, mkdir('data/a'), tx));
    step(call(dom5, txEnd(true), tx));
    const failed = begin(dom0);
    step(call(dom0, read('/vm/uuid/name'), failed));
    step(call(dom0, write('/vm/uuid/name', 'other'))); // makes `failed` conflict
    step(call(dom0, write('/lost', 'never'), failed));
    step(call(dom0, txEnd(true), failed));
    step(call(dom0, setQuota('nodes', '500')));
    step(call(dom0, setQuota('5', 'watches', '4')));
    step(call(dom0, release(6)));
    step(call(dom0, write('/after-release', '')));
    step(call(dom0, read('/vm/uuid/name'))); // reads journal nothing
    step(call(dom5, write('/denied', 'x'))); // refusals journal nothing

    const journal: JournalRecord[] = viaJson(outcomes.flatMap((o) => o.journal));
    expect(journal.filter((r) => r.op === 'transaction')).toHaveLength(1);
    const replayed = XenstoreEngine.importState(snapshot);
    for (const r of journal) replayed.applyJournal(r);
    expect(replayed.exportState()).toEqual(live.exportState());
    run([[replayed.connect(0), 0, control('check'), 'OK|']]);
  });

  it('records the creator so that replayed creations get the same owner', () => {
    const e = new XenstoreEngine();
    const dom0 = e.connect(0);
    run([
      [dom0, 0, mkdir('/inbox'), 'OK|'],
      [dom0, 0, setPerms('/inbox', 'n0', 'w7'), 'OK|'],
    ]);
    const snapshot = viaJson(e.exportState());
    const o = call(e.connect(7), write('/inbox/m', 'hi'));
    expect(o.journal).toEqual([
      { op: 'write', path: '/inbox/m', value: Buffer.from('hi').toString('base64'), creator: 7 },
    ]);
    const r = XenstoreEngine.importState(snapshot);
    r.applyJournal(viaJson(o.journal[0]));
    run([[r.connect(0), 0, getPerms('/inbox/m'), 'n7|w7|']]);
  });

  it('journals nothing for reads, watches, refusals or no-op changes', () => {
    const e = new XenstoreEngine();
    const dom0 = e.connect(0);
    call(dom0, mkdir('/a'));
    const o = run([
      [dom0, 0, read('/a'), ''],
      [dom0, 0, watch('/a', 't'), 'OK|'],
      [dom0, 0, mkdir('/a'), 'OK|'],
      [dom0, 0, rm('/a/none'), 'OK|'],
      [dom0, 0, read('/none'), 'E:ENOENT'],
    ]);
    expect(o.flatMap((x) => x.journal)).toEqual([]);
  });

  it('refuses malformed records', () => {
    const e = new XenstoreEngine();
    expect(() => e.applyJournal({ op: 'bogus' } as unknown as JournalRecord)).toThrow(/unknown op/);
    expect(() => e.applyJournal({ op: 'write', path: '/a', value: '%%', creator: null })).toThrow(/base64/);
    expect(() => e.applyJournal({ op: 'introduce', domid: -1 })).toThrow(/domid/);
    expect(() => e.applyJournal({ op: 'set_quota', domid: null, quota: 'x', value: 1 })).toThrow(/quota/);
    e.applyJournal({ op: 'write', path: '/a', value: Buffer.from('ok').toString('base64'), creator: null });
    run([[e.connect(0), 0, read('/a'), 'ok']]);
  });
});

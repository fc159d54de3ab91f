// Transactions: a private view, commit or EAGAIN on conflict, and the header tx_id rules.
import { describe, expect, it } from '@jest/globals';
import { XenstoreEngine } from '../../src/store/index.js';
import {
  begin,
  call,
  dir,
  dirPart,
  eventsFor,
  getPerms,
  mkdir,
  read,
  resetWatches,
  rm,
  run,
  setPerms,
  txEnd,
  txStart,
  watch,
  write,
} from './helpers.js';

function setup() {
  const e = new XenstoreEngine();
  return { e, dom0: e.connect(0), other: e.connect(0), dom5: e.connect(5) };
}

describe('isolation', () => {
  it('others see a transaction’s writes only after it commits', () => {
    const { dom0, other } = setup();
    const tx = begin(dom0);
    run([
      [dom0, tx, write('/foo', 'bar'), 'OK|'],
      [dom0, tx, read('/foo'), 'bar'],
      [dom0, 0, read('/foo'), 'E:ENOENT'],
      [other, 0, read('/foo'), 'E:ENOENT'],
      [dom0, tx, txEnd(true), 'OK|'],
      [other, 0, read('/foo'), 'bar'],
    ]);
  });

  it('F discards the transaction', () => {
    const { dom0 } = setup();
    const tx = begin(dom0);
    run([
      [dom0, tx, write('/a/b', 'x'), 'OK|'],
      [dom0, tx, txEnd(false), 'OK|'],
      [dom0, 0, read('/a'), 'E:ENOENT'],
    ]);
  });

  it('removal and re-creation inside a transaction hide the old children', () => {
    const { dom0, other } = setup();
    run([[dom0, 0, write('/a/b/c', 'old'), 'OK|']]);
    const tx = begin(dom0);
    run([
      [dom0, tx, rm('/a'), 'OK|'],
      [dom0, tx, read('/a/b/c'), 'E:ENOENT'],
      [dom0, tx, read('/a'), 'E:ENOENT'],
      [dom0, tx, mkdir('/a'), 'OK|'],
      [dom0, tx, dir('/a'), ''],
      [dom0, tx, read('/a/b'), 'E:ENOENT'],
      [dom0, tx, write('/a/n', 'new'), 'OK|'],
      [dom0, tx, dir('/a'), 'n|'],
      [other, 0, dir('/a'), 'b|'],
      [dom0, tx, txEnd(true), 'OK|'],
      [other, 0, dir('/a'), 'n|'],
      [other, 0, read('/a/b/c'), 'E:ENOENT'],
      [other, 0, read('/a/n'), 'new'],
    ]);
  });

  it('lists its own new children in creation order after the live ones', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, mkdir('/d/one'), 'OK|'],
      [dom0, 0, mkdir('/d/two'), 'OK|'],
    ]);
    const tx = begin(dom0);
    run([
      [dom0, tx, mkdir('/d/three'), 'OK|'],
      [dom0, tx, rm('/d/one'), 'OK|'],
      [dom0, tx, dir('/d'), 'two|three|'],
      [dom0, tx, mkdir('/d/one'), 'OK|'],
      [dom0, tx, dir('/d'), 'two|three|one|'],
      [dom0, tx, rm('/d/three'), 'OK|'],
      [dom0, tx, dir('/d'), 'two|one|'],
      [dom0, tx, txEnd(true), 'OK|'],
      [dom0, 0, dir('/d'), 'two|one|'],
    ]);
  });

  it('permission changes inside a transaction apply to it at once and to others on commit', () => {
    const { dom0, dom5 } = setup();
    run([[dom0, 0, write('/p', 'v'), 'OK|']]);
    const tx = begin(dom0);
    run([
      [dom0, tx, setPerms('/p', 'n0', 'r5'), 'OK|'],
      [dom0, tx, getPerms('/p'), 'n0|r5|'],
      [dom5, 0, read('/p'), 'E:EACCES'],
      [dom0, tx, txEnd(true), 'OK|'],
      [dom5, 0, read('/p'), 'v'],
    ]);
  });
});

describe('conflicts', () => {
  it('EAGAIN when a node read in the transaction changed meanwhile; the transaction is then over', () => {
    const { dom0, other } = setup();
    run([[dom0, 0, write('/a', '1'), 'OK|']]);
    const tx = begin(dom0);
    run([
      [dom0, tx, read('/a'), '1'],
      [other, 0, write('/a', '2'), 'OK|'],
      [dom0, tx, write('/b', 'from tx'), 'OK|'],
      [dom0, tx, txEnd(true), 'E:EAGAIN'],
      [dom0, 0, read('/b'), 'E:ENOENT'],
      [dom0, tx, read('/a'), 'E:ENOENT'],
      [dom0, tx, txEnd(true), 'E:ENOENT'],
    ]);
  });

  it('EAGAIN when a node read as absent was created meanwhile', () => {
    const { dom0, other } = setup();
    const tx = begin(dom0);
    run([
      [dom0, tx, read('/flag'), 'E:ENOENT'],
      [other, 0, write('/flag', 'set'), 'OK|'],
      [dom0, tx, write('/result', 'x'), 'OK|'],
      [dom0, tx, txEnd(true), 'E:EAGAIN'],
    ]);
  });

  it('EAGAIN when a node read was removed meanwhile', () => {
    const { dom0, other } = setup();
    run([[dom0, 0, write('/a', '1'), 'OK|']]);
    const tx = begin(dom0);
    run([
      [dom0, tx, read('/a'), '1'],
      [other, 0, rm('/a'), 'OK|'],
      [dom0, tx, txEnd(true), 'E:EAGAIN'],
    ]);
  });

  it('EAGAIN when a listed directory gained a child meanwhile', () => {
    const { dom0, other } = setup();
    run([[dom0, 0, mkdir('/a'), 'OK|']]);
    const tx = begin(dom0);
    run([
      [dom0, tx, dir('/a'), ''],
      [other, 0, write('/a/b', 'hello'), 'OK|'],
      [dom0, tx, write('/a/b', 'there'), 'OK|'],
      [dom0, tx, txEnd(true), 'E:EAGAIN'],
      [dom0, 0, read('/a/b'), 'hello'],
    ]);
  });

  it('EAGAIN when a node the transaction wrote was written meanwhile (the write looked at it first)', () => {
    const { dom0, other } = setup();
    run([[dom0, 0, write('/x', '0'), 'OK|']]);
    const tx = begin(dom0);
    run([
      [dom0, tx, write('/x', 'tx'), 'OK|'],
      [other, 0, write('/x', 'other'), 'OK|'],
      [dom0, tx, txEnd(true), 'E:EAGAIN'],
      [dom0, 0, read('/x'), 'other'],
    ]);
  });

  it('commits when the concurrent change touched nothing the transaction looked at', () => {
    const { dom0, other } = setup();
    run([
      [dom0, 0, write('/a', '1'), 'OK|'],
      [dom0, 0, write('/c', '1'), 'OK|'],
    ]);
    const tx = begin(dom0);
    run([
      [dom0, tx, read('/a'), '1'],
      [dom0, tx, write('/b', 'tx'), 'OK|'],
      [other, 0, write('/c', '2'), 'OK|'],
      [other, 0, write('/d/e', 'new'), 'OK|'],
      [dom0, tx, txEnd(true), 'OK|'],
      [dom0, 0, read('/b'), 'tx'],
      [dom0, 0, read('/c'), '2'],
      [dom0, 0, read('/d/e'), 'new'],
    ]);
  });

  it('two transactions creating devices under the same directories both commit', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, mkdir('/local/domain/0/backend/vbd'), 'OK|'],
      [dom0, 0, mkdir('/local/domain/1/device/vbd'), 'OK|'],
      [dom0, 0, mkdir('/local/domain/2/device/vbd'), 'OK|'],
    ]);
    const t1 = begin(dom0);
    const t2 = begin(dom0);
    expect(t1).not.toBe(t2);
    run([
      [dom0, t1, write('/local/domain/0/backend/vbd/1/51712', 'hello'), 'OK|'],
      [dom0, t1, write('/local/domain/1/device/vbd/51712', 'there'), 'OK|'],
      [dom0, t2, write('/local/domain/0/backend/vbd/2/51712', 'hello'), 'OK|'],
      [dom0, t2, write('/local/domain/2/device/vbd/51712', 'there'), 'OK|'],
      [dom0, t1, txEnd(true), 'OK|'],
      [dom0, t2, txEnd(true), 'OK|'],
      [dom0, 0, dir('/local/domain/0/backend/vbd'), '1|2|'],
      [dom0, 0, read('/local/domain/0/backend/vbd/2/51712'), 'hello'],
    ]);
  });

  it('two transactions that really interleave: the second to commit fails', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, write('/a', 'a0'), 'OK|'],
      [dom0, 0, write('/b', 'b0'), 'OK|'],
    ]);
    const t1 = begin(dom0);
    const t2 = begin(dom0);
    run([
      [dom0, t1, read('/a'), 'a0'],
      [dom0, t2, read('/b'), 'b0'],
      [dom0, t1, write('/b', 'b1'), 'OK|'],
      [dom0, t2, write('/a', 'a2'), 'OK|'],
      [dom0, t1, txEnd(true), 'OK|'],
      [dom0, t2, txEnd(true), 'E:EAGAIN'],
      [dom0, 0, read('/a'), 'a0'],
      [dom0, 0, read('/b'), 'b1'],
    ]);
  });

  it('DIRECTORY_PART in a transaction counts as listing', () => {
    const { dom0, other } = setup();
    run([[dom0, 0, mkdir('/a/x'), 'OK|']]);
    const tx = begin(dom0);
    expect(call(dom0, dirPart('/a', 0), tx).reply.payload.toString('latin1')).toMatch(/^\d+\0x\0\0$/);
    run([
      [other, 0, mkdir('/a/y'), 'OK|'],
      [dom0, tx, txEnd(true), 'E:EAGAIN'],
    ]);
  });
});

describe('transaction ids', () => {
  it('TRANSACTION_START answers a decimal id; any tx_id in its header is EBUSY', () => {
    const { dom0 } = setup();
    const tx = begin(dom0);
    run([
      [dom0, tx, txStart(), 'E:EBUSY'],
      [dom0, 77, txStart(), 'E:EBUSY'],
      [dom0, tx, txEnd(false), 'OK|'],
    ]);
    expect(begin(dom0)).not.toBe(tx);
  });

  it('an unknown tx_id is ENOENT; TRANSACTION_END needs a transaction and T or F', () => {
    const { dom0 } = setup();
    const tx = begin(dom0);
    run([
      [dom0, 9999, read('/local'), 'E:ENOENT'],
      [dom0, 0, txEnd(true), 'E:ENOENT'],
      [dom0, tx, { type: txEnd(true).type, payload: Buffer.from('X\0') }, 'E:EINVAL'],
      [dom0, tx, read('/local'), ''],
      [dom0, tx, txEnd(true), 'OK|'],
    ]);
  });

  it('ids belong to their connection', () => {
    const { dom0, other } = setup();
    const tx = begin(dom0);
    run([
      [other, tx, read('/local'), 'E:ENOENT'],
      [dom0, tx, read('/local'), ''],
    ]);
  });

  it('WATCH ignores tx_id', () => {
    const { dom0 } = setup();
    run([[dom0, 4242, watch('/w', 'tok'), 'OK|']]);
  });

  it('RESET_WATCHES and close end the connection’s transactions', () => {
    const { e, dom0 } = setup();
    const t1 = begin(dom0);
    run([
      [dom0, t1, write('/t1', 'x'), 'OK|'],
      [dom0, 0, resetWatches(), 'OK|'],
      [dom0, t1, txEnd(true), 'E:ENOENT'],
      [dom0, 0, read('/t1'), 'E:ENOENT'],
    ]);
    const c = e.connect(0);
    const t2 = begin(c);
    run([[c, t2, write('/t2', 'x'), 'OK|']]);
    c.close();
    run([[dom0, 0, read('/t2'), 'E:ENOENT']]);
  });
});

describe('events of transactions', () => {
  it('fire only on commit, in the TRANSACTION_END outcome, once per path', () => {
    const { e, dom0 } = setup();
    const watcher = e.connect(0);
    call(watcher, watch('/w', 'tok'));
    const tx = begin(dom0);
    const during = run([
      [dom0, tx, write('/w/a', '1'), 'OK|'],
      [dom0, tx, write('/w/a', '2'), 'OK|'],
      [dom0, tx, write('/w/b', '3'), 'OK|'],
    ]);
    expect(eventsFor(during, watcher)).toEqual([]);
    const [end] = run([[dom0, tx, txEnd(true), 'OK|']]);
    expect(eventsFor(end, watcher)).toEqual(['/w/a tok', '/w/b tok']);
  });

  it('a failed or aborted transaction fires nothing and journals nothing', () => {
    const { e, dom0, other } = setup();
    const watcher = e.connect(0);
    call(watcher, watch('/w', 'tok'));
    const t1 = begin(dom0);
    run([
      [dom0, t1, read('/w'), 'E:ENOENT'],
      [dom0, t1, write('/w/a', '1'), 'OK|'],
    ]);
    call(other, mkdir('/w'));
    const [failed] = run([[dom0, t1, txEnd(true), 'E:EAGAIN']]);
    expect(failed.events).toEqual([]);
    expect(failed.journal).toEqual([]);
    const t2 = begin(dom0);
    run([[dom0, t2, write('/w/a', '1'), 'OK|']]);
    const [aborted] = run([[dom0, t2, txEnd(false), 'OK|']]);
    expect(aborted.events).toEqual([]);
    expect(aborted.journal).toEqual([]);
  });
});

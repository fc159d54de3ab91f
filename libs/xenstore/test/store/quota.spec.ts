// Quotas: each limit hit, with the action just under it succeeding; dom0 exempt; GET/SET_QUOTA.
import { describe, expect, it } from '@jest/globals';
import { XenstoreEngine, XS_QUOTA_DEFAULTS, type XsQuota } from '../../src/store/index.js';
import {
  begin,
  call,
  getQuota,
  introduce,
  mkdir,
  read,
  rm,
  run,
  setPerms,
  setQuota,
  txEnd,
  unwatch,
  watch,
  write,
} from './helpers.js';

/** Domain 5 with its home /local/domain/5 owned by itself (1 node). */
function setup(quota: Partial<XsQuota>) {
  const e = new XenstoreEngine({ quota });
  const dom0 = e.connect(0);
  const dom5 = e.connect(5);
  run([
    [dom0, 0, mkdir('/local/domain/5'), 'OK|'],
    [dom0, 0, setPerms('/local/domain/5', 'n5'), 'OK|'],
  ]);
  return { e, dom0, dom5 };
}

describe('defaults', () => {
  it('are C xenstored’s', () => {
    expect(XS_QUOTA_DEFAULTS).toEqual({
      nodes: 1000,
      watches: 128,
      transactions: 10,
      transactionNodes: 1024,
      nodePermissions: 5,
      pathMax: 2048,
      nodeSize: 2048,
    });
  });

  it('refuse an unknown or negative quota option', () => {
    expect(() => new XenstoreEngine({ quota: { nodes: -1 } })).toThrow(/nodes/);
    expect(() => new XenstoreEngine({ quota: { bogus: 1 } as Partial<XsQuota> })).toThrow(/bogus/);
  });
});

describe('nodes', () => {
  it('a domain may own up to its quota, counting what it owns, not what it wrote', () => {
    const { dom0, dom5 } = setup({ nodes: 3 });
    run([
      [dom5, 0, write('a', '1'), 'OK|'],
      [dom5, 0, write('b', '2'), 'OK|'],
      [dom5, 0, write('c', '3'), 'E:ENOSPC'],
      // rewriting an owned node creates nothing
      [dom5, 0, write('b', 'again'), 'OK|'],
      [dom5, 0, rm('a'), 'OK|'],
      [dom5, 0, write('c', '3'), 'OK|'],
    ]);
    // two missing levels at once count twice
    run([
      [dom5, 0, rm('c'), 'OK|'],
      [dom5, 0, write('x/y', '1'), 'E:ENOSPC'],
      [dom5, 0, write('x', '1'), 'OK|'],
      [dom0, 0, read('/local/domain/5/x'), '1'],
    ]);
  });

  it('charges nodes to their owner, and dom0 is not held to its quota', () => {
    const { dom0, dom5 } = setup({ nodes: 2 });
    run([
      // dom0 creates nodes dom5 owns (inherited), beyond dom5's quota
      [dom0, 0, write('/local/domain/5/t1', ''), 'OK|'],
      [dom0, 0, write('/local/domain/5/t2', ''), 'OK|'],
      [dom5, 0, write('mine', ''), 'E:ENOSPC'],
      [dom0, 0, rm('/local/domain/5/t2'), 'OK|'],
      [dom0, 0, rm('/local/domain/5/t1'), 'OK|'],
      [dom5, 0, write('mine', ''), 'OK|'],
      // dom0's own nodes are unlimited
      [dom0, 0, write('/x/1', ''), 'OK|'],
      [dom0, 0, write('/x/2', ''), 'OK|'],
      [dom0, 0, write('/x/3', ''), 'OK|'],
    ]);
  });

  it('checks a transaction’s creations as it makes them and again at commit', () => {
    const { dom5 } = setup({ nodes: 3 });
    const t1 = begin(dom5);
    const t2 = begin(dom5);
    run([
      [dom5, t1, write('a', ''), 'OK|'],
      [dom5, t1, write('b', ''), 'OK|'],
      [dom5, t1, write('c', ''), 'E:ENOSPC'],
      [dom5, t2, write('d', ''), 'OK|'],
      [dom5, t1, txEnd(true), 'OK|'],
      // t2 was within quota on its own, but not on top of t1
      [dom5, t2, txEnd(true), 'E:ENOSPC'],
      [dom5, 0, read('d'), 'E:ENOENT'],
    ]);
  });
});

describe('watches', () => {
  it('counts a domain’s watches over all its connections', () => {
    const { e, dom5 } = setup({ watches: 2 });
    const again = e.connect(5);
    run([
      [dom5, 0, watch('a', 't'), 'OK|'],
      [again, 0, watch('b', 't'), 'OK|'],
      [dom5, 0, watch('c', 't'), 'E:ENOSPC'],
      [again, 0, unwatch('b', 't'), 'OK|'],
      [dom5, 0, watch('c', 't'), 'OK|'],
    ]);
    again.close();
    dom5.close();
    const fresh = e.connect(5);
    run([
      [fresh, 0, watch('a', 't'), 'OK|'],
      [fresh, 0, watch('b', 't'), 'OK|'],
    ]);
  });
});

describe('transactions', () => {
  it('limits the open transactions of a domain', () => {
    const { dom0, dom5 } = setup({ transactions: 2 });
    const t1 = begin(dom5);
    begin(dom5);
    run([
      [dom5, 0, { type: 6, payload: Buffer.from('\0') }, 'E:ENOSPC'],
      [dom5, t1, txEnd(false), 'OK|'],
    ]);
    begin(dom5);
    // dom0 is exempt
    begin(dom0);
    begin(dom0);
    begin(dom0);
  });

  it('limits the nodes one transaction may access', () => {
    const { dom5 } = setup({ transactionNodes: 3 });
    const tx = begin(dom5);
    run([
      [dom5, tx, write('a', ''), 'OK|'], // accesses /local/domain/5/a and /local/domain/5
      [dom5, tx, read('b'), 'E:ENOENT'],
      [dom5, tx, read('a'), ''],
      [dom5, tx, read('c'), 'E:ENOSPC'],
      [dom5, tx, txEnd(true), 'OK|'],
      [dom5, 0, read('a'), ''],
    ]);
  });
});

describe('node size', () => {
  it('counts value, children names and permissions as C xenstored does (16 + 8 per perm + data)', () => {
    const { dom0, dom5 } = setup({ nodeSize: 100 });
    const fits = 'v'.repeat(100 - 16 - 8);
    run([
      [dom5, 0, write('v', fits), 'OK|'],
      [dom5, 0, write('v', fits + 'v'), 'E:ENOSPC'],
      [dom5, 0, read('v'), fits],
      // dom0 is exempt
      [dom0, 0, write('/local/domain/5/v', fits + 'v'), 'OK|'],
    ]);
  });

  it('a parent whose children list grows too long refuses the new child', () => {
    const { dom5 } = setup({ nodeSize: 16 + 8 + 10 });
    run([
      [dom5, 0, mkdir('d/aaaa'), 'OK|'], // d: 5 bytes of children
      [dom5, 0, mkdir('d/bbbb'), 'OK|'], // 10
      [dom5, 0, mkdir('d/c'), 'E:ENOSPC'],
    ]);
  });
});

describe('permissions per node', () => {
  it('limits the entries of a SET_PERMS', () => {
    const { dom0, dom5 } = setup({ nodePermissions: 2 });
    run([
      [dom5, 0, write('n', ''), 'OK|'],
      [dom5, 0, setPerms('n', 'n5', 'r1'), 'OK|'],
      [dom5, 0, setPerms('n', 'n5', 'r1', 'r2'), 'E:ENOSPC'],
      [dom0, 0, setPerms('/local/domain/5/n', 'n5', 'r1', 'r2'), 'OK|'],
    ]);
  });
});

describe('path length', () => {
  it('limits what follows /local/domain/<id>/ for unprivileged domains', () => {
    const { dom0, dom5 } = setup({ pathMax: 20 });
    run([
      [dom5, 0, write('a'.repeat(20), ''), 'OK|'],
      [dom5, 0, write('a'.repeat(21), ''), 'E:EINVAL'],
      [dom0, 0, write('/local/domain/5/' + 'b'.repeat(21), ''), 'OK|'],
    ]);
  });
});

describe('GET_QUOTA / SET_QUOTA', () => {
  it('lists the quota names, reads and sets global and per-domain values', () => {
    const e = new XenstoreEngine();
    const dom0 = e.connect(0);
    run([
      [
        dom0,
        0,
        { type: 25, payload: Buffer.alloc(0) },
        'nodes watches transactions transaction-nodes node-permissions path-max node-size|',
      ],
      [dom0, 0, getQuota('nodes'), '1000|'],
      [dom0, 0, getQuota('7', 'nodes'), 'E:ENOENT'],
      [dom0, 0, introduce(7), 'OK|'],
      [dom0, 0, getQuota('7', 'watches'), '128|'],
      [dom0, 0, setQuota('7', 'watches', '3'), 'OK|'],
      [dom0, 0, getQuota('7', 'watches'), '3|'],
      [dom0, 0, getQuota('watches'), '128|'],
      [dom0, 0, setQuota('nodes', '50'), 'OK|'],
      [dom0, 0, getQuota('nodes'), '50|'],
      [dom0, 0, getQuota('bogus'), 'E:EINVAL'],
      [dom0, 0, setQuota('nodes', 'many'), 'E:EINVAL'],
    ]);
  });

  it('applies a per-domain quota to that domain, and refuses unprivileged callers', () => {
    const e = new XenstoreEngine();
    const dom0 = e.connect(0);
    const dom7 = e.connect(7);
    run([
      [dom0, 0, introduce(7), 'OK|'],
      [dom0, 0, setQuota('7', 'watches', '1'), 'OK|'],
      [dom7, 0, watch('/a', 't'), 'OK|'],
      [dom7, 0, watch('/b', 't'), 'E:ENOSPC'],
      [dom7, 0, getQuota('watches'), 'E:EACCES'],
      [dom7, 0, setQuota('7', 'watches', '100'), 'E:EACCES'],
    ]);
    expect(call(dom0, getQuota('7', 'watches')).reply.payload.toString()).toBe('1\0');
  });
});

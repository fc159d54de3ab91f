// Watches: the first event, recursion and depth, relative paths, removals, permissions, special events.
import { describe, expect, it } from '@jest/globals';
import { XS } from '@dominion/abi';
import { XenstoreEngine } from '../../src/store/index.js';
import {
  call,
  eventsFor,
  introduce,
  mkdir,
  read,
  release,
  resetWatches,
  rm,
  run,
  setPerms,
  unwatch,
  watch,
  write,
} from './helpers.js';

function setup() {
  const e = new XenstoreEngine();
  return { e, dom0: e.connect(0), w: e.connect(0), dom5: e.connect(5) };
}

describe('WATCH', () => {
  it('replies OK and carries its first event (path as given) in the same outcome, for the watcher only', () => {
    const { dom0, w } = setup();
    const [o] = run([[w, 0, watch('/a', 'token'), 'OK|']]);
    expect(o.reply).toEqual({ type: XS.XS_WATCH, payload: Buffer.from('OK\0') });
    expect(o.events).toEqual([{ connId: w.id, path: '/a', token: 'token' }]);
    expect(eventsFor(o, dom0)).toEqual([]);
  });

  it('fires on writes, by anyone, and not on reads', () => {
    const { dom0, w, dom5 } = setup();
    run([
      [dom0, 0, mkdir('/a'), 'OK|'],
      [dom0, 0, setPerms('/a', 'b0'), 'OK|'],
      [w, 0, watch('/a', 'token'), 'OK|'],
    ]);
    const own = run([[w, 0, write('/a', 'foo'), 'OK|']]);
    expect(eventsFor(own, w)).toEqual(['/a token']);
    const others = run([[dom5, 0, write('/a', 'bar'), 'OK|']]);
    expect(eventsFor(others, w)).toEqual(['/a token']);
    const reads = run([
      [dom0, 0, read('/a'), 'bar'],
      [dom5, 0, read('/a/1'), 'E:ENOENT'],
    ]);
    expect(eventsFor(reads, w)).toEqual([]);
  });

  it('is recursive: a change below the watched path reports the changed path', () => {
    const { dom0, w } = setup();
    call(w, watch('/a', 'tok'));
    const o = run([
      [dom0, 0, write('/a/b/c', 'x'), 'OK|'],
      [dom0, 0, setPerms('/a/b', 'n0', 'r1'), 'OK|'],
      [dom0, 0, write('/ab', 'not below /a'), 'OK|'],
    ]);
    expect(eventsFor(o, w)).toEqual(['/a/b/c tok', '/a/b tok']);
  });

  it('on / sees everything', () => {
    const { dom0, w } = setup();
    call(w, watch('/', 'all'));
    expect(eventsFor(run([[dom0, 0, write('/x/y', '1'), 'OK|']]), w)).toEqual(['/x/y all']);
  });

  it('honours a depth', () => {
    const { dom0, e } = setup();
    const d0 = e.connect(0);
    const d1 = e.connect(0);
    const root1 = e.connect(0);
    call(d0, watch('/a', 'd0', 0));
    call(d1, watch('/a', 'd1', 1));
    call(root1, watch('/', 'r1', 1));
    const o = run([
      [dom0, 0, write('/a', '0'), 'OK|'],
      [dom0, 0, write('/a/b', '1'), 'OK|'],
      [dom0, 0, write('/a/b/c', '2'), 'OK|'],
    ]);
    expect(eventsFor(o, d0)).toEqual(['/a d0']);
    expect(eventsFor(o, d1)).toEqual(['/a d1', '/a/b d1']);
    expect(eventsFor(o, root1)).toEqual(['/a r1']);
  });

  it('set with a relative path reports relative paths', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, write('/local/domain/0/device', ''), 'OK|'],
      [dom0, 0, watch('device', 'token'), 'OK|'],
    ]);
    const o = run([
      [dom0, 0, write('/local/domain/0/device/vbd', '1'), 'OK|'],
      [dom0, 0, write('device/vif', '2'), 'OK|'],
    ]);
    expect(eventsFor(o, dom0)).toEqual(['device/vbd token', 'device/vif token']);
  });

  it('refuses a duplicate (same path and token), takes another token on the same path', () => {
    const { w } = setup();
    run([
      [w, 0, watch('/a', 't'), 'OK|'],
      [w, 0, watch('/a', 't'), 'E:EEXIST'],
      [w, 0, watch('/a', 'u'), 'OK|'],
      [w, 0, watch('/b', 't'), 'OK|'],
    ]);
  });

  it('refuses malformed requests', () => {
    const { w } = setup();
    run([
      [w, 0, { type: XS.XS_WATCH, payload: Buffer.from('/a\0') }, 'E:EINVAL'],
      [w, 0, watch('/a', 't', -1), 'E:EINVAL'],
      [w, 0, watch('/a//b', 't'), 'E:EINVAL'],
      [w, 0, watch('/a', 't', 2), 'OK|'],
    ]);
  });
});

describe('UNWATCH', () => {
  it('stops the events; an unknown watch is ENOENT', () => {
    const { dom0, w } = setup();
    run([
      [w, 0, watch('/a', 't'), 'OK|'],
      [w, 0, unwatch('/a', 'other'), 'E:ENOENT'],
      [w, 0, unwatch('/a', 't'), 'OK|'],
      [w, 0, unwatch('/a', 't'), 'E:ENOENT'],
    ]);
    expect(eventsFor(run([[dom0, 0, write('/a', 'x'), 'OK|']]), w)).toEqual([]);
  });

  it('matches a relative watch by its absolute path', () => {
    const { w } = setup();
    run([
      [w, 0, watch('data', 't'), 'OK|'],
      [w, 0, unwatch('/local/domain/0/data', 't'), 'OK|'],
    ]);
  });

  it('RESET_WATCHES and close drop all of a connection’s watches', () => {
    const { e, dom0, w } = setup();
    const c = e.connect(0);
    call(w, watch('/a', 't'));
    call(c, watch('/a', 't'));
    run([[w, 0, resetWatches(), 'OK|']]);
    c.close();
    const o = run([[dom0, 0, write('/a', 'x'), 'OK|']]);
    expect(o[0].events).toEqual([]);
    run([[w, 0, watch('/a', 't'), 'OK|']]);
  });
});

describe('removal', () => {
  it('reports the watch path to a watch below a removed node, and the removed path above it', () => {
    const { dom0, e } = setup();
    const below = e.connect(0);
    const above = e.connect(0);
    run([[dom0, 0, write('/a/b/c', 'x'), 'OK|']]);
    call(below, watch('/a/b/c', 'below'));
    call(above, watch('/', 'above'));
    const o = run([[dom0, 0, rm('/a'), 'OK|']]);
    expect(eventsFor(o, below)).toEqual(['/a/b/c below']);
    expect(eventsFor(o, above)).toEqual(['/a above']);
  });

  it('removing an absent node fires nothing', () => {
    const { dom0, w } = setup();
    run([[dom0, 0, mkdir('/a'), 'OK|']]);
    call(w, watch('/a', 't'));
    expect(run([[dom0, 0, rm('/a/none'), 'OK|']])[0].events).toEqual([]);
  });
});

describe('permissions of events', () => {
  it('go only to watchers that may read the changed node', () => {
    const { dom0, dom5 } = setup();
    run([
      [dom0, 0, mkdir('/local/domain/5'), 'OK|'],
      [dom0, 0, setPerms('/local/domain/5', 'n0', 'r5'), 'OK|'],
      [dom5, 0, watch('/local/domain/5', 'home'), 'OK|'],
    ]);
    run([
      [dom0, 0, write('/local/domain/5/secret', 's'), 'OK|'],
      [dom0, 0, setPerms('/local/domain/5/secret', 'n0'), 'OK|'],
    ]);
    const hidden = run([[dom0, 0, write('/local/domain/5/secret', 't'), 'OK|']]);
    expect(eventsFor(hidden, dom5)).toEqual([]);
    const shown = run([[dom0, 0, write('/local/domain/5/open', 'o'), 'OK|']]);
    expect(eventsFor(shown, dom5)).toEqual(['/local/domain/5/open home']);
  });

  it('a watcher losing read access by SET_PERMS still hears of that change', () => {
    const { dom0, dom5 } = setup();
    run([
      [dom0, 0, write('/n', ''), 'OK|'],
      [dom0, 0, setPerms('/n', 'n0', 'r5'), 'OK|'],
      [dom5, 0, watch('/n', 't'), 'OK|'],
    ]);
    expect(eventsFor(run([[dom0, 0, setPerms('/n', 'n0'), 'OK|']]), dom5)).toEqual(['/n t']);
    expect(eventsFor(run([[dom0, 0, write('/n', 'x'), 'OK|']]), dom5)).toEqual([]);
  });

  it('a deletion reaches a watcher that may read the removed node’s parent', () => {
    const { dom0, dom5 } = setup();
    run([
      [dom0, 0, mkdir('/p'), 'OK|'],
      [dom0, 0, setPerms('/p', 'n0', 'r5'), 'OK|'],
      [dom0, 0, write('/p/hidden', 'x'), 'OK|'],
      [dom0, 0, setPerms('/p/hidden', 'n0'), 'OK|'],
      [dom0, 0, write('/q/hidden', 'x'), 'OK|'],
      [dom5, 0, watch('/p', 'p'), 'OK|'],
      [dom5, 0, watch('/q', 'q'), 'OK|'],
    ]);
    const o = run([
      [dom0, 0, rm('/p/hidden'), 'OK|'],
      [dom0, 0, rm('/q/hidden'), 'OK|'],
    ]);
    expect(eventsFor(o, dom5)).toEqual(['/p/hidden p']);
  });
});

describe('special watches', () => {
  it('@introduceDomain and @releaseDomain fire for privileged watchers; depth 1 adds the domid', () => {
    const { dom0, e } = setup();
    const plain = e.connect(0);
    const depth1 = e.connect(0);
    run([
      [plain, 0, watch('@introduceDomain', 'i'), 'OK|'],
      [plain, 0, watch('@releaseDomain', 'r'), 'OK|'],
      [depth1, 0, watch('@introduceDomain', 'i', 1), 'OK|'],
      [depth1, 0, watch('@releaseDomain', 'r', 1), 'OK|'],
    ]);
    const o = run([
      [dom0, 0, introduce(7), 'OK|'],
      [dom0, 0, release(7), 'OK|'],
    ]);
    expect(eventsFor(o, plain)).toEqual(['@introduceDomain i', '@releaseDomain r']);
    expect(eventsFor(o, depth1)).toEqual(['@introduceDomain/7 i', '@releaseDomain/7 r']);
  });

  it('@releaseDomain/<domid> watches one domain', () => {
    const { dom0, w } = setup();
    run([
      [w, 0, watch('@releaseDomain/8', 'eight'), 'OK|'],
      [dom0, 0, introduce(7), 'OK|'],
      [dom0, 0, introduce(8), 'OK|'],
    ]);
    expect(eventsFor(run([[dom0, 0, release(7), 'OK|']]), w)).toEqual([]);
    expect(eventsFor(run([[dom0, 0, release(8), 'OK|']]), w)).toEqual(['@releaseDomain/8 eight']);
  });

  it('a permission change of a special node fires its own watches only', () => {
    const { dom0, e } = setup();
    const all = e.connect(0);
    const rel = e.connect(0);
    call(all, watch('/', 'all'));
    call(rel, watch('@releaseDomain', 'rel'));
    const o = run([[dom0, 0, setPerms('@releaseDomain', 'n0', 'r5'), 'OK|']]);
    expect(eventsFor(o, rel)).toEqual(['@releaseDomain rel']);
    expect(eventsFor(o, all)).toEqual([]);
  });

  it('reach an unprivileged domain only if the special node’s perms let it read', () => {
    const { dom0, dom5, e } = setup();
    const dom6 = e.connect(6);
    run([
      [dom5, 0, watch('@releaseDomain', 'r'), 'OK|'],
      [dom6, 0, watch('@releaseDomain', 'r'), 'OK|'],
      [dom0, 0, setPerms('@releaseDomain', 'n0', 'r5'), 'OK|'],
      [dom0, 0, introduce(9), 'OK|'],
    ]);
    const o = run([[dom0, 0, release(9), 'OK|']]);
    expect(eventsFor(o, dom5)).toEqual(['@releaseDomain r']);
    expect(eventsFor(o, dom6)).toEqual([]);
  });
});

describe('the reply-before-event contract', () => {
  it('returns every event in the outcome of the request that caused it, and nowhere else', () => {
    const { dom0, e } = setup();
    const a = e.connect(0);
    const b = e.connect(0);
    call(a, watch('/x', 'a'));
    call(b, watch('/x/y', 'b'));
    const o = call(dom0, write('/x/y', 'v'));
    expect(o.reply.payload.toString()).toBe('OK\0');
    expect(o.events).toEqual([
      { connId: a.id, path: '/x/y', token: 'a' },
      { connId: b.id, path: '/x/y', token: 'b' },
    ]);
    // the next request carries only its own events
    expect(call(dom0, read('/x/y')).events).toEqual([]);
  });
});

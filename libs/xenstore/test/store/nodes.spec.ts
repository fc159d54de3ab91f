// The tree: initial layout, implicit creation, listing order, values, removal, paths and their limits.
import { describe, expect, it } from '@jest/globals';
import { XS } from '@dominion/abi';
import { XenstoreEngine } from '../../src/store/index.js';
import { call, dir, getPerms, mkdir, raw, read, rm, run, setPerms, show, write } from './helpers.js';

function setup() {
  const e = new XenstoreEngine();
  return { e, dom0: e.connect(0), dom5: e.connect(5) };
}

describe('initial layout', () => {
  it('has /, /local, /local/domain and /tool, owned by dom0 with perms n0', () => {
    const { dom0, dom5 } = setup();
    run([
      [dom0, 0, dir('/'), 'local|tool|'],
      [dom0, 0, dir('/local'), 'domain|'],
      [dom0, 0, dir('/local/domain'), ''],
      [dom0, 0, dir('/tool'), 'xenstored|'],
      [dom0, 0, getPerms('/'), 'n0|'],
      [dom0, 0, getPerms('/local/domain'), 'n0|'],
      [dom0, 0, getPerms('/tool'), 'n0|'],
      [dom0, 0, read('/local'), ''],
      // n0: nobody else may look
      [dom5, 0, dir('/local'), 'E:EACCES'],
    ]);
  });
});

describe('implicit creation', () => {
  it('creates missing parents with empty values; before that everyone gets ENOENT or EACCES', () => {
    const { dom0, dom5 } = setup();
    run([
      [dom0, 0, read('/a'), 'E:ENOENT'],
      // the root is n0, so for dom5 a missing /a is not its business
      [dom5, 0, read('/a'), 'E:EACCES'],
      [dom0, 0, write('/a/b', 'hello'), 'OK|'],
      [dom0, 0, read('/a'), ''],
      [dom0, 0, read('/a/b'), 'hello'],
      [dom5, 0, read('/a/b'), 'E:EACCES'],
      [dom5, 0, read('/a'), 'E:EACCES'],
    ]);
  });

  it('gives created parents the permissions of the nearest existing ancestor', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, mkdir('/a'), 'OK|'],
      [dom0, 0, setPerms('/a', 'n0', 'r5'), 'OK|'],
      [dom0, 0, write('/a/b/c/d', 'x'), 'OK|'],
      [dom0, 0, getPerms('/a/b'), 'n0|r5|'],
      [dom0, 0, getPerms('/a/b/c'), 'n0|r5|'],
      [dom0, 0, getPerms('/a/b/c/d'), 'n0|r5|'],
      [dom0, 0, read('/a/b/c'), ''],
    ]);
  });

  it('MKDIR creates parents and leaves an existing node value alone', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, mkdir('/m/n/o'), 'OK|'],
      [dom0, 0, dir('/m'), 'n|'],
      [dom0, 0, read('/m/n/o'), ''],
      [dom0, 0, write('/m/n', 'kept'), 'OK|'],
      [dom0, 0, mkdir('/m/n'), 'OK|'],
      [dom0, 0, read('/m/n'), 'kept'],
    ]);
  });
});

describe('directory order', () => {
  it('lists children in creation order, not sorted', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, write('/a/3', ''), 'OK|'],
      [dom0, 0, write('/a/1', ''), 'OK|'],
      [dom0, 0, write('/a/2/foo', ''), 'OK|'],
      [dom0, 0, dir('/a'), '3|1|2|'],
    ]);
  });

  it('appends a re-created child at the end', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, mkdir('/a/x'), 'OK|'],
      [dom0, 0, mkdir('/a/y'), 'OK|'],
      [dom0, 0, mkdir('/a/z'), 'OK|'],
      [dom0, 0, rm('/a/x'), 'OK|'],
      [dom0, 0, dir('/a'), 'y|z|'],
      [dom0, 0, mkdir('/a/x'), 'OK|'],
      [dom0, 0, dir('/a'), 'y|z|x|'],
      // rewriting a value does not move a child
      [dom0, 0, write('/a/y', 'v'), 'OK|'],
      [dom0, 0, dir('/a'), 'y|z|x|'],
    ]);
  });
});

describe('values', () => {
  it('READ returns the raw bytes, NULs included and no NUL added', () => {
    const { dom0 } = setup();
    const bytes = Buffer.from([0x00, 0xff, 0x41, 0x00]);
    expect(show(call(dom0, write('/bin', bytes)), write('/bin', bytes))).toBe('OK|');
    const o = call(dom0, read('/bin'));
    expect(o.reply.type).toBe(XS.XS_READ);
    expect(o.reply.payload).toEqual(bytes);
  });

  it('stores an empty value', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, write('/e', 'x'), 'OK|'],
      [dom0, 0, write('/e', ''), 'OK|'],
      [dom0, 0, read('/e'), ''],
    ]);
  });

  it('keeps its own copy of the value, not the request buffer', () => {
    const { dom0 } = setup();
    const req = write('/copy', 'abc');
    call(dom0, req);
    req.payload.fill(0x5a);
    expect(call(dom0, read('/copy')).reply.payload.toString()).toBe('abc');
  });
});

describe('RM', () => {
  it('removes a subtree', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, write('/a/b/c', '1'), 'OK|'],
      [dom0, 0, write('/a/b/d', '2'), 'OK|'],
      [dom0, 0, rm('/a/b'), 'OK|'],
      [dom0, 0, read('/a/b/c'), 'E:ENOENT'],
      [dom0, 0, read('/a/b'), 'E:ENOENT'],
      [dom0, 0, dir('/a'), ''],
    ]);
  });

  it('is fine with an absent node whose parent exists, but not with an absent parent', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, rm('/a'), 'OK|'],
      [dom0, 0, rm('/a/b'), 'E:ENOENT'],
      [dom0, 0, write('/a', 'hello'), 'OK|'],
      [dom0, 0, rm('/a/b'), 'OK|'],
    ]);
  });

  it('refuses to remove the root', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, rm('/'), 'E:EINVAL'],
      [dom0, 0, dir('/'), 'local|tool|'],
    ]);
  });
});

describe('relative paths', () => {
  it('are relative to /local/domain/<domid>', () => {
    const { dom0, dom5 } = setup();
    run([
      [dom0, 0, mkdir('/local/domain/5'), 'OK|'],
      [dom0, 0, setPerms('/local/domain/5', 'n0', 'b5'), 'OK|'],
      [dom5, 0, write('data/x', 'rel'), 'OK|'],
      [dom0, 0, read('/local/domain/5/data/x'), 'rel'],
      [dom5, 0, read('/local/domain/5/data/x'), 'rel'],
      [dom5, 0, dir('data'), 'x|'],
      // dom0's relative paths are under /local/domain/0
      [dom0, 0, write('name', 'Domain-0'), 'OK|'],
      [dom0, 0, read('/local/domain/0/name'), 'Domain-0'],
    ]);
  });
});

describe('path rules', () => {
  it('accepts alphanumerics and - / _ @, refuses other characters', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, write('/A-z_0/9@x', 'ok'), 'OK|'],
      [dom0, 0, write('/a b', 'x'), 'E:EINVAL'],
      [dom0, 0, write('/a.b', 'x'), 'E:EINVAL'],
      [dom0, 0, write('/a:b', 'x'), 'E:EINVAL'],
    ]);
  });

  it('refuses //, a trailing / and the empty path', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, write('/a//b', 'x'), 'E:EINVAL'],
      [dom0, 0, write('/a/', 'x'), 'E:EINVAL'],
      [dom0, 0, read(''), 'E:EINVAL'],
      [dom0, 0, write('/a/b', 'x'), 'OK|'],
      [dom0, 0, dir('/a/'), 'E:EINVAL'],
      [dom0, 0, dir('/a'), 'b|'],
    ]);
  });

  it('allows special @ paths only where they make sense', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, write('@foo', 'x'), 'E:EINVAL'],
      [dom0, 0, read('@releaseDomain'), 'E:EINVAL'],
      [dom0, 0, dir('@introduceDomain'), 'E:EINVAL'],
      [dom0, 0, getPerms('@releaseDomain'), 'n0|'],
    ]);
  });

  it('limits absolute paths to 3072 bytes', () => {
    const { dom0 } = setup();
    const p3072 = '/' + 'a'.repeat(3071);
    run([
      [dom0, 0, write(p3072, 'v'), 'OK|'],
      [dom0, 0, read(p3072), 'v'],
      [dom0, 0, write(p3072 + 'b', 'v'), 'E:EINVAL'],
    ]);
  });
});

describe('payload limit', () => {
  it('answers E2BIG to a request over 4096 bytes, and takes one of exactly 4096', () => {
    const { dom0 } = setup();
    const path = '/big';
    const fits = 'v'.repeat(4096 - path.length - 1);
    run([
      [dom0, 0, write(path, fits), 'OK|'],
      [dom0, 0, write(path, fits + 'v'), 'E:E2BIG'],
      [dom0, 0, raw(XS.XS_READ, Buffer.alloc(4097, 0x61)), 'E:E2BIG'],
    ]);
    expect(call(dom0, read(path)).reply.payload.length).toBe(fits.length);
  });
});

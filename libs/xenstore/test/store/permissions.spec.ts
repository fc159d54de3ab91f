// Permissions and ownership: each refusal beside the allowed action.
import { describe, it } from '@jest/globals';
import { XenstoreEngine } from '../../src/store/index.js';
import { dir, getPerms, mkdir, read, rm, run, setPerms, write } from './helpers.js';

function setup() {
  const e = new XenstoreEngine();
  return { e, dom0: e.connect(0), dom2: e.connect(2), dom3: e.connect(3), dom5: e.connect(5), dom7: e.connect(7) };
}

describe('GET_PERMS / SET_PERMS', () => {
  it('reads back what was set: owner and default first, then per-domain entries', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, write('/foo', ''), 'OK|'],
      [dom0, 0, setPerms('/foo', 'r5', 'w2', 'b3'), 'OK|'],
      [dom0, 0, getPerms('/foo'), 'r5|w2|b3|'],
    ]);
  });

  it('only the owner (or a privileged domain) changes permissions, even if others may write', () => {
    const { dom0, dom2, dom5 } = setup();
    run([
      [dom0, 0, write('/foo', ''), 'OK|'],
      [dom0, 0, setPerms('/foo', 'r5', 'w2', 'b3'), 'OK|'],
      [dom2, 0, write('/foo', 'dom2 may write'), 'OK|'],
      [dom2, 0, setPerms('/foo', 'r5', 'b2'), 'E:EACCES'],
      [dom5, 0, setPerms('/foo', 'r5', 'b2'), 'OK|'],
      [dom5, 0, getPerms('/foo'), 'r5|b2|'],
    ]);
  });

  it('an unprivileged owner may not give the node away (EPERM); dom0 may', () => {
    const { dom0, dom5 } = setup();
    run([
      [dom0, 0, write('/foo', ''), 'OK|'],
      [dom0, 0, setPerms('/foo', 'n5'), 'OK|'],
      [dom5, 0, setPerms('/foo', 'n2'), 'E:EPERM'],
      [dom5, 0, setPerms('/foo', 'r5'), 'OK|'],
      [dom0, 0, setPerms('/foo', 'n2'), 'OK|'],
      [dom0, 0, getPerms('/foo'), 'n2|'],
    ]);
  });

  it('refuses malformed permission lists', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, write('/foo', ''), 'OK|'],
      [dom0, 0, setPerms('/foo'), 'E:EINVAL'],
      [dom0, 0, setPerms('/foo', 'x5'), 'E:EINVAL'],
      [dom0, 0, setPerms('/foo', 'r'), 'E:EINVAL'],
      [dom0, 0, setPerms('/foo', 'r5', 'b-1'), 'E:EINVAL'],
      [dom0, 0, getPerms('/foo'), 'n0|'],
      [dom0, 0, setPerms('/foo', 'b0'), 'OK|'],
    ]);
  });
});

describe('access', () => {
  it('the default letter applies to unlisted domains; the first entry naming a domain decides for it', () => {
    const { dom0, dom5, dom7 } = setup();
    run([
      [dom0, 0, write('/pub', 'x'), 'OK|'],
      [dom0, 0, setPerms('/pub', 'r0', 'n7'), 'OK|'],
      [dom5, 0, read('/pub'), 'x'],
      [dom5, 0, write('/pub', 'y'), 'E:EACCES'],
      [dom7, 0, read('/pub'), 'E:EACCES'],
    ]);
  });

  it('w allows writing but not reading', () => {
    const { dom0, dom5 } = setup();
    run([
      [dom0, 0, write('/drop', 'x'), 'OK|'],
      [dom0, 0, setPerms('/drop', 'n0', 'w5'), 'OK|'],
      [dom5, 0, write('/drop', 'y'), 'OK|'],
      [dom5, 0, read('/drop'), 'E:EACCES'],
      [dom0, 0, read('/drop'), 'y'],
    ]);
  });

  it('the owner has full access whatever its letter says', () => {
    const { dom0, dom5, dom7 } = setup();
    run([
      [dom0, 0, write('/mine', 'x'), 'OK|'],
      [dom0, 0, setPerms('/mine', 'n5'), 'OK|'],
      [dom5, 0, read('/mine'), 'x'],
      [dom5, 0, write('/mine', 'y'), 'OK|'],
      [dom7, 0, read('/mine'), 'E:EACCES'],
      // and privileged callers bypass checks
      [dom0, 0, read('/mine'), 'y'],
    ]);
  });

  it('DIRECTORY needs read access', () => {
    const { dom0, dom5, dom7 } = setup();
    run([
      [dom0, 0, write('/d/child', ''), 'OK|'],
      [dom0, 0, setPerms('/d', 'n0', 'r5'), 'OK|'],
      [dom5, 0, dir('/d'), 'child|'],
      [dom7, 0, dir('/d'), 'E:EACCES'],
    ]);
  });

  it('RM and MKDIR of an existing node need write access', () => {
    const { dom0, dom5 } = setup();
    run([
      [dom0, 0, write('/ro/x', ''), 'OK|'],
      [dom0, 0, write('/rw/x', ''), 'OK|'],
      [dom0, 0, setPerms('/ro', 'n0', 'r5'), 'OK|'],
      [dom0, 0, setPerms('/ro/x', 'n0', 'r5'), 'OK|'],
      [dom0, 0, setPerms('/rw/x', 'n0', 'b5'), 'OK|'],
      [dom5, 0, rm('/ro/x'), 'E:EACCES'],
      [dom5, 0, mkdir('/ro/x'), 'E:EACCES'],
      [dom5, 0, mkdir('/rw/x'), 'OK|'],
      [dom5, 0, rm('/rw/x'), 'OK|'],
      [dom0, 0, read('/ro/x'), ''],
      [dom0, 0, read('/rw/x'), 'E:ENOENT'],
    ]);
  });
});

describe('a missing node', () => {
  it('is EACCES, not ENOENT, when the caller may not read its parent', () => {
    const { dom0, dom5 } = setup();
    run([
      [dom0, 0, mkdir('/secret'), 'OK|'],
      [dom0, 0, mkdir('/open'), 'OK|'],
      [dom0, 0, setPerms('/open', 'n0', 'r5'), 'OK|'],
      [dom5, 0, read('/secret/missing'), 'E:EACCES'],
      [dom5, 0, read('/open/missing'), 'E:ENOENT'],
      [dom0, 0, read('/secret/missing'), 'E:ENOENT'],
    ]);
  });

  it('is judged by the nearest existing ancestor', () => {
    const { dom0, dom5 } = setup();
    run([
      [dom0, 0, mkdir('/open'), 'OK|'],
      [dom0, 0, setPerms('/open', 'n0', 'r5'), 'OK|'],
      [dom5, 0, read('/open/a/b/c'), 'E:ENOENT'],
      [dom5, 0, read('/closed/a/b/c'), 'E:EACCES'],
    ]);
  });

  it('RM of an absent node needs write access to its parent', () => {
    const { dom0, dom5 } = setup();
    run([
      [dom0, 0, mkdir('/w'), 'OK|'],
      [dom0, 0, mkdir('/r'), 'OK|'],
      [dom0, 0, setPerms('/w', 'n0', 'w5'), 'OK|'],
      [dom0, 0, setPerms('/r', 'n0', 'r5'), 'OK|'],
      [dom5, 0, rm('/w/absent'), 'OK|'],
      [dom5, 0, rm('/r/absent'), 'E:EACCES'],
    ]);
  });
});

describe('ownership of created nodes', () => {
  it('a node created by an unprivileged domain is owned by it; its parent needs w', () => {
    const { dom0, dom5 } = setup();
    run([
      [dom0, 0, mkdir('/inbox'), 'OK|'],
      [dom0, 0, mkdir('/ro'), 'OK|'],
      [dom0, 0, setPerms('/inbox', 'n0', 'w5'), 'OK|'],
      [dom0, 0, setPerms('/ro', 'n0', 'r5'), 'OK|'],
      [dom5, 0, write('/inbox/msg/body', 'hi'), 'OK|'],
      [dom0, 0, getPerms('/inbox/msg'), 'n5|w5|'],
      [dom0, 0, getPerms('/inbox/msg/body'), 'n5|w5|'],
      [dom5, 0, read('/inbox/msg/body'), 'hi'],
      [dom5, 0, write('/ro/msg', 'hi'), 'E:EACCES'],
      [dom5, 0, mkdir('/ro/dir'), 'E:EACCES'],
    ]);
  });

  it('a node created by dom0 inherits the owner', () => {
    const { dom0, dom5 } = setup();
    run([
      [dom0, 0, mkdir('/local/domain/5'), 'OK|'],
      [dom0, 0, setPerms('/local/domain/5', 'n5'), 'OK|'],
      [dom0, 0, write('/local/domain/5/device/vbd/51712/state', '1'), 'OK|'],
      [dom0, 0, getPerms('/local/domain/5/device/vbd/51712/state'), 'n5|'],
      [dom5, 0, write('device/vbd/51712/state', '3'), 'OK|'],
    ]);
  });
});

describe('special nodes', () => {
  it('@releaseDomain has perms that only dom0 may read or change', () => {
    const { dom0, dom5 } = setup();
    run([
      [dom5, 0, getPerms('@releaseDomain'), 'E:EACCES'],
      [dom5, 0, setPerms('@releaseDomain', 'n0', 'r5'), 'E:EACCES'],
      [dom0, 0, setPerms('@releaseDomain', 'n0', 'r5'), 'OK|'],
      [dom5, 0, getPerms('@releaseDomain'), 'n0|r5|'],
      [dom0, 0, getPerms('@nosuch'), 'E:ENOENT'],
    ]);
  });
});

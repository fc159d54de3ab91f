// Domains: INTRODUCE, RELEASE, GET_DOMAIN_PATH, IS_DOMAIN_INTRODUCED, and their method forms.
import { describe, expect, it } from '@jest/globals';
import { XenstoreEngine } from '../../src/store/index.js';
import {
  begin,
  call,
  eventsFor,
  getDomainPath,
  getPerms,
  introduce,
  isIntroduced,
  mkdir,
  raw,
  read,
  release,
  run,
  setPerms,
  txEnd,
  watch,
  write,
} from './helpers.js';
import { XenstoreError } from '../../src/errors.js';

function setup() {
  const e = new XenstoreEngine();
  return { e, dom0: e.connect(0), dom5: e.connect(5) };
}

describe('GET_DOMAIN_PATH', () => {
  it('answers /local/domain/<domid>, to anyone', () => {
    const { dom0, dom5 } = setup();
    run([
      [dom0, 0, getDomainPath(7), '/local/domain/7|'],
      [dom5, 0, getDomainPath(0), '/local/domain/0|'],
      [dom5, 0, getDomainPath('007'), '/local/domain/7|'],
      [dom5, 0, getDomainPath('x'), 'E:EINVAL'],
      [dom5, 0, getDomainPath(65536), 'E:EINVAL'],
    ]);
  });
});

describe('INTRODUCE and IS_DOMAIN_INTRODUCED', () => {
  it('introduces a domain once, for privileged callers only', () => {
    const { e, dom0, dom5 } = setup();
    run([
      [dom0, 0, isIntroduced(7), 'F|'],
      [dom0, 0, isIntroduced(0), 'T|'],
      [dom5, 0, introduce(7), 'E:EACCES'],
      [dom5, 0, isIntroduced(7), 'E:EACCES'],
      [dom0, 0, introduce(7), 'OK|'],
      [dom0, 0, isIntroduced(7), 'T|'],
      [dom0, 0, introduce(7), 'OK|'],
    ]);
    expect(e.isIntroduced(7)).toBe(true);
    expect(e.isIntroduced(8)).toBe(false);
  });

  it('checks its arguments', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, raw(8, '7\x001\0'), 'E:EINVAL'],
      [dom0, 0, introduce(7, 1, 0), 'E:EINVAL'],
      [dom0, 0, raw(8, 'x\x001\x001\0'), 'E:EINVAL'],
      [dom0, 0, introduce(0x7ff0), 'E:EINVAL'],
      [dom0, 0, introduce(7, 1, 3), 'OK|'],
    ]);
  });

  it('fires @introduceDomain only the first time', () => {
    const { e, dom0 } = setup();
    const w = e.connect(0);
    call(w, watch('@introduceDomain', 'i'));
    expect(eventsFor(run([[dom0, 0, introduce(7), 'OK|']]), w)).toEqual(['@introduceDomain i']);
    expect(eventsFor(run([[dom0, 0, introduce(7), 'OK|']]), w)).toEqual([]);
  });

  it('is also a method of the toolstack side, returning events and a journal record', () => {
    const { e } = setup();
    const w = e.connect(0);
    call(w, watch('@introduceDomain', 'i', 1));
    const r = e.introduceDomain(12);
    expect(r.events).toEqual([{ connId: w.id, path: '@introduceDomain/12', token: 'i' }]);
    expect(r.journal).toEqual([{ op: 'introduce', domid: 12 }]);
    expect(e.isIntroduced(12)).toBe(true);
  });
});

describe('RELEASE', () => {
  /** Domain 5's frontend and domain 6's backend, as the toolstack lays them out. */
  function devices() {
    const s = setup();
    const { dom0 } = s;
    run([
      [dom0, 0, introduce(5), 'OK|'],
      [dom0, 0, introduce(6), 'OK|'],
      [dom0, 0, mkdir('/local/domain/5/device/vbd/51712'), 'OK|'],
      [dom0, 0, setPerms('/local/domain/5/device/vbd/51712', 'n5', 'r6'), 'OK|'],
      [dom0, 0, write('/local/domain/5/device/vbd/51712/state', '4'), 'OK|'],
      [dom0, 0, mkdir('/local/domain/6/backend/vbd/5/51712'), 'OK|'],
      [dom0, 0, setPerms('/local/domain/6/backend/vbd/5/51712', 'n6', 'r5'), 'OK|'],
      [dom0, 0, write('/local/domain/6/backend/vbd/5/51712/state', '4'), 'OK|'],
    ]);
    return s;
  }

  it('removes the nodes the domain owned, keeps others’, and strips its entries from their perms', () => {
    const { dom0 } = devices();
    run([
      [dom0, 0, release(5), 'OK|'],
      [dom0, 0, read('/local/domain/5/device/vbd/51712/state'), 'E:ENOENT'],
      [dom0, 0, read('/local/domain/5/device/vbd'), ''],
      [dom0, 0, read('/local/domain/6/backend/vbd/5/51712/state'), '4'],
      [dom0, 0, getPerms('/local/domain/6/backend/vbd/5/51712'), 'n6|'],
      [dom0, 0, isIntroduced(5), 'F|'],
    ]);
  });

  it('fires watches of others on the removed nodes and @releaseDomain, but none of its own', () => {
    const { e, dom0, dom5 } = devices();
    const tool = e.connect(0);
    run([
      [tool, 0, watch('/local/domain/5/device', 'fe'), 'OK|'],
      [tool, 0, watch('@releaseDomain', 'rel'), 'OK|'],
      [dom5, 0, watch('/local/domain/5/device/vbd/51712', 'own'), 'OK|'],
    ]);
    const o = run([[dom0, 0, release(5), 'OK|']]);
    expect(eventsFor(o, tool)).toEqual(['/local/domain/5/device/vbd/51712 fe', '@releaseDomain rel']);
    expect(eventsFor(o, dom5)).toEqual([]);
    // its watches are gone for good
    expect(eventsFor(run([[dom0, 0, write('/local/domain/5/device/vbd/51712', 'x'), 'OK|']]), dom5)).toEqual([]);
  });

  it('aborts the domain’s transactions', () => {
    const { dom0, dom5 } = devices();
    const tx = begin(dom5);
    run([
      [dom5, tx, write('device/vbd/51712/state', '5'), 'OK|'],
      [dom0, 0, release(5), 'OK|'],
      [dom5, tx, txEnd(true), 'E:ENOENT'],
    ]);
  });

  it('refuses dom0, unknown domains and unprivileged callers', () => {
    const { dom0, dom5 } = devices();
    run([
      [dom0, 0, release(0), 'E:EINVAL'],
      [dom0, 0, release(9), 'E:ENOENT'],
      [dom5, 0, release(6), 'E:EACCES'],
      [dom0, 0, release(6), 'OK|'],
      [dom0, 0, release(6), 'E:ENOENT'],
    ]);
  });

  it('as a method, throws the same errors', () => {
    const { e } = setup();
    expect(() => e.releaseDomain(9)).toThrow(XenstoreError);
    expect(() => e.releaseDomain(0)).toThrow(expect.objectContaining({ kind: 'EINVAL' }));
    e.introduceDomain(9);
    expect(e.releaseDomain(9).journal).toEqual([{ op: 'release', domid: 9 }]);
  });
});

import { formatPerm, formatPerms, parsePerm, parsePerms } from '../../src/wire/index.js';
import { XenstoreError } from '../../src/errors.js';

describe('permission strings', () => {
  it('parses each letter', () => {
    expect(parsePerm('r0')).toEqual({ perm: 'r', domid: 0 });
    expect(parsePerm('w2')).toEqual({ perm: 'w', domid: 2 });
    expect(parsePerm('b5')).toEqual({ perm: 'b', domid: 5 });
    expect(parsePerm('n1')).toEqual({ perm: 'n', domid: 1 });
    expect(parsePerm('r32751')).toEqual({ perm: 'r', domid: 32751 }); // the highest real domid
  });

  it('refuses other letters and anything but a canonical decimal domid, naming the entry', () => {
    const bad = ['x1', 'R1', '', 'r', 'r-1', 'r+1', 'r01', 'r0x5', 'r1.0', 'r 1', 'r1 ', 'r32752', 'r65535', 'r999999'];
    for (const s of bad) {
      let err: unknown;
      try {
        parsePerm(s);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(XenstoreError);
      expect([s, (err as XenstoreError).kind]).toEqual([s, 'EINVAL']);
      expect((err as XenstoreError).message).toContain(`permission ${JSON.stringify(s)}`);
    }
  });

  it('formats a perm, refusing letters and domids that are not Xen permissions', () => {
    expect(formatPerm({ perm: 'b', domid: 5 })).toBe('b5');
    expect(() => formatPerm({ perm: 'x' as 'r', domid: 5 })).toThrow(
      expect.objectContaining({ kind: 'EINVAL', message: expect.stringContaining('"x" for domid 5') }),
    );
    expect(() => formatPerm({ perm: 'r', domid: -1 })).toThrow(/-1 is not a domid/);
    expect(() => formatPerm({ perm: 'r', domid: 0x7ff0 })).toThrow(/32752 is not a domid/);
  });

  it('parses and formats whole lists, owner first, round-tripping byte for byte', () => {
    const wire = ['n5', 'r0', 'b7'];
    const perms = parsePerms(wire);
    expect(perms).toEqual([
      { perm: 'n', domid: 5 },
      { perm: 'r', domid: 0 },
      { perm: 'b', domid: 7 },
    ]);
    expect(formatPerms(perms)).toEqual(wire);
  });

  it('refuses an empty list (a node always has its owner entry) and names the bad entry of a list', () => {
    expect(() => parsePerms([])).toThrow(
      expect.objectContaining({ kind: 'EINVAL', message: expect.stringContaining('owner') }),
    );
    expect(() => formatPerms([])).toThrow(/owner/);
    expect(() => parsePerms(['n0', 'r1', 'z2'])).toThrow(
      expect.objectContaining({ kind: 'EINVAL', message: expect.stringMatching(/^entry 2: permission "z2"/) }),
    );
  });
});

// The guest's pure pieces: console ring, input lines, memory + grants, xenstore paths, the kernel loader.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GNTST, GNTTAB_NR_RESERVED_ENTRIES } from '@dominion/abi';
import { tempDir } from '@dominion/testing';
import { inputLines } from '../src/console-protocol.js';
import { ConsoleRing } from '../src/console-ring.js';
import { GuestError } from '../src/errors.js';
import { loadKernel } from '../src/kernel-loader.js';
import { GuestMemory } from '../src/memory.js';
import { resolveXsPath } from '../src/xs-path.js';

describe('ConsoleRing', () => {
  it('keeps the last N bytes', () => {
    const r = new ConsoleRing(8);
    r.append('abc');
    r.append('defgh');
    expect(r.contents().toString()).toBe('abcdefgh');
    r.append('ij');
    expect(r.contents().toString()).toBe('cdefghij');
    r.append('0123456789');
    expect(r.contents().toString()).toBe('23456789');
    expect(r.size).toBe(8);
    expect(() => new ConsoleRing(0)).toThrow(GuestError);
  });
});

describe('console input', () => {
  it('splits a message into lines; a last line without a newline counts', () => {
    expect(inputLines('uname')).toEqual(['uname']);
    expect(inputLines('a\r\nb\nc\r')).toEqual(['a', 'b', 'c']);
    expect(inputLines('\n')).toEqual(['']);
  });
});

describe('resolveXsPath', () => {
  it('resolves relative paths under the home', () => {
    expect(resolveXsPath('/local/domain/3', 'data/x')).toBe('/local/domain/3/data/x');
    expect(resolveXsPath('/local/domain/3', '/vm')).toBe('/vm');
    expect(resolveXsPath('/local/domain/3', '')).toBe('/local/domain/3');
    expect(() => resolveXsPath('/local/domain/3', '@releaseDomain')).toThrow(/special/);
  });
});

describe('GuestMemory', () => {
  it('allocates frames lazily, and grants, queries and revokes them', () => {
    const m = new GuestMemory(1024);
    expect(m.nrFrames).toBe(256);
    expect(m.allocatedKiB).toBe(0);
    m.frame(3)[0] = 9;
    expect(m.frame(3)[0]).toBe(9);
    expect(m.allocatedKiB).toBe(4);
    expect(() => m.frame(256)).toThrow(/pfn 256 is outside this guest's 256 frames/);

    const ref = m.grant(1, 3, true);
    expect(ref).toBe(GNTTAB_NR_RESERVED_ENTRIES);
    expect(m.query(ref)).toEqual({ ref, domid: 1, pfn: 3, readonly: true });
    expect(m.grants.check(1, ref, 0, 16, false).status).toBe(GNTST.GNTST_okay);
    expect(m.grants.check(1, ref, 0, 16, true).status).toBe(GNTST.GNTST_general_error);
    expect(m.grants.check(2, ref, 0, 16, false).status).toBe(GNTST.GNTST_permission_denied);
    m.revoke(ref);
    expect(m.query(ref)).toBeUndefined();
    expect(() => m.revoke(ref)).toThrow(/not granted/);
    expect(() => new GuestMemory(6)).toThrow(/multiple of 4 KiB/);
  });
});

describe('loadKernel', () => {
  it('loads builtin:minios and a user module; refuses unknown builtins and bad modules', async () => {
    expect((await loadKernel('builtin:minios')).name).toBe('minios');
    await expect(loadKernel('builtin:linux')).rejects.toThrow(/no builtin kernel "linux"/);
    const dir = tempDir();
    try {
      const good = join(dir.path, 'k.mjs');
      writeFileSync(good, `export function createKernel() { return { name: 'mine', start() {}, input() {} }; }\n`);
      expect((await loadKernel(good)).name).toBe('mine');
      const bad = join(dir.path, 'bad.mjs');
      writeFileSync(bad, 'export const x = 1;\n');
      await expect(loadKernel(bad)).rejects.toThrow(/exports neither createKernel/);
      await expect(loadKernel(join(dir.path, 'none.mjs'))).rejects.toThrow(/cannot load the module/);
    } finally {
      dir.remove();
    }
  });
});

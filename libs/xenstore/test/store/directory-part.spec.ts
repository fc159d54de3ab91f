// DIRECTORY on a directory too large for one reply, and paging it with DIRECTORY_PART as libxenstore does.
import { describe, expect, it } from '@jest/globals';
import { XENSTORE_PAYLOAD_MAX, XS } from '@dominion/abi';
import { XenstoreEngine, type XsConnection } from '../../src/store/index.js';
import { call, dir, dirPart, mkdir, run } from './helpers.js';

const NAMES = Array.from({ length: 700 }, (_, i) => `device-${String(i).padStart(4, '0')}`); // 12 bytes each with NUL

function big() {
  const e = new XenstoreEngine();
  const dom0 = e.connect(0);
  // created in reverse so that creation order differs from sorted order
  for (const n of [...NAMES].reverse()) call(dom0, mkdir(`/big/${n}`));
  return { e, dom0 };
}

interface Part {
  gen: string;
  children: Buffer;
  bytes: number;
}

function part(c: XsConnection, path: string, off: number): Part {
  const o = call(c, dirPart(path, off));
  expect(o.reply.type).toBe(XS.XS_DIRECTORY_PART);
  const p = o.reply.payload;
  const nul = p.indexOf(0);
  return { gen: p.toString('latin1', 0, nul), children: p.subarray(nul + 1), bytes: p.length };
}

/** tools/libs/store/xs.c xs_directory_part: accumulate parts until one ends with an empty string. */
function listByParts(c: XsConnection, path: string): { children: string[]; parts: Part[] } {
  const parts: Part[] = [];
  let strings = Buffer.alloc(0);
  for (;;) {
    const p = part(c, path, strings.length);
    if (parts.length > 0) expect(p.gen).toBe(parts[0].gen);
    parts.push(p);
    strings = Buffer.concat([strings, p.children]);
    if (strings.length <= 1 || strings[strings.length - 2] === 0) break;
    expect(parts.length).toBeLessThan(100);
  }
  const list = strings
    .subarray(0, strings.length - 1)
    .toString('latin1')
    .split('\0');
  return { children: list.slice(0, -1), parts };
}

describe('a directory over the payload limit', () => {
  it('answers DIRECTORY with E2BIG', () => {
    const { dom0 } = big();
    run([[dom0, 0, dir('/big'), 'E:E2BIG']]);
  });

  it('pages with DIRECTORY_PART in creation order, every part within the limit', () => {
    const { dom0 } = big();
    const { children, parts } = listByParts(dom0, '/big');
    expect(children).toEqual([...NAMES].reverse());
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts) expect(p.bytes).toBeLessThanOrEqual(XENSTORE_PAYLOAD_MAX);
    // only the last part carries the extra empty string
    for (const p of parts.slice(0, -1)) expect(p.children.subarray(-2)).not.toEqual(Buffer.from([0, 0]));
    expect(parts[parts.length - 1].children.subarray(-2)).toEqual(Buffer.from([0, 0]));
    // parts end on child boundaries
    for (const p of parts) expect(p.children[p.children.length - 1]).toBe(0);
  });

  it('changes its generation count when the children change between parts', () => {
    const { dom0 } = big();
    const first = part(dom0, '/big', 0);
    expect(part(dom0, '/big', first.children.length).gen).toBe(first.gen);
    call(dom0, mkdir('/big/late'));
    expect(part(dom0, '/big', first.children.length).gen).not.toBe(first.gen);
  });
});

describe('DIRECTORY_PART', () => {
  it('of a small or empty directory, or past the end, answers the whole list or gencnt and an empty string', () => {
    const e = new XenstoreEngine();
    const dom0 = e.connect(0);
    call(dom0, mkdir('/d/a'));
    call(dom0, mkdir('/d/bb'));
    call(dom0, mkdir('/empty'));
    const whole = call(dom0, dirPart('/d', 0)).reply.payload.toString('latin1');
    expect(whole).toMatch(/^\d+\0a\0bb\0\0$/);
    expect(call(dom0, dirPart('/d', 2)).reply.payload.toString('latin1')).toMatch(/^\d+\0bb\0\0$/);
    expect(call(dom0, dirPart('/d', 5)).reply.payload.toString('latin1')).toMatch(/^\d+\0\0$/);
    expect(call(dom0, dirPart('/empty', 0)).reply.payload.toString('latin1')).toMatch(/^\d+\0\0$/);
  });

  it('checks its arguments and permissions like DIRECTORY', () => {
    const e = new XenstoreEngine();
    const dom0 = e.connect(0);
    const dom5 = e.connect(5);
    call(dom0, mkdir('/d/a'));
    run([
      [dom0, 0, dirPart('/d', 'x'), 'E:EINVAL'],
      [dom0, 0, dir('/d'), 'a|'],
      [dom0, 0, { type: XS.XS_DIRECTORY_PART, payload: Buffer.from('/d\0') }, 'E:EINVAL'],
      [dom0, 0, dirPart('/none', 0), 'E:ENOENT'],
      [dom5, 0, dirPart('/d', 0), 'E:EACCES'],
    ]);
  });
});

import { joinNul, splitNul, splitWrite } from '../../src/wire/index.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('NUL-separated fields', () => {
  it('splits at NULs, dropping the one empty string a trailing NUL leaves', () => {
    expect(splitNul(b('/a\0tok\0'))).toEqual(['/a', 'tok']);
    expect(splitNul(b('/a\0tok'))).toEqual(['/a', 'tok']);
    expect(splitNul(b('\0'))).toEqual(['']);
    expect(splitNul(b(''))).toEqual([]);
    // DIRECTORY_PART's end marker: the extra empty string survives, only the very last NUL is dropped
    expect(splitNul(b('a\0\0'))).toEqual(['a', '']);
  });

  it('joins with every field NUL-terminated', () => {
    expect(joinNul(['/a', 'tok'])).toEqual(b('/a\0tok\0'));
    expect(joinNul([''])).toEqual(b('\0'));
    expect(joinNul([])).toEqual(b(''));
    expect(splitNul(joinNul(['x', '', 'y']))).toEqual(['x', '', 'y']);
  });

  it('splits a WRITE payload into path and raw value', () => {
    const w = splitWrite(b('/k\0v\0w'));
    expect(w?.path).toBe('/k');
    expect(w?.value).toEqual(b('v\0w'));
    expect(splitWrite(b('/k\0'))?.value.length).toBe(0);
    expect(splitWrite(b('/k'))).toBeUndefined();
  });
});

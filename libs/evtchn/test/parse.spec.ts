import { parseDecimal } from '../src/parse.js';

describe('parseDecimal (subject tokens)', () => {
  it.each([
    ['0', 0],
    ['7', 7],
    ['1023', 1023],
    ['4294967295', 4294967295],
    ['4294967296', -1],
    ['', -1],
    ['01', -1],
    ['-1', -1],
    ['1x', -1],
    ['ctl', -1],
    ['12345678901', -1],
  ])('%j -> %d', (s, want) => {
    expect(parseDecimal(`a.${s}.b`, 2, 2 + s.length)).toBe(want);
  });
});

import { getopt } from './getopt.js';

describe('getopt', () => {
  it('takes grouped flags, attached and separate arguments, and stops at the first operand', () => {
    const p = getopt(['-lc', '-d7', '-w', '512', 'dom', '-x'], 'lcd:w:');
    expect(Object.fromEntries(p.opts)).toEqual({ l: true, c: true, d: '7', w: '512' });
    expect(p.operands).toEqual(['dom', '-x']);
    expect(getopt(['--', '-l'], 'l').operands).toEqual(['-l']);
  });

  it('refuses an unknown option and a missing argument', () => {
    expect(() => getopt(['-x'], 'l')).toThrow("invalid option -- 'x'");
    expect(() => getopt(['-d'], 'd:')).toThrow("option requires an argument -- 'd'");
  });
});

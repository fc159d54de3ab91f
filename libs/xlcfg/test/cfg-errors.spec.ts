// Every way an xl.cfg can fail to parse. `xl` is what xl 4.17's libxlutil printed for the same text
// (test/golden/README.md); this library prints the same line with the column of the offending token
// added, and, where xl is one line early at a newline token, the line the newline is on.
import { PYTHON_HINT, XlCfgError, parseXlCfg } from '../src/index.js';

type Case = [text: string, xl: string, column: number, line?: number];

const CASES: Case[] = [
  // lexical errors: the bad character and the non-blanks after it
  ['memory = -1\n', "vm.cfg:1: config parsing error near `-1': lexical error", 10],
  ['memory = -\n', "vm.cfg:1: config parsing error near `-': lexical error", 10],
  ['memory = 1 -x\n', "vm.cfg:1: config parsing error near `-x': lexical error", 12],
  ['on_crash = True\n', "vm.cfg:1: config parsing error near `True': lexical error", 12],
  ['Name = "x"\n', "vm.cfg:1: config parsing error near `Name': lexical error", 1],
  ['name = "vm" @x y\n', "vm.cfg:1: config parsing error near `@x': lexical error", 13],
  ['a = 1\r\n', "vm.cfg:1: config parsing error near `\r': lexical error", 6],
  ['a = (1)\n', "vm.cfg:1: config parsing error near `(1)': lexical error", 5],
  ['kernel = "/boot/vmlinuz\n', 'vm.cfg:1: config parsing error near `"/boot/vmlinuz\': lexical error', 10],
  ['a = "x" # c\nb = "y\n', 'vm.cfg:2: config parsing error near `"y\': lexical error', 5],
  ['vcpus = 0x1F\n', "vm.cfg:1: config parsing error near `F': lexical error", 12],
  ['x = 1 # no newline', "vm.cfg:1: config parsing error near `#': lexical error", 7],
  // escapes
  [
    'a = "\\x41"\n',
    'vm.cfg:1: config parsing error near `"\\x41"\': invalid digit after backslash hexnumerical character escape in quoted string',
    5,
  ],
  [
    'a = "\\0"\n',
    'vm.cfg:1: config parsing error near `"\\0"\': invalid digit after backslash octalnumerical character escape in quoted string',
    5,
  ],
  ['a = "\\q"\n', 'vm.cfg:1: config parsing error near `"\\q"\': invalid character after backlash in quoted string', 5],
  ["a = '\\p'\n", "vm.cfg:1: config parsing error near `'\\p'': invalid character after backlash in quoted string", 5],
  // syntax errors, with bison's expected-token lists
  [
    'a = true\n',
    "vm.cfg:1: config parsing error near `true': syntax error, unexpected IDENT, expecting STRING or NUMBER or '['",
    5,
  ],
  [
    'a = \n',
    "vm.cfg:0: config parsing error near <newline>: syntax error, unexpected NEWLINE, expecting STRING or NUMBER or '['",
    5,
    1,
  ],
  [
    'a = # comment\n',
    "vm.cfg:0: config parsing error near `# comment': syntax error, unexpected NEWLINE, expecting STRING or NUMBER or '['",
    5,
    1,
  ],
  ['a = 1 2\n', "vm.cfg:1: config parsing error near `2': syntax error, unexpected NUMBER, expecting $end", 7],
  ['a = 1 b = 2\n', "vm.cfg:1: config parsing error near `b': syntax error, unexpected IDENT, expecting $end", 7],
  ['a = [1] ]\n', "vm.cfg:1: config parsing error near `]': syntax error, unexpected ']', expecting $end", 9],
  [
    '= 1\n',
    "vm.cfg:1: config parsing error near `=': syntax error, unexpected '=', expecting $end or IDENT or NEWLINE or ';'",
    1,
  ],
  [
    'a = 1\n= 2\n',
    "vm.cfg:2: config parsing error near `=': syntax error, unexpected '=', expecting $end or IDENT or NEWLINE or ';'",
    1,
  ],
  ['a 1\n', "vm.cfg:1: config parsing error near `1': syntax error, unexpected NUMBER, expecting += or '='", 3],
  ['a\n', "vm.cfg:0: config parsing error near <newline>: syntax error, unexpected NEWLINE, expecting += or '='", 2, 1],
  [
    'a = ;\n',
    "vm.cfg:1: config parsing error near `;': syntax error, unexpected ';', expecting STRING or NUMBER or '['",
    5,
  ],
  ['a = [,]\n', "vm.cfg:1: config parsing error near `,': syntax error, unexpected ',', expecting ']'", 6],
  ['a = [1,,2]\n', "vm.cfg:1: config parsing error near `,': syntax error, unexpected ',', expecting ']'", 8],
  ['a = [1 2]\n', "vm.cfg:1: config parsing error near `2': syntax error, unexpected NUMBER, expecting ']'", 8],
  [
    'a = [\n  "x"\n  "y"\n]\n',
    "vm.cfg:3: config parsing error near `\"y\"': syntax error, unexpected STRING, expecting ']'",
    3,
  ],
  ['a = [=]\n', "vm.cfg:1: config parsing error near `=': syntax error, unexpected '=', expecting ']'", 6],
  ['a = [1,=]\n', "vm.cfg:1: config parsing error near `=': syntax error, unexpected '=', expecting ']'", 8],
  ['a = [[1,]\n', "vm.cfg:1: config parsing error near `': syntax error, unexpected $end, expecting ']'", 10],
  ['a = [1\n', "vm.cfg:1: config parsing error near `': syntax error, unexpected $end, expecting ']'", 7],
  [
    'a = ',
    "vm.cfg:1: config parsing error near `': syntax error, unexpected $end, expecting STRING or NUMBER or '['",
    5,
  ],
  ['a', "vm.cfg:1: config parsing error near `': syntax error, unexpected $end, expecting += or '='", 2],
  ['a = [1', "vm.cfg:1: config parsing error near `': syntax error, unexpected $end, expecting ']'", 7],
  [
    'a += += 1\n',
    "vm.cfg:1: config parsing error near `+=': syntax error, unexpected +=, expecting STRING or NUMBER or '['",
    6,
  ],
  [
    'a = +=\n',
    "vm.cfg:1: config parsing error near `+=': syntax error, unexpected +=, expecting STRING or NUMBER or '['",
    5,
  ],
  ['a = "x" "y"\n', 'vm.cfg:1: config parsing error near `"y"\': syntax error, unexpected STRING, expecting $end', 9],
  ['a = "it"s"\n', "vm.cfg:1: config parsing error near `s': syntax error, unexpected IDENT, expecting $end", 9],
  [
    'a = [1]\n\n\nb = [\n1,\n2 3]\n',
    "vm.cfg:6: config parsing error near `3': syntax error, unexpected NUMBER, expecting ']'",
    3,
  ],
  // += between a list and a string
  ['a = "x"\na += [1]\n', 'vm.cfg:2: config parsing error near `]\': can\'t add [list] to "string" or vice versa', 8],
  ['a = [1]\na += "x"\n', 'vm.cfg:2: config parsing error near `"x"\': can\'t add [list] to "string" or vice versa', 6],
];

function thrown(text: string): XlCfgError {
  try {
    parseXlCfg(text, { source: 'vm.cfg' });
  } catch (e) {
    if (e instanceof XlCfgError) return e;
    throw e;
  }
  throw new Error(`parsed: ${JSON.stringify(text)}`);
}

describe('xl.cfg parse errors read as xl prints them, with the column', () => {
  // (not it.each: jest would take a fourth parameter for a done callback)
  for (const [text, xl, column, line] of CASES) {
    it(JSON.stringify(text), () => {
      const m = /^vm\.cfg:(\d+): (.*)$/s.exec(xl)!;
      const expected = `vm.cfg:${line ?? Number(m[1])}:${column}: ${m[2]}`;
      const e = thrown(text);
      expect(e.message).toBe(expected);
      expect(e.kind).toBe('EINVAL');
      expect(e.location).toEqual({ source: 'vm.cfg', line: line ?? Number(m[1]), column });
    });
  }

  it('the same text without the mistake parses', () => {
    // The refusals above, each beside its fix.
    expect(
      parseXlCfg('memory = 1\non_crash = "restart"\nname = "vm"\nvcpus = 0x1f\na = [1, 2]\na += [3]\n', {
        source: 'vm.cfg',
      }).toObject(),
    ).toEqual({
      memory: 1,
      on_crash: 'restart',
      name: 'vm',
      vcpus: 31,
      a: [1, 2, 3],
    });
  });

  it("carries xl's Python hint when the bad character looks like Python", () => {
    expect(thrown('memory = -1\n').hint).toBe(PYTHON_HINT);
    expect(thrown('a = (1)\n').hint).toBe(PYTHON_HINT);
    expect(thrown('on_crash = True\n').hint).toBeUndefined();
  });

  it('reports "memory exhausted" exactly where xl\'s parser stack (YYMAXDEPTH 10000) runs out', () => {
    const nest = (n: number) => `a = ${'['.repeat(n)}${']'.repeat(n)}\n`;
    expect(() => parseXlCfg(nest(4996), { source: 'vm.cfg' })).not.toThrow();
    // xl: vm.cfg:1: config parsing error near `]': memory exhausted
    expect(thrown(nest(4997)).message).toBe("vm.cfg:1:5002: config parsing error near `]': memory exhausted");
    // xl: vm.cfg:1: config parsing error near `[': memory exhausted
    expect(thrown(nest(4998)).message).toBe("vm.cfg:1:5002: config parsing error near `[': memory exhausted");
    const items = (n: number) => `a = ${'[1,'.repeat(n)}${']'.repeat(n)}\n`;
    expect(() => parseXlCfg(items(1999), { source: 'vm.cfg' })).not.toThrow();
    // xl: vm.cfg:1: config parsing error near `[': memory exhausted
    expect(thrown(items(2000)).message).toBe("vm.cfg:1:6002: config parsing error near `[': memory exhausted");
  });

  it('refuses what xl silently accepts or silently drops (see the README)', () => {
    // A bad character at the very end of the file: xl's flex never reports it and accepts `a = 1`.
    expect(thrown('a = 1 -').message).toBe("vm.cfg:1:7: config parsing error near `-': lexical error");
    // An octal escape: xl drops it from the string.
    expect(thrown('a = "\\012b"\n').message).toBe(
      'vm.cfg:1:5: config parsing error near `"\\012b"\': octal character escape in quoted string is not supported (xl drops it)',
    );
  });
});

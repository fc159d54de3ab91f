// The xl.cfg grammar construct by construct (libxlu_cfg_l.l / libxlu_cfg_y.y). The values xl itself
// reads from each text are in the comments (captured with test/golden/xlu-harness.c).
import { COMMAND_LINE, parseXlCfg, plainValue, type XlCfgNode } from '../src/index.js';

const parse = (text: string, overrides?: string[]) => parseXlCfg(text, { source: 'vm.cfg', overrides });

/** The atoms as libxlu stores them: everything is text. */
function texts(node: XlCfgNode): unknown {
  return node.type === 'list' ? node.items.map(texts) : node.text;
}

describe('xl.cfg statements', () => {
  it('reads KEY = VALUE pairs separated by newlines or semicolons, with empty statements', () => {
    const cfg = parse('name = "vm1"\nmemory = 512; vcpus = 2;;\n\n;maxmem=1024');
    expect(cfg.toObject()).toEqual({ name: 'vm1', memory: 512, vcpus: 2, maxmem: 1024 });
  });

  it('accepts a file that is empty, blank or only comments', () => {
    for (const t of ['', '\n\n', ';', '# nothing\n', '  \t\n# a\n\n# b\n']) expect(parse(t).keys()).toEqual([]);
  });

  it('ignores comments to the end of the line, also after a value', () => {
    const cfg = parse('# header\nname = "vm" # the name\n  # indented\nmemory = 64 #\n');
    expect(cfg.toObject()).toEqual({ name: 'vm', memory: 64 });
  });

  it('keys are [a-z][._0-9a-z]* (xl has no uppercase keys)', () => {
    const cfg = parse('a.b_c9 = 1\nx_1.2 = 2\n');
    expect(cfg.keys()).toEqual(['a.b_c9', 'x_1.2']);
    expect(() => parse('Name = "x"\n')).toThrow("vm.cfg:1:1: config parsing error near `Name': lexical error");
  });

  it('records where each key and value were written', () => {
    const cfg = parse('\n  memory =\t512\ndisk = [\n  "a",\n]\n');
    const mem = cfg.get('memory')!;
    expect([mem.line, mem.column, mem.node.line, mem.node.column, mem.source]).toEqual([2, 3, 2, 12, 'vm.cfg']);
    const disk = cfg.get('disk')!;
    expect([disk.line, disk.column, disk.node.line, disk.node.column]).toEqual([3, 1, 3, 8]);
    expect((disk.node as { items: XlCfgNode[] }).items[0]).toMatchObject({ line: 4, column: 3 });
  });

  it('a later assignment overrides an earlier one', () => {
    // xl: a="2"
    const cfg = parse('a = 1\nb = 0\na = 2\n');
    expect(cfg.get('a')!.value).toBe(2);
    expect(cfg.get('a')!.line).toBe(3);
    expect(cfg.keys()).toEqual(['b', 'a']);
  });

  it('the last statement needs no terminator', () => {
    expect(parse('a = 1').toObject()).toEqual({ a: 1 });
    expect(parse('a = [1,\n2]').toObject()).toEqual({ a: [1, 2] });
  });
});

describe('xl.cfg strings', () => {
  it('reads double- and single-quoted strings', () => {
    expect(parse(`a = "x y"\nb = 'p"q'\nc = ""\nd = "it's"\n`).toObject()).toEqual({
      a: 'x y',
      b: 'p"q',
      c: '',
      d: "it's",
    });
  });

  it('decodes the backslash escapes xl decodes', () => {
    // xl: a="q"x\y<newline>"
    expect(parse('a = "q\\"x\\\\y\\n"\n').get('a')!.value).toBe('q"x\\y\n');
    expect(parse(`a = '\\'\\"\\a\\b\\f\\n\\r\\t\\v'\n`).get('a')!.value).toBe('\'"\x07\b\f\n\r\t\v');
  });

  it('a string never spans a line', () => {
    expect(() => parse('a = "x\ny"\n')).toThrow('vm.cfg:1:5: config parsing error near `"x\': lexical error');
  });

  it('a NUMBER used as a string keeps its text, as xl stores it', () => {
    const cfg = parse('name = 0x10\nid = 09\n');
    expect(cfg.getString('name')).toBe('0x10');
    expect(cfg.get('id')!.value).toBe('09');
  });
});

describe('xl.cfg numbers', () => {
  it('reads decimal, 0-prefixed octal and 0x hex', () => {
    // xl: a long=31, b long=15, c long=10, d long=0
    const cfg = parse('a = 0x1f\nb = 017\nc = 10\nd = 0\n');
    expect(cfg.toObject()).toEqual({ a: 31, b: 15, c: 10, d: 0 });
    expect(['a', 'b', 'c', 'd'].map((k) => cfg.getLong(k))).toEqual([31, 15, 10, 0]);
  });

  it('keeps what is not a C literal as text: 09 and 1x lex as NUMBER but read as strings', () => {
    const cfg = parse('a = 09\nb = 1x\n');
    expect(cfg.toObject()).toEqual({ a: '09', b: '1x' });
    expect(() => cfg.getLong('a')).toThrow("vm.cfg:1:5: parameter `a' is not a valid number");
  });

  it('hex digits are lowercase only in the lexer: 0x1F is a lexical error in xl', () => {
    expect(() => parse('vcpus = 0x1F\n')).toThrow("vm.cfg:1:12: config parsing error near `F': lexical error");
  });

  it('booleans are numbers; true/false and negative numbers are not values', () => {
    expect(parse('driver_domain = 1\nnomigrate = 0\n').toObject()).toEqual({ driver_domain: 1, nomigrate: 0 });
    expect(() => parse('a = true\n')).toThrow(
      "vm.cfg:1:5: config parsing error near `true': syntax error, unexpected IDENT, expecting STRING or NUMBER or '['",
    );
    expect(() => parse('a = -1\n')).toThrow("vm.cfg:1:5: config parsing error near `-1': lexical error");
  });

  it('a quoted number reads as a number where one is needed, as in xl', () => {
    expect(parse('memory = "512"\n').getLong('memory')).toBe(512);
  });
});

describe('xl.cfg lists', () => {
  it('are heterogeneous and nest', () => {
    // xl: c=["1","y",["2"]] and a=[["1","2"],["3",["4"]]]
    const cfg = parse('c = [1, "y", [2]]\na = [[1,2],[3,[4]]]\ne = []\n');
    expect(cfg.toObject()).toEqual({
      c: [1, 'y', [2]],
      a: [
        [1, 2],
        [3, [4]],
      ],
      e: [],
    });
    expect(texts(cfg.get('c')!.node)).toEqual(['1', 'y', ['2']]);
  });

  it('allow a trailing comma and newlines anywhere between items', () => {
    // xl: a=["1","2"], b=[], c=["1","2"]
    const cfg = parse('a = [1,\n 2,\n]\nb = [\n]\nc = [\n1\n,\n\n2\n]\n');
    expect(cfg.toObject()).toEqual({ a: [1, 2], b: [], c: [1, 2] });
  });

  it('take comments between items', () => {
    const cfg = parse('disk = [ # the disks\n  "a", # first\n  "b"  # second\n]\n');
    expect(cfg.get('disk')!.value).toEqual(['a', 'b']);
  });

  it('nest as deep as xl allows (4996 empty lists) without exhausting the JS stack', () => {
    const n = 4996;
    let v: unknown = parse(`a = ${'['.repeat(n)}${']'.repeat(n)}\n`).get('a')!.value;
    let depth = 0;
    while (Array.isArray(v) && v.length > 0) {
      v = v[0];
      depth++;
    }
    expect(depth).toBe(n - 1);
  });
});

describe('+=', () => {
  it('appends to a list', () => {
    // xl: a=["1","2","3"]
    const cfg = parse('a = [1]\na += [2]\na += [[3]]\na += []\n');
    expect(cfg.get('a')!.value).toEqual([1, 2, [3]]);
    expect(cfg.get('a')!.op).toBe('+=');
  });

  it('concatenates strings, a NUMBER by its text', () => {
    // xl: a="xy", b="12"
    const cfg = parse('a = "x"\na += "y"\nb = 1\nb += 2\n');
    expect(cfg.toObject()).toEqual({ a: 'xy', b: '12' });
  });

  it('is a plain assignment when the key is new', () => {
    expect(parse('disk += ["a"]\n').get('disk')!.value).toEqual(['a']);
  });

  it('on a key read as a number is refused, as xl refuses it', () => {
    const cfg = parse('a = 1\na += 2\nb += 1\n');
    expect(() => cfg.getLong('a')).toThrow("vm.cfg:2:6: can't use += with numbers for parameter `a'");
    expect(() => cfg.getLong('b')).toThrow("vm.cfg:3:6: can't use += with numbers for parameter `b'");
    expect(cfg.getString('a')).toBe('12');
  });

  it('cannot mix a list and a string', () => {
    expect(() => parse('a = "x"\na += [1]\n')).toThrow(
      `vm.cfg:2:8: config parsing error near \`]': can't add [list] to "string" or vice versa`,
    );
  });
});

describe('command-line overrides (xl create cfg key=value …)', () => {
  it('are assignments after the file: they override and append', () => {
    const cfg = parse('name = "vm"\nmemory = 256\ndisk = ["a"]\n', ['memory=1024', 'disk+=["b"]', "name='vm2'"]);
    expect(cfg.toObject()).toEqual({ name: 'vm2', memory: 1024, disk: ['a', 'b'] });
    expect(cfg.get('memory')).toMatchObject({ source: COMMAND_LINE, line: 1 });
    expect(cfg.get('name')).toMatchObject({ source: COMMAND_LINE, line: 3 });
    expect(cfg.get('disk')!.node).toMatchObject({ line: 2 });
  });

  it('use the same value grammar: a bare word is a syntax error, as in xl', () => {
    expect(() => parse('name = "vm"\n', ['memory=1024', 'name=vm2'])).toThrow(
      "command line:2:6: config parsing error near `vm2': syntax error, unexpected IDENT, expecting STRING or NUMBER or '['",
    );
  });
});

describe('plainValue', () => {
  it('turns C literals into numbers and leaves everything else as text', () => {
    const node: XlCfgNode = {
      type: 'list',
      line: 1,
      column: 1,
      items: [
        { type: 'number', text: '0x10', line: 1, column: 2 },
        { type: 'number', text: '99999999999999999999', line: 1, column: 3 },
        { type: 'string', text: '7', line: 1, column: 4 },
      ],
    };
    expect(plainValue(node)).toEqual([16, '99999999999999999999', '7']);
  });
});

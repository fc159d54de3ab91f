// The xl.cfg grammar of tools/libs/util/libxlu_cfg_y.y, parsed so that every refusal reads as bison's
// does in xl: the same "unexpected X, expecting Y" lists (including the ones bison's default reductions
// shorten to "expecting $end" or "expecting ']'"), the same "memory exhausted" once the parser stack
// would reach YYMAXDEPTH (10000) entries, and `+=` concatenating strings or appending lists.
//
//   file: stmts | stmts assignment          stmt: assignment endstmt | endstmt
//   assignment: IDENT '=' value | IDENT "+=" value          endstmt: NEWLINE | ';'
//   value: atom | '[' nlok valuelist ']'    atom: STRING | NUMBER
//   valuelist: <empty> | values | values ',' nlok
//   values: value nlok | values ',' nlok value nlok          nlok: <empty> | nlok NEWLINE
//
// xl keeps going after an error and prints one per line; we stop at the first, which is the line xl
// prints first.
import { XlCfg } from './cfg.js';
import { CfgLexer, cfgSyntaxError, type Token, type TokenKind } from './lexer.js';
import { plainValue, type XlCfgAtom, type XlCfgList, type XlCfgNode, type XlCfgSetting } from './value.js';

export interface ParseXlCfgOptions {
  /** The name errors are reported under: the config file's path as the user gave it. */
  source: string;
  /**
   * `xl create cfg key=value …`: each is one more line after the file, parsed with the same grammar
   * (xl has no leniency: a string must be quoted, `name='vm2'`). Reported under `command line`, the
   * Nth override on line N.
   */
  overrides?: readonly string[];
}

/** The source name overrides are reported under (xl's own name for command-line specs). */
export const COMMAND_LINE = 'command line';

const YYMAXDEPTH = 10000;
const VALUE_START: readonly TokenKind[] = ['STRING', 'NUMBER', "'['"];

export function parseXlCfg(text: string, opts: ParseXlCfgOptions): XlCfg {
  const settings = new Map<string, XlCfgSetting>();
  new CfgParser(new CfgLexer(text, opts.source), settings).file();
  if (opts.overrides && opts.overrides.length > 0) {
    const extra = opts.overrides.map((o) => `${o}\n`).join('');
    new CfgParser(new CfgLexer(extra, COMMAND_LINE), settings).file();
  }
  return new XlCfg(opts.source, settings);
}

interface OpenList {
  node: XlCfgList;
  /** Bison stack size before this list's '[' was shifted. */
  base: number;
}

class CfgParser {
  private ahead: Token | undefined;

  constructor(
    private readonly lex: CfgLexer,
    private readonly settings: Map<string, XlCfgSetting>,
  ) {}

  file(): void {
    // stack: state 0, stmts
    this.push(2);
    for (;;) {
      const t = this.peek();
      if (t.kind === '$end') return;
      if (t.kind === 'NEWLINE' || t.kind === "';'") {
        this.shift(3);
        continue;
      }
      if (t.kind !== 'IDENT') throw this.unexpected(t, ['$end', 'IDENT', 'NEWLINE', "';'"]);
      this.assignment();
      const end = this.peek();
      if (end.kind === '$end') return;
      if (end.kind !== 'NEWLINE' && end.kind !== "';'") throw this.unexpected(end, ['$end']);
      this.shift(4);
    }
  }

  private assignment(): void {
    const ident = this.shift(3);
    const op = this.peek();
    if (op.kind !== "'='" && op.kind !== '+=') throw this.unexpected(op, ['+=', "'='"]);
    this.shift(4);
    const node = this.value(4);
    this.store(ident, op.kind === '+=' ? '+=' : '=', node);
  }

  /** A value whose first symbol lands at bison stack size d+1. Lists nest on an explicit stack. */
  private value(d: number): XlCfgNode {
    const first = this.peek();
    if (first.kind === 'STRING' || first.kind === 'NUMBER') return this.atom(d);
    if (first.kind !== "'['") throw this.unexpected(first, VALUE_START);
    const open: OpenList[] = [this.openList(d)];
    for (;;) {
      const cur = open[open.length - 1];
      // After '[' nlok an item lands at base+3; after `values ',' nlok` at base+6.
      const itemD = cur.node.items.length === 0 ? cur.base + 2 : cur.base + 5;
      const t = this.peek();
      if (t.kind === "'['") {
        open.push(this.openList(itemD));
        continue;
      }
      let done: XlCfgList | undefined;
      if (t.kind === 'STRING' || t.kind === 'NUMBER') {
        cur.node.items.push(this.atom(itemD));
        done = this.afterItem(cur);
      } else {
        done = this.closeList(cur);
      }
      // Unwind every list that just closed into its parent, then see what follows it there.
      while (done) {
        open.pop();
        const parent = open[open.length - 1];
        if (!parent) return done;
        parent.node.items.push(done);
        done = this.afterItem(parent);
      }
    }
  }

  private atom(d: number): XlCfgAtom {
    const t = this.shift(d + 1);
    return { type: t.kind === 'STRING' ? 'string' : 'number', text: t.value ?? t.text, line: t.line, column: t.column };
  }

  private openList(d: number): OpenList {
    const t = this.shift(d + 1);
    this.push(d + 2); // nlok
    this.newlines(d + 2);
    return { node: { type: 'list', items: [], line: t.line, column: t.column }, base: d };
  }

  /** `value nlok` then either `',' nlok` (more may follow) or the closing ']'. Returns the list if it closed. */
  private afterItem(cur: OpenList): XlCfgList | undefined {
    const nlokD = cur.node.items.length === 1 ? cur.base + 4 : cur.base + 7;
    this.push(nlokD);
    this.newlines(nlokD);
    // reduced to `values` at base+3
    const t = this.peek();
    if (t.kind !== "','") return this.closeList(cur);
    this.shift(cur.base + 4);
    this.push(cur.base + 5); // nlok
    this.newlines(cur.base + 5);
    const next = this.peek();
    if (VALUE_START.includes(next.kind)) return undefined;
    return this.closeList(cur);
  }

  private closeList(cur: OpenList): XlCfgList {
    const t = this.peek();
    if (t.kind !== "']'") throw this.unexpected(t, ["']'"]);
    if (cur.node.items.length === 0) this.push(cur.base + 3); // empty valuelist
    this.shift(cur.base + 4);
    return cur.node;
  }

  private newlines(nlokD: number): void {
    while (this.peek().kind === 'NEWLINE') this.shift(nlokD + 1);
  }

  // xlu__cfg_set_store: `+=` joins onto the key's current value, or is a plain assignment if none.
  private store(ident: Token, op: '=' | '+=', node: XlCfgNode): void {
    const key = ident.text;
    const prev = this.settings.get(key);
    let joined = node;
    if (op === '+=' && prev) {
      if ((prev.node.type === 'list') !== (node.type === 'list')) {
        const last = this.lex.last!;
        throw cfgSyntaxError(this.lex.source, last, last.text, `can't add [list] to "string" or vice versa`);
      }
      joined =
        prev.node.type === 'list' && node.type === 'list'
          ? { ...node, items: [...prev.node.items, ...node.items] }
          : {
              type: 'string',
              text: (prev.node as XlCfgAtom).text + (node as XlCfgAtom).text,
              line: node.line,
              column: node.column,
            };
    }
    this.settings.delete(key);
    this.settings.set(key, {
      key,
      op,
      node: joined,
      value: plainValue(joined),
      source: this.lex.source,
      line: ident.line,
      column: ident.column,
    });
  }

  private peek(): Token {
    this.ahead ??= this.lex.next();
    return this.ahead;
  }

  /** Shift the lookahead onto a bison stack that then holds `depth` entries. */
  private shift(depth: number): Token {
    const t = this.peek();
    this.ahead = undefined;
    this.push(depth);
    return t;
  }

  // Bison grows its stack up to YYMAXDEPTH entries and gives up when a push would fill it.
  private push(depth: number): void {
    if (depth >= YYMAXDEPTH) {
      const last = this.lex.last!;
      throw cfgSyntaxError(this.lex.source, last, last.text, 'memory exhausted');
    }
  }

  private unexpected(t: Token, expecting: readonly TokenKind[]): Error {
    return cfgSyntaxError(
      this.lex.source,
      t,
      t.text,
      `syntax error, unexpected ${t.kind}, expecting ${expecting.join(' or ')}`,
    );
  }
}

// The xl.cfg lexer, token for token as tools/libs/util/libxlu_cfg_l.l (flex) splits a file: longest
// match, lowercase-only identifiers, NUMBER = [0-9][0-9a-fx]* kept as text (strtol reads it later),
// strings that never span a line, `#` comments that end in the newline they swallow, and the
// "lexical error" that reports the bad character plus the run of non-blanks that follows it.
import { XlCfgError, formatLocation } from './errors.js';

/** Bison's names of the terminals, as xl's "unexpected X, expecting Y" messages print them. */
export type TokenKind =
  'IDENT' | 'STRING' | 'NUMBER' | 'NEWLINE' | '+=' | "'='" | "';'" | "'['" | "']'" | "','" | '$end';

export interface Token {
  kind: TokenKind;
  /** The raw text flex matched (yytext), quotes and comment included. */
  text: string;
  /** STRING: the dequoted value. */
  value?: string;
  line: number;
  column: number;
}

const IDENT = /[a-z][._0-9a-z]*/y;
const NUMBER = /[0-9][0-9a-fx]*/y;
// flex's `.` is any byte but newline; JS's `.` would also stop at \r and U+2028.
const SQ_STRING = /'(?:[^'\\\n]|\\[^\n])*'/y;
const DQ_STRING = /"(?:[^"\\\n]|\\[^\n])*"/y;
const COMMENT = /#[^\n]*\n/y;
const NON_BLANKS = /[^ \t\n]*/y;
const PUNCT: Record<string, TokenKind> = { ',': "','", '[': "'['", ']': "']'", '=': "'='", ';': "';'" };
// [+-.():] in the .l file: a Python-looking character (`,` inside that range has its own rule first).
const PYTHONISH = new Set(['+', '-', '.', '(', ')', ':']);

export class CfgLexer {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  /** The last token handed out: bison's yytext when an error is reported. */
  last: Token | undefined;

  constructor(
    private readonly text: string,
    readonly source: string,
  ) {}

  next(): Token {
    const tok = this.scan();
    this.last = tok;
    return tok;
  }

  private scan(): Token {
    const s = this.text;
    for (;;) {
      if (this.pos >= s.length) return this.endToken();
      const c = s[this.pos];
      if (c === ' ' || c === '\t') {
        this.pos++;
        continue;
      }
      if (c >= 'a' && c <= 'z') return this.match(IDENT, 'IDENT');
      if (c >= '0' && c <= '9') return this.match(NUMBER, 'NUMBER');
      const punct = PUNCT[c];
      if (punct) return this.take(1, punct);
      if (c === '+' && s[this.pos + 1] === '=') return this.take(2, '+=');
      if (c === '\n') return this.newline(1);
      if (c === '#') {
        COMMENT.lastIndex = this.pos;
        if (COMMENT.test(s)) return this.newline(COMMENT.lastIndex - this.pos);
      }
      if (c === "'" || c === '"') {
        const re = c === "'" ? SQ_STRING : DQ_STRING;
        re.lastIndex = this.pos;
        if (re.test(s)) {
          const tok = this.take(re.lastIndex - this.pos, 'STRING');
          tok.value = this.dequote(tok);
          return tok;
        }
      }
      throw this.lexicalError(PYTHONISH.has(c));
    }
  }

  private match(re: RegExp, kind: TokenKind): Token {
    re.lastIndex = this.pos;
    re.test(this.text);
    return this.take(re.lastIndex - this.pos, kind);
  }

  private take(len: number, kind: TokenKind): Token {
    const tok: Token = { kind, text: this.text.slice(this.pos, this.pos + len), ...this.here() };
    this.pos += len;
    return tok;
  }

  private newline(len: number): Token {
    const tok = this.take(len, 'NEWLINE');
    this.line++;
    this.lineStart = this.pos;
    return tok;
  }

  private here(): { line: number; column: number } {
    return { line: this.line, column: this.pos - this.lineStart + 1 };
  }

  /** xl reports the end of a file on the line of its last newline, so do we (with that newline's column). */
  private endToken(): Token {
    const s = this.text;
    if (s.endsWith('\n')) {
      const lastNl = s.length - 1;
      const prevNl = s.lastIndexOf('\n', lastNl - 1);
      return { kind: '$end', text: '', line: this.line - 1, column: lastNl - prevNl };
    }
    return { kind: '$end', text: '', ...this.here() };
  }

  // The `<lexerr>` start state: the bad character, then either a run of non-blanks, one blank, or the
  // newline. At the very end of the input flex reports nothing at all; we report the character.
  private lexicalError(likelyPython: boolean): XlCfgError {
    const at = this.here();
    NON_BLANKS.lastIndex = this.pos + 1;
    NON_BLANKS.test(this.text);
    let end = NON_BLANKS.lastIndex;
    if (end === this.pos + 1 && end < this.text.length) end++; // one blank or the newline
    return cfgSyntaxError(this.source, at, this.text.slice(this.pos, end), 'lexical error', likelyPython);
  }

  // xlu__cfgl_dequote. Its numeric escapes are broken in Xen (the decoded character is never stored,
  // and `\x` skips a digit so it always fails); we refuse them all instead of dropping characters.
  private dequote(tok: Token): string {
    const raw = tok.text.slice(1, -1);
    let out = '';
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i];
      if (c !== '\\') {
        out += c;
        continue;
      }
      const nc = raw[++i];
      const simple = ESCAPES[nc];
      if (simple !== undefined) {
        out += simple;
      } else if (nc === 'x') {
        throw this.escapeError(tok, 'invalid digit after backslash hexnumerical character escape in quoted string');
      } else if (nc >= '0' && nc <= '7') {
        // Xen strtoul(base 10)s the next three characters and fails unless that reads two or more.
        const numbuf = tok.text.slice(i + 2, i + 5);
        const read = /^[ \t\n\v\f\r]*[+-]?[0-9]+/.exec(numbuf)?.[0].length ?? 0;
        throw this.escapeError(
          tok,
          read <= 1
            ? 'invalid digit after backslash octalnumerical character escape in quoted string'
            : 'octal character escape in quoted string is not supported (xl drops it)',
        );
      } else {
        throw this.escapeError(tok, 'invalid character after backlash in quoted string');
      }
    }
    return out;
  }

  private escapeError(tok: Token, msg: string): XlCfgError {
    return cfgSyntaxError(this.source, tok, tok.text, msg, false);
  }
}

const ESCAPES: Record<string, string> = {
  '"': '"',
  "'": "'",
  '\\': '\\',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** xlu__cfg_yyerror's rendering of yytext: `x', <newline>, or `' at the end of the file. */
export function nearText(text: string): string {
  let t = text;
  if (t.endsWith('\n')) {
    t = t.slice(0, -1);
    if (t === '') return '<newline>';
  }
  return `\`${t.replace(/[ \t]+$/, '')}'`;
}

/** `file:line:col: config parsing error near `tok': msg`, xl's message with the column added. */
export function cfgSyntaxError(
  source: string,
  at: { line: number; column: number },
  text: string,
  msg: string,
  likelyPython = false,
): XlCfgError {
  const loc = { source, line: at.line, column: at.column };
  const msgLine = `${formatLocation(loc)}: config parsing error near ${nearText(text)}: ${msg}`;
  return new XlCfgError(msgLine, loc, likelyPython ? PYTHON_HINT : undefined);
}

/** What xl prints after the errors when one of them was at a Python-looking character (+ - . ( ) :). */
export const PYTHON_HINT =
  'Config file looks like it contains Python code. Arbitrary Python is no longer supported. ' +
  'See https://wiki.xen.org/wiki/PythonInXlConfig';

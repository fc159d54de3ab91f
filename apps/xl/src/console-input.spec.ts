import { ConsoleLineEditor, DEFAULT_ESCAPE, parseEscapeCharacter } from './console-input.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('parseEscapeCharacter (xenconsole -e)', () => {
  it('takes ^X as Ctrl-X and one literal character as itself; refuses the rest', () => {
    expect(parseEscapeCharacter('^]')).toBe(0x1d);
    expect(parseEscapeCharacter('^a')).toBe(0x01);
    expect(parseEscapeCharacter('^A')).toBe(0x01);
    expect(parseEscapeCharacter('~')).toBe(0x7e);
    expect(parseEscapeCharacter('ab')).toBeUndefined();
    expect(parseEscapeCharacter('')).toBeUndefined();
    expect(parseEscapeCharacter('^ab')).toBeUndefined();
  });
});

describe('ConsoleLineEditor', () => {
  it('from a pipe: whole lines go out, a partial one waits, and the rest counts at end of input', () => {
    const e = new ConsoleLineEditor(DEFAULT_ESCAPE, false);
    expect(e.feed(bytes('uname\r\nfr'))).toEqual({ send: ['uname\n'], echo: '', detach: false });
    expect(e.feed(bytes('ee\nhelp'))).toEqual({ send: ['free\n'], echo: '', detach: false });
    expect(e.end()).toBe('help\n');
    expect(e.end()).toBeUndefined();
  });

  it('the escape character detaches; lines before it still go out, text after it is dropped', () => {
    const e = new ConsoleLineEditor(DEFAULT_ESCAPE, false);
    expect(e.feed(bytes('uname\n\x1dhalt\n'))).toEqual({ send: ['uname\n'], echo: '', detach: true });
    // beside it, another escape character leaves Ctrl-] as input
    const tilde = new ConsoleLineEditor(parseEscapeCharacter('~')!, false);
    expect(tilde.feed(bytes('a\x1db\n'))).toEqual({ send: ['a\x1db\n'], echo: '', detach: false });
    expect(tilde.feed(bytes('~'))).toMatchObject({ detach: true });
  });

  it('on a raw terminal: Enter (CR) ends the line, typing is echoed, backspace edits, the echo is erased', () => {
    const e = new ConsoleLineEditor(DEFAULT_ESCAPE, true);
    expect(e.feed(bytes('unx'))).toEqual({ send: [], echo: 'unx', detach: false });
    expect(e.feed(bytes('\x7fame'))).toEqual({ send: [], echo: '\b \bame', detach: false });
    expect(e.feed(bytes('\r'))).toEqual({ send: ['uname\n'], echo: '\b\b\b\b\b\x1b[K', detach: false });
    expect(e.feed(bytes('\x03\r'))).toEqual({ send: ['\n'], echo: '', detach: false });
  });

  it('keeps a UTF-8 character split across reads whole', () => {
    const e = new ConsoleLineEditor(DEFAULT_ESCAPE, false);
    const b = bytes('é\n');
    expect(e.feed(b.subarray(0, 1)).send).toEqual([]);
    expect(e.feed(b.subarray(1)).send).toEqual(['é\n']);
  });
});

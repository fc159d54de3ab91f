// What `xl console` does with the keys it reads: the escape character (Ctrl-] by default) detaches, as with
// xenconsole; other input goes to the guest a line at a time, since the guest's console takes lines.

/** Ctrl-], xenconsole's DEFAULT_ESCAPE_CHARACTER. */
export const DEFAULT_ESCAPE = 0x1d;

/** xenconsole's parse_escape_character(): one literal character, or `^X` for Ctrl-X; anything else is refused. */
export function parseEscapeCharacter(s: string): number | undefined {
  if (s.length === 1) return s.charCodeAt(0);
  if (s.length === 2 && s[0] === '^') return s.charCodeAt(1) & 0x1f;
  return undefined;
}

export interface InputStep {
  /** Whole lines for the guest, each ending in "\n". */
  send: string[];
  /** For the terminal in raw mode: the local echo of what is being typed. */
  echo: string;
  detach: boolean;
}

const BACKSPACE = new Set(['\x7f', '\b']);

/**
 * Line assembly. On a raw terminal the typed line is echoed locally and erased on Enter, because the
 * guest's shell echoes each line it runs; from a pipe nothing is echoed.
 */
export class ConsoleLineEditor {
  private line = '';
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly escape: number,
    private readonly raw: boolean,
  ) {}

  feed(chunk: Uint8Array): InputStep {
    const at = chunk.indexOf(this.escape);
    const text = this.decoder.decode(at < 0 ? chunk : chunk.subarray(0, at), { stream: at < 0 });
    const step: InputStep = { send: [], echo: '', detach: at >= 0 };
    for (const c of text) {
      if (c === '\n' || (this.raw && c === '\r')) {
        step.send.push(`${this.line}\n`);
        if (this.raw) step.echo += this.line ? `${'\b'.repeat([...this.line].length)}\x1b[K` : '';
        this.line = '';
      } else if (!this.raw) {
        if (c !== '\r') this.line += c;
      } else if (BACKSPACE.has(c)) {
        if (this.line) {
          this.line = [...this.line].slice(0, -1).join('');
          step.echo += '\b \b';
        }
      } else if (c >= ' ') {
        this.line += c;
        step.echo += c;
      }
    }
    return step;
  }

  /** At end of input: the last line without "\n" still counts. */
  end(): string | undefined {
    const rest = this.line + this.decoder.decode();
    this.line = '';
    return rest ? `${rest}\n` : undefined;
  }
}

// The part of getopt(3) xl's SWITCH_FOREACH_OPT uses: short options, grouped flags (`-lv`), an option's
// argument attached (`-d0`) or as the next word, `--` ends the options, and options stop at the first
// operand (as with POSIXLY_CORRECT, which xl sets).

export interface Parsed {
  opts: Map<string, string | true>;
  operands: string[];
}

export class GetoptError extends Error {
  override readonly name = 'GetoptError';
  readonly kind = 'EINVAL' as const;
}

/** `spec` as getopt's optstring: a letter, followed by `:` when it takes an argument. */
export function getopt(args: readonly string[], spec: string): Parsed {
  const opts = new Map<string, string | true>();
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    for (let j = 1; j < a.length; j++) {
      const c = a[j];
      const at = spec.indexOf(c);
      if (c === ':' || at < 0) throw new GetoptError(`invalid option -- '${c}'`);
      if (spec[at + 1] !== ':') {
        opts.set(c, true);
        continue;
      }
      const rest = a.slice(j + 1);
      if (rest) opts.set(c, rest);
      else if (i + 1 < args.length) opts.set(c, args[++i]);
      else throw new GetoptError(`option requires an argument -- '${c}'`);
      break;
    }
  }
  return { opts, operands: args.slice(i) };
}

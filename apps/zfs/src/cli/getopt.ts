// POSIX getopt as zfs and zpool use it: clustered flags (-Hp), options with an argument (-o x, -ox), `--`.

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface Parsed {
  flags: Set<string>;
  /** Options that take an argument, in order (repeatable: -o a=1 -o b=2). */
  values: Array<[string, string]>;
  args: string[];
}

/** `spec`: letters, each followed by ':' if it takes an argument ("Hpo:t:"). */
export function getopt(argv: readonly string[], spec: string): Parsed {
  const takes = new Map<string, boolean>();
  for (let i = 0; i < spec.length; i++) {
    const arg = spec[i + 1] === ':';
    takes.set(spec[i], arg);
    if (arg) i++;
  }
  const out: Parsed = { flags: new Set(), values: [], args: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    for (let j = 1; j < a.length; j++) {
      const c = a[j];
      if (!takes.has(c)) throw new UsageError(`invalid option '${c}'`);
      if (!takes.get(c)) {
        out.flags.add(c);
        continue;
      }
      const rest = a.slice(j + 1);
      const v = rest !== '' ? rest : argv[++i];
      if (v === undefined) throw new UsageError(`missing argument for '${c}' option`);
      out.values.push([c, v]);
      break;
    }
  }
  out.args = argv.slice(i);
  return out;
}

export function valuesOf(p: Parsed, opt: string): string[] {
  return p.values.filter(([k]) => k === opt).map(([, v]) => v);
}

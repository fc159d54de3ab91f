// A parsed xl.cfg and the typed reads of its keys (libxlu_cfg.c's xlu_cfg_get_*): a number key reads
// its atom with strtol, so `memory = "512"` is as good as `memory = 512` in xl and here; a list where a
// single value belongs, a non-number, `+=` on a number or an out-of-bounds value is refused with xl's
// words, at the file:line:col of the value.
import { LONG_MAX, LONG_MIN, strtolFull } from './c-number.js';
import { errorAt, type XlCfgError } from './errors.js';
import type { XlCfgAtom, XlCfgList, XlCfgNode, XlCfgSetting, XlCfgValue } from './value.js';

export interface LongBounds {
  min?: number;
  max?: number;
}

export class XlCfg {
  constructor(
    /** The config file's name, as errors report it. */
    readonly source: string,
    private readonly map: ReadonlyMap<string, XlCfgSetting>,
  ) {}

  /** Every key's effective setting, in the order of the assignments that set them. */
  get settings(): ReadonlyMap<string, XlCfgSetting> {
    return this.map;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  get(key: string): XlCfgSetting | undefined {
    return this.map.get(key);
  }

  keys(): string[] {
    return [...this.map.keys()];
  }

  toObject(): Record<string, XlCfgValue> {
    return Object.fromEntries([...this.map].map(([k, s]) => [k, s.value]));
  }

  /** An error at a setting's value, `file:line:col: msg`. */
  errorAt(set: XlCfgSetting, msg: string, node: XlCfgNode = set.node): XlCfgError {
    return errorAt({ source: set.source, line: node.line, column: node.column }, msg);
  }

  /** xlu_cfg_get_string: the atom's text (a NUMBER as written), or undefined when the key is absent. */
  getString(key: string): string | undefined {
    const set = this.map.get(key);
    if (!set) return undefined;
    return this.atom(set).text;
  }

  /** xlu_cfg_get_bounded_long: strtol(base 0) of the atom, within bounds (default: a C long). */
  getLong(key: string, bounds: LongBounds = {}): number | undefined {
    const set = this.map.get(key);
    if (!set) return undefined;
    const atom = this.atom(set);
    if (set.op === '+=') throw this.errorAt(set, `can't use += with numbers for parameter \`${key}'`);
    const n = strtolFull(atom.text);
    if (n.kind === 'range' || (n.kind === 'ok' && (n.value < LONG_MIN || n.value > LONG_MAX))) {
      throw this.errorAt(set, `parameter \`${key}' could not be parsed as a number: Numerical result out of range`);
    }
    if (n.kind === 'invalid') throw this.errorAt(set, `parameter \`${key}' is not a valid number`);
    const v = n.value;
    if (bounds.min !== undefined && v < BigInt(bounds.min)) {
      throw this.errorAt(set, `parameter \`${key}': value \`${v}' is smaller than minimum bound '${bounds.min}'`);
    }
    if (bounds.max !== undefined && v > BigInt(bounds.max)) {
      throw this.errorAt(set, `parameter \`${key}': value \`${v}' is greater than maximum bound '${bounds.max}'`);
    }
    if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw this.errorAt(set, `parameter \`${key}' could not be parsed as a number: Numerical result out of range`);
    }
    return Number(v);
  }

  /** xlu_cfg_get_defbool: a number, any non-zero value being true. */
  getBool(key: string): boolean | undefined {
    const v = this.getLong(key);
    return v === undefined ? undefined : v !== 0;
  }

  /** xlu_cfg_get_list: the list, or undefined when the key is absent. */
  getList(key: string): XlCfgList | undefined {
    const set = this.map.get(key);
    if (!set) return undefined;
    if (set.node.type !== 'list') {
      throw this.errorAt(set, `parameter \`${key}' is a single value but should be a list`);
    }
    return set.node;
  }

  /**
   * A list of strings, each with where it was written (disk = [ 'SPEC', … ]). xl silently stops at the
   * first item that is not a string; we refuse it (xlu_cfg_value_get_string's "value is not a string").
   */
  getStringList(key: string): Array<{ value: string; line: number; column: number }> | undefined {
    const list = this.getList(key);
    if (!list) return undefined;
    const set = this.map.get(key)!;
    return list.items.map((item) => {
      if (item.type === 'list') throw this.errorAt(set, `parameter \`${key}': value is not a string`, item);
      return { value: item.text, line: item.line, column: item.column };
    });
  }

  private atom(set: XlCfgSetting): XlCfgAtom {
    if (set.node.type === 'list') {
      throw this.errorAt(set, `parameter \`${set.key}' is a list but should be a single value`);
    }
    return set.node;
  }
}

// What an xl.cfg assignment holds. libxlu keeps every atom as text (a NUMBER token is stored exactly as
// written and only strtol'd when a key is read as a number), so the located form keeps the text, and the
// plain form turns a NUMBER that is a C literal into a JS number.
import { strtolFull } from './c-number.js';

export interface XlCfgPosition {
  line: number;
  column: number;
}

/** A STRING (dequoted) or NUMBER (as written) atom; `+=` of two atoms makes a 'string'. */
export interface XlCfgAtom extends XlCfgPosition {
  type: 'string' | 'number';
  text: string;
}

export interface XlCfgList extends XlCfgPosition {
  type: 'list';
  items: XlCfgNode[];
}

export type XlCfgNode = XlCfgAtom | XlCfgList;

export type XlCfgValue = string | number | XlCfgValue[];

/** One effective `KEY = VALUE` (or `KEY += VALUE`): the last one for its key wins, as in xl. */
export interface XlCfgSetting {
  key: string;
  op: '=' | '+=';
  node: XlCfgNode;
  value: XlCfgValue;
  /** The file name, or `command line` for `xl create cfg key=value` overrides. */
  source: string;
  /** Where the key was written. */
  line: number;
  column: number;
}

/** `0x10` → 16, `017` → 15, but `09` (not a C literal) stays the string "09", as xl would read it. */
export function plainValue(node: XlCfgNode): XlCfgValue {
  if (node.type !== 'list') return plainAtom(node);
  // Iterative: xl accepts lists nested nearly 5000 deep, deeper than a recursive walk may go.
  const root: XlCfgValue[] = [];
  const work: Array<{ list: XlCfgList; out: XlCfgValue[] }> = [{ list: node, out: root }];
  for (let w = work.pop(); w; w = work.pop()) {
    for (const item of w.list.items) {
      if (item.type === 'list') {
        const out: XlCfgValue[] = [];
        w.out.push(out);
        work.push({ list: item, out });
      } else {
        w.out.push(plainAtom(item));
      }
    }
  }
  return root;
}

function plainAtom(atom: XlCfgAtom): string | number {
  if (atom.type === 'string') return atom.text;
  const n = strtolFull(atom.text);
  if (n.kind === 'ok' && n.value >= BigInt(Number.MIN_SAFE_INTEGER) && n.value <= BigInt(Number.MAX_SAFE_INTEGER)) {
    return Number(n.value);
  }
  return atom.text;
}

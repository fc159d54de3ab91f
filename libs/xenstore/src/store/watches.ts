// Watches indexed by their absolute path, so an event at /a/b/c looks up only /, /a, /a/b and /a/b/c
// (O(path depth), whatever the number of watches), and a removal looks up each removed node once.
import type { XsCaller } from './permissions.js';

export interface WatchOwner extends XsCaller {
  readonly id: number;
}

export interface Watch {
  readonly owner: WatchOwner;
  /** Absolute (canonical) path, or a special @ path. */
  readonly path: string;
  readonly token: string;
  /** Levels below `path` that match; -1 = any (WATCH without a depth). */
  readonly depth: number;
  /** Characters stripped from event paths: a watch set with a relative path gets relative event paths. */
  readonly prefixLen: number;
}

export class WatchRegistry {
  private readonly byPath = new Map<string, Watch[]>();

  get empty(): boolean {
    return this.byPath.size === 0;
  }

  at(path: string): readonly Watch[] | undefined {
    return this.byPath.get(path);
  }

  add(w: Watch): void {
    const list = this.byPath.get(w.path);
    if (list) list.push(w);
    else this.byPath.set(w.path, [w]);
  }

  remove(w: Watch): void {
    const list = this.byPath.get(w.path);
    if (!list) return;
    const i = list.indexOf(w);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byPath.delete(w.path);
  }
}

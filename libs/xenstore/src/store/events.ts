// Which watches fire for a change (tools/xenstored watch.c fire_watches, domain.c fire_special_watches) and
// the events they produce. Nothing is sent from here: events are collected into the request's Outcome, and
// the transport delivers them after the reply.
import type { XsPerm } from '../wire/perms.js';
import { canRead } from './permissions.js';
import type { Watch, WatchRegistry } from './watches.js';

/** One event for one connection: XS_WATCH_EVENT `path\0token\0`. */
export interface WatchFire {
  connId: number;
  path: string;
  token: string;
}

/** Events of one outcome; an identical event already pending is not repeated (special events excepted). */
export class EventList {
  readonly list: WatchFire[] = [];
  private seen: Set<string> | undefined;

  push(w: Watch, path: string): void {
    const ev = { connId: w.owner.id, path: path.slice(w.prefixLen), token: w.token };
    if (path.charCodeAt(0) !== 0x40) {
      const key = `${ev.connId}\0${ev.path}\0${ev.token}`;
      this.seen ??= new Set();
      if (this.seen.has(key)) return;
      this.seen.add(key);
    }
    this.list.push(ev);
  }
}

/** Watches on `name` or an ancestor of it, within their depth, that `allowed` lets through. */
function fireSubtree(reg: WatchRegistry, out: EventList, name: string, allowed: (w: Watch) => boolean): void {
  const visit = (path: string, level: number): void => {
    const ws = reg.at(path);
    if (!ws) return;
    for (const w of ws) if ((w.depth < 0 || level <= w.depth) && allowed(w)) out.push(w, name);
  };
  // A special node (SET_PERMS on @releaseDomain) has no ancestors: only its own watches match.
  if (name.charCodeAt(0) === 0x40) {
    visit(name, 0);
    return;
  }
  // level = how far below the visited path `name` is
  let level = name === '/' ? 0 : 1;
  for (let i = 1; i < name.length; i++) if (name.charCodeAt(i) === 0x2f) level++;
  visit('/', level);
  for (let i = name.indexOf('/', 1); i !== -1; i = name.indexOf('/', i + 1)) visit(name.slice(0, i), --level);
  if (name !== '/') visit(name, 0);
}

/**
 * A node was created, written or had its permissions changed at `name`: watches on it or an ancestor fire,
 * for watchers that may read the node (or could, under `oldPerms`, before a permission change).
 */
export function fireChange(
  reg: WatchRegistry,
  out: EventList,
  name: string,
  perms: readonly XsPerm[],
  oldPerms?: readonly XsPerm[],
): void {
  if (reg.empty) return;
  fireSubtree(reg, out, name, (w) => canRead(w.owner, perms) || (oldPerms !== undefined && canRead(w.owner, oldPerms)));
}

/**
 * A node was removed. The removed subtree's root fires like a change (watches on it and its ancestors);
 * each node below it fires only the watches set exactly on it, so their event path is the watch path.
 * Watchers must be able to read the node or its parent.
 */
export function fireRemoved(
  reg: WatchRegistry,
  out: EventList,
  name: string,
  perms: readonly XsPerm[],
  parentPerms: readonly XsPerm[],
  isRoot: boolean,
): void {
  if (reg.empty) return;
  const allowed = (w: Watch): boolean => canRead(w.owner, perms) || canRead(w.owner, parentPerms);
  if (isRoot) {
    fireSubtree(reg, out, name, allowed);
    return;
  }
  for (const w of reg.at(name) ?? []) if (allowed(w)) out.push(w, name);
}

/**
 * @introduceDomain / @releaseDomain for `domid`: watches on the bare special path without a depth get the
 * bare path; watches on it with a depth >= 1, and watches on `<special>/<domid>`, get `<special>/<domid>`.
 * Only watchers that may read the special node receive them.
 */
export function fireSpecial(
  reg: WatchRegistry,
  out: EventList,
  special: string,
  domid: number,
  perms: readonly XsPerm[],
): void {
  if (reg.empty) return;
  const withDomid = `${special}/${domid}`;
  for (const w of reg.at(special) ?? []) {
    if (!canRead(w.owner, perms)) continue;
    if (w.depth < 0) out.push(w, special);
    else if (w.depth > 0) out.push(w, withDomid);
  }
  for (const w of reg.at(withDomid) ?? []) if (canRead(w.owner, perms)) out.push(w, withDomid);
}

// POSIX record locks (fcntl F_SETLK/F_GETLK) for one filesystem, as Tlock/Tgetlock need them. The owner is
// an open handle (one per Tlopen'd fid), so two opens conflict even within one client; an owner's own
// locks never conflict with each other and are split or replaced by its new requests.
import { P9_LOCK_STATUS, P9_LOCK_TYPE } from './constants.js';
import { P9Error } from './errors.js';
import type { P9Lock } from './filesystem.js';

const EOF_END = 1n << 64n;

interface Held {
  owner: number;
  type: number;
  start: bigint;
  /** exclusive; EOF_END for "to the end of the file" */
  end: bigint;
  procId: number;
  clientId: string;
}

function rangeOf(l: P9Lock): { start: bigint; end: bigint } {
  const end = l.length === 0n ? EOF_END : l.start + l.length;
  if (end > EOF_END) throw new P9Error('EINVAL', `lock range ${l.start}+${l.length} overflows`);
  return { start: l.start, end };
}

export class P9LockTable {
  private readonly byNode = new Map<number, Held[]>();

  private conflict(node: number, owner: number, type: number, start: bigint, end: bigint): Held | undefined {
    return (this.byNode.get(node) ?? []).find(
      (h) =>
        h.owner !== owner &&
        h.start < end &&
        start < h.end &&
        (type === P9_LOCK_TYPE.WRLCK || h.type === P9_LOCK_TYPE.WRLCK),
    );
  }

  /** F_SETLK: a P9_LOCK_STATUS. A conflict is BLOCKED (the client retries for F_SETLKW). */
  set(node: number, owner: number, l: P9Lock): number {
    const { start, end } = rangeOf(l);
    if (l.type !== P9_LOCK_TYPE.UNLCK && this.conflict(node, owner, l.type, start, end)) {
      return P9_LOCK_STATUS.BLOCKED;
    }
    const kept: Held[] = [];
    for (const h of this.byNode.get(node) ?? []) {
      if (h.owner !== owner || h.end <= start || end <= h.start) {
        kept.push(h);
        continue;
      }
      // Cut the new range out of this owner's existing lock.
      if (h.start < start) kept.push({ ...h, end: start });
      if (end < h.end) kept.push({ ...h, start: end });
    }
    if (l.type !== P9_LOCK_TYPE.UNLCK) {
      kept.push({ owner, type: l.type, start, end, procId: l.procId, clientId: l.clientId });
    }
    if (kept.length) this.byNode.set(node, kept);
    else this.byNode.delete(node);
    return P9_LOCK_STATUS.SUCCESS;
  }

  /** F_GETLK: the first conflicting lock, or the request itself with type UNLCK. */
  get(node: number, owner: number, l: P9Lock): P9Lock {
    const { start, end } = rangeOf(l);
    const h = l.type === P9_LOCK_TYPE.UNLCK ? undefined : this.conflict(node, owner, l.type, start, end);
    if (!h) return { ...l, type: P9_LOCK_TYPE.UNLCK };
    return {
      type: h.type,
      start: h.start,
      length: h.end === EOF_END ? 0n : h.end - h.start,
      procId: h.procId,
      clientId: h.clientId,
    };
  }

  /** Drops every lock of an owner (its handle was released). */
  releaseOwner(node: number, owner: number): void {
    const left = (this.byNode.get(node) ?? []).filter((h) => h.owner !== owner);
    if (left.length) this.byNode.set(node, left);
    else this.byNode.delete(node);
  }
}

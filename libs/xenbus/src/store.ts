// What the handshake needs of a XenStore client: libs/xenstore's XenstoreClient satisfies it as it is, and
// so does anything else that speaks xenstored's semantics (watches fire once at registration and on every
// change at or under the path; a transaction commits all or nothing and is retried on EAGAIN).

/** The node calls the handshake makes inside a transaction. */
export interface XenbusTx {
  /** undefined for a missing node. */
  tryRead(path: string): Promise<string | undefined>;
  write(path: string, value: string): Promise<void>;
  /** Recursive; a missing node is not an error. */
  rm(path: string): Promise<void>;
}

export interface XenbusStore extends XenbusTx {
  /** Child names; throws (kind ENOENT) for a missing node. */
  directory(path: string): Promise<string[]>;
  watch(path: string, token: string, callback: (path: string, token: string) => unknown): Promise<void>;
  unwatch(path: string, token: string): Promise<void>;
  /** Runs `fn` in a transaction, committing it, and runs it again on a conflict. */
  transaction<T>(fn: (tx: XenbusTx) => Promise<T>): Promise<T>;
}

/** Keys relative to a device directory (`ring-ref`, `queue-0/event-channel`) and their values. */
export type XenbusKeys = Record<string, string>;

/** Whether a store error is "no such node" (XenstoreError and anything shaped like it). */
export function isNoEntry(e: unknown): boolean {
  return (e as { kind?: unknown } | null)?.kind === 'ENOENT';
}

/** Child names of `path`, none for a missing node. */
export async function childrenOf(store: Pick<XenbusStore, 'directory'>, path: string): Promise<string[]> {
  try {
    return await store.directory(path);
  } catch (e) {
    if (isNoEntry(e)) return [];
    throw e;
  }
}

/** Writes `keys` under `dir` (and nothing else) with the caller's transaction. */
export async function writeKeys(tx: XenbusTx, dir: string, keys: XenbusKeys): Promise<void> {
  for (const [k, v] of Object.entries(keys)) await tx.write(`${dir}/${k}`, v);
}

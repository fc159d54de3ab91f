// What both ends check in every entry of a peer's batch before trusting it: the shape, a readable id, and
// grant copies that are {ref, offset, data}. Each check returns the protocol fault to report, or the value.
import { peerValue } from './errors.js';
import { isRingIdx } from './idx.js';

type Entry = 'request' | 'response';

/** The entry's echoed id, read by the protocol's `idOf` from its payload field ('req' / 'rsp'). */
export function entryId<P>(
  what: Entry,
  field: 'req' | 'rsp',
  entry: unknown,
  idOf: (payload: P) => unknown,
): { id: unknown } | { fault: string } {
  const e = entry as Record<string, unknown> | null;
  if (typeof e !== 'object' || e === null || !Array.isArray(e.copies))
    return { fault: `${what} is not {${field}, copies[]}` };
  try {
    return { id: idOf(e[field] as P) };
  } catch (err) {
    return { fault: `${what} without a readable id: ${err instanceof Error ? err.message : peerValue(err)}` };
  }
}

/** The fault of the first grant copy that is not {ref, offset, data}, if any. */
export function copiesFault(what: Entry, id: unknown, copies: readonly unknown[]): string | undefined {
  for (const c of copies) {
    const copy = c as { ref?: unknown; offset?: unknown; data?: unknown } | null;
    if (
      typeof copy !== 'object' ||
      copy === null ||
      !isRingIdx(copy.ref) ||
      !Number.isSafeInteger(copy.offset) ||
      !(copy.data instanceof Uint8Array)
    ) {
      return `${what} id ${peerValue(id)}: grant copy is not {ref, offset, data}`;
    }
  }
  return undefined;
}

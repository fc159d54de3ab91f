// Dataset names as zfs(8) spells them: "pool/child/grandchild", a snapshot "dataset@snap". Components are
// letters, digits and _ - : . (zfs also allows spaces; we do not, to keep names shell- and subject-safe).
import { ZfsError } from './errors.js';

const COMPONENT = /^[A-Za-z0-9_.:-]+$/;
const MAX_NAME = 255;

export interface ParsedName {
  readonly dataset: string;
  readonly snapshot: string | undefined;
  readonly pool: string;
  readonly parent: string | undefined;
}

/** zpool(8): a letter first; "log" and names starting with mirror, raidz, draid or spare are reserved. */
export function validPoolName(name: string): boolean {
  return (
    /^[A-Za-z][A-Za-z0-9_.:-]*$/.test(name) &&
    name.length <= MAX_NAME &&
    name !== 'log' &&
    !/^(mirror|raidz|draid|spare)/.test(name)
  );
}

export function parseName(name: string): ParsedName {
  if (name.length === 0 || name.length > MAX_NAME)
    throw new ZfsError('EINVAL', `invalid dataset name '${name}': length`);
  const at = name.indexOf('@');
  const dataset = at < 0 ? name : name.slice(0, at);
  const snapshot = at < 0 ? undefined : name.slice(at + 1);
  const parts = dataset.split('/');
  for (const p of parts) {
    if (!COMPONENT.test(p)) throw new ZfsError('EINVAL', `invalid dataset name '${name}': bad component '${p}'`);
  }
  if (snapshot !== undefined && !COMPONENT.test(snapshot)) {
    throw new ZfsError('EINVAL', `invalid snapshot name '${name}': bad component '${snapshot}'`);
  }
  return {
    dataset,
    snapshot,
    pool: parts[0],
    parent: parts.length > 1 ? parts.slice(0, -1).join('/') : undefined,
  };
}

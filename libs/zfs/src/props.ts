// Dataset properties with zfs(8)'s semantics: a property is set locally on a dataset, inherited from the
// nearest ancestor that sets it (if it is inheritable), or has its default; `zfs get` reports the value
// and that source. Values are validated and stored normalised (sizes as byte counts) in the dataset's
// `local` map in the MOS. Read-only statistics (used, available, ...) are reported with source '-'.
import { parseChecksumProperty } from './checksum/index.js';
import { parseCompressionProperty } from './compression/index.js';
import { ZfsError } from './errors.js';

export type PropertySource = 'local' | 'default' | '-' | `inherited from ${string}`;

export interface PropertyValue {
  readonly property: string;
  /** As zfs get -p prints it: exact numbers, 'none', 'on', ... */
  readonly value: string;
  readonly source: PropertySource;
}

type Kind = 'filesystem' | 'volume';

interface PropertyDef {
  readonly inherit: boolean;
  readonly default: string;
  readonly types: readonly Kind[];
  /** The stored form, or a thrown EINVAL/EOPNOTSUPP. */
  normalise(value: string): string;
}

const SUFFIX: Readonly<Record<string, number>> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 };

/** A size as zfs(8) takes it: 1073741824, 1G, 1.5G, 512K, 10MB, 2TiB. */
export function parseSize(value: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGTP]?)(?:i?B)?$/i.exec(value.trim());
  if (m === null) throw new ZfsError('EINVAL', `bad size '${value}' for ${what}`);
  const n = Math.round(Number(m[1]) * SUFFIX[m[2].toUpperCase()]);
  if (!Number.isSafeInteger(n)) throw new ZfsError('EINVAL', `size '${value}' for ${what} is too large`);
  return n;
}

const sizeOrNone =
  (what: string) =>
  (value: string): string =>
    value === 'none' || value === '0' ? 'none' : String(parseSize(value, what));

const onOff =
  (what: string) =>
  (value: string): string => {
    if (value !== 'on' && value !== 'off') throw new ZfsError('EINVAL', `bad value '${value}' for ${what} (on|off)`);
    return value;
  };

const PROPERTIES: Readonly<Record<string, PropertyDef>> = {
  checksum: {
    inherit: true,
    default: 'on',
    types: ['filesystem', 'volume'],
    normalise: (v) => (parseChecksumProperty(v), v),
  },
  compression: {
    inherit: true,
    default: 'off',
    types: ['filesystem', 'volume'],
    normalise: (v) => (parseCompressionProperty(v), v),
  },
  atime: { inherit: true, default: 'on', types: ['filesystem'], normalise: onOff('atime') },
  readonly: { inherit: true, default: 'off', types: ['filesystem'], normalise: onOff('readonly') },
  snapdir: {
    inherit: true,
    default: 'hidden',
    types: ['filesystem'],
    normalise: (v) => {
      if (v !== 'hidden' && v !== 'visible')
        throw new ZfsError('EINVAL', `bad value '${v}' for snapdir (hidden|visible)`);
      return v;
    },
  },
  recordsize: {
    inherit: true,
    default: String(16 * 1024),
    types: ['filesystem'],
    normalise: (v) => {
      const n = parseSize(v, 'recordsize');
      if (n < 4096 || n > 128 * 1024 || (n & (n - 1)) !== 0)
        throw new ZfsError('EINVAL', `bad recordsize '${v}': a power of two from 4K to 128K`);
      return String(n);
    },
  },
  quota: { inherit: false, default: 'none', types: ['filesystem'], normalise: sizeOrNone('quota') },
  refquota: { inherit: false, default: 'none', types: ['filesystem'], normalise: sizeOrNone('refquota') },
  reservation: {
    inherit: false,
    default: 'none',
    types: ['filesystem', 'volume'],
    normalise: sizeOrNone('reservation'),
  },
  refreservation: {
    inherit: false,
    default: 'none',
    types: ['filesystem', 'volume'],
    normalise: sizeOrNone('refreservation'),
  },
};

/** Settable properties, in the order zfs get all lists them. */
export const SETTABLE_PROPERTIES: readonly string[] = Object.keys(PROPERTIES);

export interface PropertyHolder {
  readonly name: string;
  readonly type: Kind;
  readonly local: Readonly<Record<string, string>>;
}

/** Validates `prop=value` for a dataset of `type`; returns the value to store. */
export function normaliseProperty(type: Kind, prop: string, value: string, dataset: string): string {
  const def = PROPERTIES[prop] as PropertyDef | undefined;
  if (def === undefined)
    throw new ZfsError('EINVAL', `cannot set property for '${dataset}': invalid property '${prop}'`);
  if (!def.types.includes(type))
    throw new ZfsError(
      'EINVAL',
      `cannot set property for '${dataset}': '${prop}' does not apply to datasets of this type`,
    );
  return def.normalise(value);
}

export function isInheritable(prop: string): boolean {
  return (PROPERTIES[prop] as PropertyDef | undefined)?.inherit ?? false;
}

/** Whether a settable property applies to datasets of `type` (zfs get all lists only those). */
export function appliesTo(prop: string, type: Kind): boolean {
  return (PROPERTIES[prop] as PropertyDef | undefined)?.types.includes(type) ?? false;
}

export function isSettable(prop: string): boolean {
  return prop in PROPERTIES;
}

/** The effective value of a settable property: local, inherited along `ancestry` (self first), or default. */
export function resolveProperty(ancestry: readonly PropertyHolder[], prop: string): PropertyValue {
  const def = PROPERTIES[prop] as PropertyDef | undefined;
  if (def === undefined) throw new ZfsError('EINVAL', `invalid property '${prop}'`);
  const [self, ...up] = ancestry;
  const own = self.local[prop];
  if (own !== undefined) return { property: prop, value: own, source: 'local' };
  if (def.inherit) {
    for (const a of up) {
      const v = a.local[prop];
      if (v !== undefined) return { property: prop, value: v, source: `inherited from ${a.name}` };
    }
  }
  return { property: prop, value: def.default, source: 'default' };
}

/** A size property's bytes (0 for none). */
export function sizeValue(p: PropertyValue): number {
  return p.value === 'none' ? 0 : Number(p.value);
}

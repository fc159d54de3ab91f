// The disk spec of xl-disk-configuration(5), scanned rule for rule as tools/libs/util/libxlu_disk_l.l
// (flex: the longest match wins, the earlier rule on a tie, and a trailing context `r/s` counts `s`
// towards the length but consumes only `r`). Key=value parameters and flags may come in any order;
// bare words fill target, format, vdev, access in turn; `target=` swallows the rest of the spec,
// commas included; the deprecated `phy:`, `tap:aio:`, `raw:`, `qcow2:`, `iscsi:` … prefixes are taken
// as xl takes them. Errors read as xlu__disk_err prints them, with where the spec was written.
import { vdevToDevice } from '@dominion/blkif';
import { XlCfgError, formatLocation, type XlCfgLocation } from './errors.js';

export type DiskFormat = 'raw' | 'qcow' | 'qcow2' | 'vhd' | 'qed' | 'empty';
export type DiskBackendType = 'phy' | 'qdisk' | 'standalone' | 'tap';
export type DiskSpecification = 'xen' | 'virtio';

export interface DiskSpec {
  /** The spec as written (joined with spaces when given as several words). */
  spec: string;
  /** The path (pdev_path); undefined or '' for an empty cdrom drive. */
  target?: string;
  format: DiskFormat;
  vdev: string;
  /** The virtual device number (XenStore `virtual-device`): xvda = 51712. */
  devid: number;
  readwrite: boolean;
  isCdrom: boolean;
  removable: boolean;
  /** `backend=`: the driver domain's name (dom0 when absent). */
  backend?: string;
  backendtype?: DiskBackendType;
  /** `script=` (or `block-<x>` from a deprecated `iscsi:`/`nbd:`/`enbd:`/`drbd:` prefix). */
  script?: string;
  directIoSafe: boolean;
  /** `discard`/`no-discard`; undefined means the default, discard. */
  discardEnable?: boolean;
  /** `trusted`/`untrusted`; undefined means the default, trusted. */
  trusted?: boolean;
  specification?: DiskSpecification;
  /** `grant_usage=0|1`; undefined means libxl decides. */
  grantUsage?: boolean;
  /**
   * Dominion's `size=` (not xl's): the size blkback creates a missing image with, bytes or a number with
   * K/M/G/T (binary units); the toolstack writes it as the backend's `size` key.
   */
  size?: string;
  /** COLO's unstable keys, kept as xl keeps them. */
  colo?: { enable?: boolean; host?: string; port?: number; export?: string; activeDisk?: string; hiddenDisk?: string };
}

export interface DiskParseOptions {
  /** Where the spec was written; `command line` (xl block-attach) when absent. */
  where?: XlCfgLocation;
}

type Ctx = Mutable & { spec: string; where: XlCfgLocation; hadDeprPrefix: boolean; accessSet: boolean };
interface Mutable {
  target?: string;
  vdev?: string;
  format?: DiskFormat;
  backend?: string;
  backendtype?: DiskBackendType;
  script?: string;
  specification?: DiskSpecification;
  readwrite: boolean;
  isCdrom: boolean;
  directIoSafe: boolean;
  discardEnable?: boolean;
  trusted?: boolean;
  grantUsage?: boolean;
  size?: string;
  colo?: DiskSpec['colo'];
}

/** Parse one disk spec, or (xl block-attach) several words that together describe one disk. */
export function parseDiskSpec(specs: string | readonly string[], opts: DiskParseOptions = {}): DiskSpec {
  const list = typeof specs === 'string' ? [specs] : specs;
  const where = opts.where ?? { source: 'command line' };
  const ctx: Ctx = {
    spec: '',
    where,
    hadDeprPrefix: false,
    accessSet: false,
    readwrite: true,
    isCdrom: false,
    directIoSafe: false,
  };
  for (const spec of list) {
    ctx.spec = spec;
    scan(ctx, spec);
  }
  // xlu_disk_parse's epilogue
  let format: DiskFormat = ctx.format ?? 'raw';
  let removable = false;
  if (ctx.isCdrom) {
    removable = true;
    ctx.readwrite = false;
    if (!ctx.target) format = 'empty';
  }
  if (ctx.vdev === undefined) throw diskError(ctx, undefined, 'no vdev specified');
  if (ctx.target === undefined && !removable)
    throw diskError(ctx, undefined, 'no target specified (and device not removable)');
  // libxl refuses these later ("Invalid or unsupported virtual disk identifier"); we refuse them here.
  const dev = vdevToDevice(ctx.vdev);
  if (!dev) throw diskError(ctx, ctx.vdev, 'Invalid or unsupported virtual disk identifier');
  const out: DiskSpec = {
    spec: list.join(' '),
    format,
    vdev: ctx.vdev,
    devid: dev.devid,
    readwrite: ctx.readwrite,
    isCdrom: ctx.isCdrom,
    removable,
    directIoSafe: ctx.directIoSafe,
  };
  if (ctx.target !== undefined) out.target = ctx.target;
  for (const k of [
    'backend',
    'backendtype',
    'script',
    'discardEnable',
    'trusted',
    'specification',
    'grantUsage',
    'size',
    'colo',
  ] as const) {
    if (ctx[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = ctx[k];
  }
  return out;
}

function diskError(ctx: Ctx, erroneous: string | undefined, message: string): XlCfgError {
  const near = erroneous === undefined ? '' : `: near \`${erroneous}'`;
  return new XlCfgError(
    `${formatLocation(ctx.where)}: config parsing error in disk specification: ${message}${near} in \`${ctx.spec}'`,
    ctx.where,
  );
}

// ---- the rules of libxlu_disk_l.l, in order ----

interface Rule {
  /** The whole pattern, trailing context included (decides the longest match). */
  re: RegExp;
  /** For `r/s` rules: `r`, the part that is consumed. */
  head?: RegExp;
  act: (ctx: Ctx, text: string) => void;
}

const strip = (text: string, delim: string) => (text.endsWith(delim) ? text.slice(0, -1) : text);
const fromEquals = (text: string) => strip(text, ',').slice(text.indexOf('=') + 1);
const nothing = () => undefined;

const rules: Rule[] = [
  { re: /[ \t\n]+(?:[^ \t\n][^\n]*)?/y, head: /[ \t\n]+/y, act: nothing },
  { re: /format=[^,]*,?/y, act: (c, t) => setFormat(c, fromEquals(t)) },
  { re: /cdrom,?/y, act: (c) => void (c.isCdrom = true) },
  { re: /devtype=cdrom,?/y, act: (c) => void (c.isCdrom = true) },
  { re: /devtype=disk,?/y, act: (c) => void (c.isCdrom = false) },
  { re: /devtype=[^,]*,?/y, act: (c, t) => fail(c, t, 'unknown value for type') },
  { re: /access=[^,]*,?/y, act: (c, t) => setAccess(c, fromEquals(t)) },
  { re: /backend=[^,]*,?/y, act: (c, t) => saveString(c, 'backend', 'backend', fromEquals(t)) },
  { re: /backendtype=[^,]*,?/y, act: (c, t) => setBackendType(c, fromEquals(t)) },
  { re: /specification=[^,]*,?/y, act: (c, t) => setSpecification(c, fromEquals(t)) },
  { re: /vdev=[^,]*,?/y, act: (c, t) => saveString(c, 'vdev', 'vdev', fromEquals(t)) },
  { re: /script=[^,]*,?/y, act: (c, t) => saveString(c, 'script', 'script', fromEquals(t)) },
  { re: /direct-io-safe,?/y, act: (c) => void (c.directIoSafe = true) },
  { re: /discard,?/y, act: (c) => void (c.discardEnable = true) },
  { re: /no-discard,?/y, act: (c) => void (c.discardEnable = false) },
  // COLO's settings are unstable in Xen too; accepted so that specs xl accepts parse here.
  { re: /colo,?/y, act: (c) => void ((c.colo ??= {}).enable = true) },
  { re: /no-colo,?/y, act: (c) => void ((c.colo ??= {}).enable = false) },
  { re: /colo-host=[^,]*,?/y, act: (c, t) => saveColo(c, 'colo-host', 'host', fromEquals(t)) },
  { re: /colo-port=[^,]*,?/y, act: (c, t) => setColoPort(c, fromEquals(t)) },
  { re: /colo-export=[^,]*,?/y, act: (c, t) => saveColo(c, 'colo-export', 'export', fromEquals(t)) },
  { re: /active-disk=[^,]*,?/y, act: (c, t) => saveColo(c, 'active-disk', 'activeDisk', fromEquals(t)) },
  { re: /hidden-disk=[^,]*,?/y, act: (c, t) => saveColo(c, 'hidden-disk', 'hiddenDisk', fromEquals(t)) },
  { re: /trusted,?/y, act: (c) => void (c.trusted = true) },
  { re: /untrusted,?/y, act: (c) => void (c.trusted = false) },
  { re: /grant_usage=1,?/y, act: (c) => void (c.grantUsage = true) },
  { re: /grant_usage=0,?/y, act: (c) => void (c.grantUsage = false) },
  { re: /size=[^,]*,?/y, act: (c, t) => setSize(c, fromEquals(t)) },
  { re: /target=[^\n]*/y, act: (c, t) => saveString(c, 'target', 'target', fromEquals(t)) },
  // xl's pattern takes one character of the value: `foo=xyz` is reported near `foo=x`.
  { re: /[a-z][-a-z0-9]*=[^,],?/y, act: (c, t) => fail(c, t, 'unknown parameter') },
  {
    re: /(?:raw|qcow2?|vhd):[^\n]*/y,
    head: /(?:raw|qcow2?|vhd):/y,
    act: (c, t) => {
      c.hadDeprPrefix = true;
      setFormat(c, strip(t, ':'));
    },
  },
  {
    re: /(?:iscsi|e?nbd|drbd):[^\n]*/y,
    head: /(?:iscsi|e?nbd|drbd):/y,
    act: (c, t) => {
      c.hadDeprPrefix = true;
      saveString(c, 'script', 'script', `block-${strip(t, ':')}`);
    },
  },
  ...['tapdisk', 'tap2?', 'aio', 'ioemu', 'file', 'phy'].map((p): Rule => ({
    re: new RegExp(`${p}:[^\\n]*`, 'y'),
    head: new RegExp(`${p}:`, 'y'),
    act: (c) => void (c.hadDeprPrefix = true),
  })),
  {
    re: /[a-z][a-z0-9]*:(?:[^a-z0-9][^\n]*)?/y,
    head: /[a-z][a-z0-9]*:/y,
    act: (c, t) => fail(c, t, 'unknown deprecated disk prefix'),
  },
  { re: /[^=,]*,?/y, act: positional },
];

/** What the longest rule matched at `pos`: the rule and how much of the input it consumes. */
function longest(spec: string, pos: number): { rule: Rule; len: number } | undefined {
  let best: { rule: Rule; len: number; full: number } | undefined;
  for (const rule of rules) {
    rule.re.lastIndex = pos;
    if (!rule.re.test(spec)) continue;
    const full = rule.re.lastIndex - pos;
    if (full === 0 || (best && full <= best.full)) continue;
    let len = full;
    if (rule.head) {
      rule.head.lastIndex = pos;
      rule.head.test(spec);
      len = rule.head.lastIndex - pos;
    }
    best = { rule, len, full };
  }
  return best;
}

function scan(ctx: Ctx, spec: string): void {
  let pos = 0;
  while (pos < spec.length) {
    const m = longest(spec, pos);
    if (!m) {
      // flex's `.` then `<LEXERR>.*`: only `=` gets here. (At the end of a line xl's scanner jams and
      // exits, at the end of the spec it says nothing; both are reported as bad syntax here.)
      const eol = spec.indexOf('\n', pos);
      fail(ctx, spec.slice(pos, eol === -1 ? undefined : Math.max(eol, pos + 1)), 'bad disk syntax');
    }
    m.rule.act(ctx, spec.slice(pos, pos + m.len));
    pos += m.len;
  }
}

function fail(ctx: Ctx, erroneous: string | undefined, message: string): never {
  throw diskError(ctx, erroneous, message);
}

function positional(ctx: Ctx, raw: string): void {
  const text = strip(raw, ',');
  if (ctx.target === undefined) {
    saveString(ctx, 'target', 'target', text);
  } else if (!ctx.hadDeprPrefix && ctx.format === undefined) {
    if (ctx.target === '' && vdevAndDevtype(ctx, text)) ctx.format = 'empty';
    else setFormat(ctx, text);
  } else if (ctx.vdev === undefined) {
    if (!vdevAndDevtype(ctx, text)) saveString(ctx, 'vdev', 'vdev', text);
  } else if (!ctx.accessSet) {
    ctx.accessSet = true;
    setAccess(ctx, text);
  } else {
    fail(ctx, text, 'too many positional parameters');
  }
}

/** The deprecated `<vdev>:<devtype>` positional (hdc:cdrom). */
function vdevAndDevtype(ctx: Ctx, text: string): boolean {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return false;
  saveString(ctx, 'vdev', 'vdev', text.slice(0, colon));
  const type = text.slice(colon + 1);
  if (type === 'cdrom') ctx.isCdrom = true;
  else if (type === 'disk') ctx.isCdrom = false;
  else fail(ctx, type, 'unknown deprecated type');
  return true;
}

/** savestring: each string parameter once, though an empty value may be given again. */
function saveString(ctx: Ctx, what: string, field: 'target' | 'vdev' | 'backend' | 'script', value: string): void {
  const cur = ctx[field];
  if (cur !== undefined && cur !== '') fail(ctx, value, `${what} respecified`);
  ctx[field] = value;
}

function saveColo(ctx: Ctx, what: string, field: 'host' | 'export' | 'activeDisk' | 'hiddenDisk', value: string): void {
  const colo = (ctx.colo ??= {});
  const cur = colo[field];
  if (cur !== undefined && cur !== '') fail(ctx, value, `${what} respecified`);
  colo[field] = value;
}

/** DSET: an enum may be given again only with the same value. */
function dset<K extends 'format' | 'backendtype' | 'specification'>(
  ctx: Ctx,
  field: K,
  member: string,
  str: string,
  v: NonNullable<Ctx[K]>,
): void {
  if (ctx[field] !== undefined && ctx[field] !== v) fail(ctx, str, `${member} respecified`);
  ctx[field] = v;
}

function setFormat(ctx: Ctx, str: string): void {
  const v = str === '' ? 'raw' : str;
  if (!['raw', 'qcow', 'qcow2', 'vhd', 'empty', 'qed'].includes(v)) fail(ctx, str, 'unknown value for format');
  dset(ctx, 'format', 'format', str, v as DiskFormat);
}

function setAccess(ctx: Ctx, str: string): void {
  if (str === 'r' || str === 'ro') ctx.readwrite = false;
  else if (str === 'rw' || str === 'w' || str === '') ctx.readwrite = true;
  else fail(ctx, str, 'unknown value for access');
}

function setBackendType(ctx: Ctx, str: string): void {
  if (!['phy', 'tap', 'qdisk', 'standalone'].includes(str)) fail(ctx, str, 'unknown value for backendtype');
  dset(ctx, 'backendtype', 'backend', str, str as DiskBackendType);
}

function setSpecification(ctx: Ctx, str: string): void {
  if (str !== 'xen' && str !== 'virtio') fail(ctx, str, 'unknown value for specification');
  dset(ctx, 'specification', 'specification', str, str);
}

function setSize(ctx: Ctx, str: string): void {
  if (!/^[0-9]+[KMGT]?$/.test(str)) fail(ctx, str, 'unknown value for size (bytes, or a number with K, M, G or T)');
  if (ctx.size !== undefined && ctx.size !== str) fail(ctx, str, 'size respecified');
  ctx.size = str;
}

// atoi(): leading blanks, a sign, then digits; anything that reads as 0 is refused.
function setColoPort(ctx: Ctx, str: string): void {
  const m = /^[ \t\n\v\f\r]*([+-]?[0-9]+)/.exec(str);
  const port = m ? Number.parseInt(m[1], 10) : 0;
  if (!port) fail(ctx, str, 'unknown value for colo_port');
  (ctx.colo ??= {}).port = port;
}

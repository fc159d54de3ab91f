// The typed domain configuration a toolstack builds from an xl.cfg, key by key as xl's
// parse_config_data (tools/xl/xl_parse.c) and libxl's defaults read them, with xl's messages. Device
// lists are kept both as written and parsed. Keys xl would ignore are accepted and reported as warnings.
import type { XlCfg } from './cfg.js';
import { parseDiskSpec, type DiskSpec } from './disk.js';
import { errorAt, type XlCfgLocation } from './errors.js';
import { HVM_KEYS, hvmConfig, type HvmConfig } from './hvm.js';
import { parseP9Spec, type P9Spec } from './p9.js';
import { parseXlCfg, type ParseXlCfgOptions } from './parser.js';
import { parseUuid } from './uuid.js';
import { parseVifSpec, type VifSpec } from './vif.js';
import { parseVtpmSpec, type VtpmSpec } from './vtpm.js';
import { XL_CFG_KEYS } from './xl-keys.js';

export type DomainType = 'pv' | 'pvh' | 'hvm';

/** libxl_action_on_shutdown, by xl's names. */
export const SHUTDOWN_ACTIONS = [
  'destroy',
  'restart',
  'rename-restart',
  'preserve',
  'coredump-destroy',
  'coredump-restart',
  'soft-reset',
] as const;
export type ShutdownAction = (typeof SHUTDOWN_ACTIONS)[number];

/** xl.cfg(5)'s defaults for what happens when the domain stops for each reason. */
export const SHUTDOWN_DEFAULTS = {
  on_poweroff: 'destroy',
  on_reboot: 'restart',
  on_watchdog: 'destroy',
  on_crash: 'destroy',
  on_soft_reset: 'soft-reset',
} as const satisfies Record<string, ShutdownAction>;

export const CPU_WEIGHT_DEFAULT = 256;
/** libxl's memory when neither memory nor maxmem is given (libxl_create.c). */
export const MEMORY_DEFAULT_MIB = 32;
/** libxl's default event-channel limit (libxl_create.c). */
export const MAX_EVENT_CHANNELS_DEFAULT = 1023;

export interface DomainConfig {
  name: string;
  /** Lowercase; undefined means the toolstack generates one. */
  uuid?: string;
  type: DomainType;
  /** MiB the domain starts with (its balloon target). */
  memory: number;
  /** MiB it may ever have (static-max); memory < maxmem starts it pre-ballooned. */
  maxmem: number;
  vcpus: number;
  maxvcpus: number;
  cpuWeight: number;
  /** Percent of one CPU; 0 = no cap. */
  cap: number;
  kernel?: string;
  ramdisk?: string;
  bootloader?: string;
  root?: string;
  extra?: string;
  /** `cmdline`, or else `root=<root> <extra>` as xl builds it. */
  cmdline?: string;
  onPoweroff: ShutdownAction;
  onReboot: ShutdownAction;
  onWatchdog: ShutdownAction;
  onCrash: ShutdownAction;
  onSoftReset: ShutdownAction;
  driverDomain: boolean;
  maxEventChannels: number;
  disks: DiskSpec[];
  vifs: VifSpec[];
  p9s: P9Spec[];
  vtpms: VtpmSpec[];
  /** The device lists exactly as written. */
  raw: { disk: string[]; vif: string[]; p9: string[]; vtpm: string[] };
  /** The device model's keys, for type "hvm" only (xl reads them only then). */
  hvm?: HvmConfig;
}

export interface DomainConfigResult {
  config: DomainConfig;
  /** One line each, `file:line: warning: …`, for the caller to print (xl prints them on stderr). */
  warnings: string[];
  /** The parsed file, for keys this module does not interpret. */
  cfg: XlCfg;
}

/** Keys this module interprets; every other key is warned about. */
const DOMINION_KEYS = new Set([
  'name',
  'uuid',
  'type',
  'builder',
  'memory',
  'maxmem',
  'vcpus',
  'maxvcpus',
  'cpu_weight',
  'cap',
  'kernel',
  'ramdisk',
  'bootloader',
  'root',
  'extra',
  'cmdline',
  'on_poweroff',
  'on_reboot',
  'on_watchdog',
  'on_crash',
  'on_soft_reset',
  'driver_domain',
  'max_event_channels',
  'disk',
  'vif',
  'p9',
  'vtpm',
]);

/** Parse an xl.cfg text (plus `key=value` overrides) into a domain configuration. */
export function parseDomainConfigText(text: string, opts: ParseXlCfgOptions): DomainConfigResult {
  return domainConfig(parseXlCfg(text, opts));
}

export function domainConfig(cfg: XlCfg): DomainConfigResult {
  const warnings: string[] = [];
  const located = (key: string): XlCfgLocation => {
    const s = cfg.get(key)!;
    return { source: s.source, line: s.node.line, column: s.node.column };
  };

  const hvm = cfg.getString('type') === 'hvm' || (cfg.get('type') === undefined && cfg.getString('builder') === 'hvm');
  for (const set of cfg.settings.values()) {
    if (DOMINION_KEYS.has(set.key) || (hvm && HVM_KEYS.has(set.key))) continue;
    const at = `${set.source}:${set.line}`;
    warnings.push(
      XL_CFG_KEYS.has(set.key)
        ? `${at}: warning: \`${set.key}' is not used by Dominion, ignored`
        : `${at}: warning: unknown key \`${set.key}' ignored (xl ignores unknown keys)`,
    );
  }

  const type = domainType(cfg, warnings);

  const name = cfg.getString('name');
  if (name === undefined || name === '') {
    throw errorAt(name === undefined ? { source: cfg.source } : located('name'), 'Domain name must be specified.');
  }

  let uuid: string | undefined;
  const uuidText = cfg.getString('uuid');
  if (uuidText !== undefined) {
    uuid = parseUuid(uuidText);
    if (!uuid) throw errorAt(located('uuid'), `Failed to parse UUID: ${uuidText}`);
  }

  // memory/maxmem in MiB; libxl's default of 32 when neither is given, one of them standing for both.
  const MIB_MAX = 2 ** 31 - 1;
  const memorySet = cfg.getLong('memory', { min: 1, max: MIB_MAX });
  const maxmemSet = cfg.getLong('maxmem', { min: 1, max: MIB_MAX });
  const maxmem = maxmemSet ?? memorySet ?? MEMORY_DEFAULT_MIB;
  const memory = memorySet ?? maxmem;
  if (maxmem < memory) {
    throw errorAt(located('maxmem'), `maxmem (${maxmem}) must be equal to or greater than memory (${memory})`);
  }

  // xl: fewer than one vcpu means one; maxvcpus defaults to vcpus and may not be below it.
  const vcpus = Math.max(1, cfg.getLong('vcpus', { max: 4096 }) ?? 1);
  const maxvcpus = cfg.getLong('maxvcpus', { min: 1, max: 4096 }) ?? vcpus;
  if (maxvcpus < vcpus) throw errorAt(located('maxvcpus'), `xl: maxvcpus < vcpus (${maxvcpus} < ${vcpus})`);

  const cpuWeight = cfg.getLong('cpu_weight', { min: 1, max: 65535 }) ?? CPU_WEIGHT_DEFAULT;
  const cap = cfg.getLong('cap', { min: 0 }) ?? 0;
  if (cap > maxvcpus * 100) {
    throw errorAt(
      located('cap'),
      `Cpu cap out of range, valid range is from 0 to ${maxvcpus * 100} for specified number of vcpus`,
    );
  }

  const str = (key: string) => cfg.getString(key);
  const cmdline = str('cmdline');
  const root = str('root');
  const extra = str('extra');
  let effectiveCmdline = cmdline;
  if (cmdline !== undefined) {
    if (root !== undefined || extra !== undefined) {
      warnings.push(
        `${cfg.source}:${cfg.get('cmdline')!.line}: Warning: ignoring root= and extra= in favour of cmdline=`,
      );
    }
  } else if (root !== undefined) {
    effectiveCmdline = extra !== undefined ? `root=${root} ${extra}` : `root=${root}`;
  } else {
    effectiveCmdline = extra;
  }

  const action = (key: keyof typeof SHUTDOWN_DEFAULTS): ShutdownAction => {
    const v = cfg.getString(key) ?? SHUTDOWN_DEFAULTS[key];
    if (!(SHUTDOWN_ACTIONS as readonly string[]).includes(v)) {
      throw errorAt(located(key), `Unknown ${key} action "${v}" specified`);
    }
    return v as ShutdownAction;
  };

  const evtchn = cfg.getLong('max_event_channels', { min: 0, max: 0xffffffff }) ?? 0;

  const specs = (key: string) => cfg.getStringList(key) ?? [];
  const diskItems = specs('disk');
  const vifItems = specs('vif');
  const p9Items = specs('p9');
  const vtpmItems = specs('vtpm');
  const at = (key: string, item: { line: number; column: number }): XlCfgLocation => ({
    source: cfg.get(key)!.source,
    line: item.line,
    column: item.column,
  });

  const disks = diskItems.map((d) => parseDiskSpec(d.value, { where: at('disk', d) }));
  const vifs = vifItems.map((v, devid) => {
    const r = parseVifSpec(v.value, { devid, where: at('vif', v) });
    warnings.push(...r.warnings);
    return r.vif;
  });
  const p9s = p9Items.map((p, devid) => parseP9Spec(p.value, { devid, where: at('p9', p), domainName: name }));
  const vtpms = vtpmItems.map((t, devid) => parseVtpmSpec(t.value, { devid, where: at('vtpm', t) }));

  const config: DomainConfig = {
    name,
    type,
    memory,
    maxmem,
    vcpus,
    maxvcpus,
    cpuWeight,
    cap,
    onPoweroff: action('on_poweroff'),
    onReboot: action('on_reboot'),
    onWatchdog: action('on_watchdog'),
    onCrash: action('on_crash'),
    onSoftReset: action('on_soft_reset'),
    driverDomain: cfg.getBool('driver_domain') ?? false,
    // libxl: 0 means the default
    maxEventChannels: evtchn || MAX_EVENT_CHANNELS_DEFAULT,
    disks,
    vifs,
    p9s,
    vtpms,
    raw: {
      disk: diskItems.map((d) => d.value),
      vif: vifItems.map((v) => v.value),
      p9: p9Items.map((p) => p.value),
      vtpm: vtpmItems.map((t) => t.value),
    },
  };
  if (uuid !== undefined) config.uuid = uuid;
  if (type === 'hvm') config.hvm = hvmConfig(cfg);
  for (const [k, v] of [
    ['kernel', str('kernel')],
    ['ramdisk', str('ramdisk')],
    ['bootloader', str('bootloader')],
    ['root', root],
    ['extra', extra],
    ['cmdline', effectiveCmdline],
  ] as const) {
    if (v !== undefined) config[k] = v;
  }
  return { config, warnings, cfg };
}

// `type` (pv, pvh, hvm), or the deprecated `builder` ("hvm" or "generic" = pv); pv when neither, as on x86.
function domainType(cfg: XlCfg, warnings: string[]): DomainType {
  const loc = (key: string): XlCfgLocation => {
    const s = cfg.get(key)!;
    return { source: s.source, line: s.node.line, column: s.node.column };
  };
  let type: DomainType | undefined;
  const t = cfg.getString('type');
  if (t !== undefined) {
    if (t !== 'pv' && t !== 'pvh' && t !== 'hvm') throw errorAt(loc('type'), `Invalid domain type ${t}.`);
    type = t;
  }
  const builder = cfg.getString('builder');
  if (builder !== undefined) {
    const set = cfg.get('builder')!;
    warnings.push(
      `${set.source}:${set.line}: warning: \`builder' is deprecated since Xen 4.10, use type="${builder === 'hvm' ? 'hvm' : 'pv'}"`,
    );
    if (builder !== 'hvm' && builder !== 'generic') throw errorAt(loc('builder'), `Invalid domain type ${builder}.`);
    const b: DomainType = builder === 'hvm' ? 'hvm' : 'pv';
    if (type !== undefined && type !== b) {
      throw errorAt(loc('builder'), 'Contradicting "builder" and "type" options specified.');
    }
    type = b;
  }
  return type ?? 'pv';
}

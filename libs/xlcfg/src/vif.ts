// A vif spec as xl's parse_nic_config (tools/xl/xl_parse.c) reads it: `k=v` words, split on commas in an
// xl.cfg `vif = [ '…' ]` entry (leading blanks dropped, as strtok + xl do), or one per argument for
// `xl network-attach`. An unknown word is ignored with a warning in a config file, as xl does, and is
// fatal for network-attach. Defaults are libxl's: bridge xenbr0, script vif-bridge, mtu 1500, and a
// random MAC in Xen's OUI 00:16:3e is the toolstack's to pick (randomXenMac).
import { XlCfgError, formatLocation, type XlCfgLocation } from './errors.js';
import { parseVifRate, type VifRate } from './rate.js';
import { parseVlan, type VlanConfig } from './vlan.js';

export interface VifSpec {
  spec: string;
  /** The list index in a config file, unless `devid=` says otherwise. */
  devid: number;
  /** Lowercase `xx:xx:xx:xx:xx:xx`; undefined means the toolstack generates one. */
  mac?: string;
  bridge: string;
  gatewaydev?: string;
  type?: 'vif' | 'ioemu';
  model?: string;
  vifname?: string;
  script: string;
  ip?: string;
  /** The backend (driver) domain's name; dom0 when undefined. */
  backend?: string;
  rate?: VifRate & { spec: string };
  mtu: number;
  vlan?: VlanConfig & { spec: string };
  /** `trusted`/`untrusted`; undefined means the default, trusted. */
  trusted?: boolean;
  /** xl's COLO keys (`colo_*`, `forwarddev`), passed through as written. */
  colo?: Record<string, string>;
}

export interface VifParseOptions {
  devid?: number;
  where?: XlCfgLocation;
  /** xl network-attach: an unknown word is an error instead of a warning. */
  strict?: boolean;
}

export const VIF_DEFAULT_BRIDGE = 'xenbr0';
export const VIF_DEFAULT_SCRIPT = 'vif-bridge';
export const VIF_DEFAULT_MTU = 1500;

const STRING_KEYS = {
  bridge: 'bridge',
  gatewaydev: 'gatewaydev',
  ip: 'ip',
  script: 'script',
  backend: 'backend',
  vifname: 'vifname',
  model: 'model',
} as const;
const COLO_KEYS = new Set([
  'forwarddev',
  ...[
    'mirror',
    'compare_sec_in',
    'redirector0',
    'redirector1',
    'redirector2',
    'compare_pri_in',
    'compare_notify',
    'sec_redirector0',
    'sec_redirector1',
  ].flatMap((n) => ['id', 'ip', 'port'].map((f) => `colo_sock_${n}_${f}`)),
  ...[
    'mirror_queue',
    'mirror_outdev',
    'redirector0_queue',
    'redirector0_indev',
    'redirector0_outdev',
    'redirector1_queue',
    'redirector1_indev',
    'redirector1_outdev',
    'sec_redirector0_queue',
    'sec_redirector0_indev',
    'sec_redirector0_outdev',
    'sec_redirector1_queue',
    'sec_redirector1_indev',
    'sec_redirector1_outdev',
    'sec_rewriter0_queue',
  ].map((n) => `colo_filter_${n}`),
  'colo_compare_pri_in',
  'colo_compare_sec_in',
  'colo_compare_out',
  'colo_compare_notify_dev',
  'colo_checkpoint_host',
  'colo_checkpoint_port',
]);

export function parseVifSpec(
  spec: string | readonly string[],
  opts: VifParseOptions = {},
): { vif: VifSpec; warnings: string[] } {
  const where = opts.where ?? { source: 'command line' };
  const loc = formatLocation(where);
  const warnings: string[] = [];
  const text = typeof spec === 'string' ? spec : spec.join(' ');
  const words =
    typeof spec === 'string'
      ? spec
          .split(',')
          .map((w) => w.replace(/^ +/, ''))
          .filter((w) => w !== '')
      : spec;
  const err = (msg: string, token: string) =>
    new XlCfgError(`${loc}: config parsing error in vif: ${msg} in \`${token}'`, where);
  const vif: VifSpec = {
    spec: text,
    devid: opts.devid ?? 0,
    bridge: VIF_DEFAULT_BRIDGE,
    script: VIF_DEFAULT_SCRIPT,
    mtu: VIF_DEFAULT_MTU,
  };

  for (const word of words) {
    if (word === 'trusted' || word === 'untrusted') {
      vif.trusted = word === 'trusted';
      continue;
    }
    const eq = word.indexOf('=');
    const key = eq < 0 ? word : word.slice(0, eq);
    const val = eq < 0 ? '' : word.slice(eq + 1);
    if (
      eq < 0 ||
      !(
        key in STRING_KEYS ||
        COLO_KEYS.has(key) ||
        ['type', 'mac', 'netdev', 'rate', 'accel', 'devid', 'mtu', 'vlan'].includes(key)
      )
    ) {
      if (opts.strict) throw err('unrecognized argument', word);
      warnings.push(`${loc}: warning: unrecognized argument \`${word}' in vif spec, ignored (as xl does)`);
      continue;
    }
    switch (key) {
      case 'type':
        if (val !== 'vif' && val !== 'ioemu') throw err("Invalid parameter `type'", word);
        vif.type = val;
        break;
      case 'mac': {
        const mac = parseMac(val);
        if (!mac) throw err("Invalid parameter `mac'", word);
        vif.mac = mac;
        break;
      }
      case 'netdev':
        warnings.push(`${loc}: warning: the netdev parameter is deprecated, please use gatewaydev instead`);
        vif.gatewaydev = val;
        break;
      case 'rate':
        vif.rate = { ...parseVifRate(val, where), spec: val };
        break;
      case 'accel':
        warnings.push(`${loc}: warning: the accel parameter for vifs is currently not supported`);
        break;
      case 'devid':
        vif.devid = ulong(val, 0x7fffffff, err, word);
        break;
      case 'mtu':
        // libxl: 0 means the default
        vif.mtu = ulong(val, 0xffff, err, word) || VIF_DEFAULT_MTU;
        break;
      case 'vlan': {
        const vlan = parseVlan(val);
        if (typeof vlan === 'string') throw err(`Invalid parameter \`vlan': ${vlan}`, word);
        vif.vlan = { ...vlan, spec: val };
        break;
      }
      default:
        if (key in STRING_KEYS) vif[STRING_KEYS[key as keyof typeof STRING_KEYS]] = val;
        else (vif.colo ??= {})[key] = val;
    }
  }
  return { vif, warnings };
}

/** Six groups of one or two hex digits separated by colons, as lowercase `xx:xx:xx:xx:xx:xx`. */
export function parseMac(s: string): string | undefined {
  if (!/^[0-9a-fA-F]{1,2}(?::[0-9a-fA-F]{1,2}){5}$/.test(s)) return undefined;
  return s
    .split(':')
    .map((g) => g.toLowerCase().padStart(2, '0'))
    .join(':');
}

/** libxl's random MAC: Xen's OUI 00:16:3e, then three random bytes with the top bit of the first cleared. */
export function randomXenMac(rng: (size: number) => Uint8Array): string {
  const r = rng(3);
  const bytes = [0x00, 0x16, 0x3e, r[0] & 0x7f, r[1], r[2]];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

// parse_ulong: a decimal number, else xl's "failed to convert" (xl also skips blanks and ignores a tail).
function ulong(val: string, max: number, err: (msg: string, token: string) => XlCfgError, word: string): number {
  if (!/^[0-9]+$/.test(val) || Number(val) > max) throw err(`failed to convert "${val}" to number`, word);
  return Number(val);
}

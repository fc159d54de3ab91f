// The keys xl reads for an HVM guest's device model (xl_parse.c, `case LIBXL_DOMAIN_TYPE_HVM`, and
// libxl_dm.c's use of them): boot order, serial ports, the VNC display, and extra device-model arguments.
import type { XlCfg } from './cfg.js';
import { errorAt } from './errors.js';

export interface HvmConfig {
  /** `boot`: QEMU's boot order letters (c disk, d cdrom, n network); xl.cfg(5)'s default is "cd". */
  boot: string;
  /** `serial`: one string or a list ("pty", "none", "file:/path"…), as xl takes either. */
  serial: string[];
  /** `vnc` (default 1 in xl.cfg(5) when sdl is off; Dominion gives no display unless asked: 0). */
  vnc: boolean;
  /** `vnclisten`: an address, optionally `:<display>`; loopback unless set. */
  vnclisten: string;
  /** `vncdisplay`: a display number; with `vncunused` (default 1) the first free one from there. */
  vncdisplay?: number;
  vncunused: boolean;
  /** `device_model_args` then `device_model_args_hvm`: words appended to QEMU's command line. */
  deviceModelArgs: string[];
}

export const HVM_KEYS: ReadonlySet<string> = new Set([
  'boot',
  'serial',
  'vnc',
  'vnclisten',
  'vncdisplay',
  'vncunused',
  'device_model_args',
  'device_model_args_hvm',
]);

export const HVM_BOOT_DEFAULT = 'cd';
export const HVM_VNCLISTEN_DEFAULT = '127.0.0.1';

/** QEMU's `-boot order=` letters: floppies a/b, disk c, cdrom d, network n..p. */
const BOOT_ORDER = /^[a-dn-p]{1,8}$/;

export function hvmConfig(cfg: XlCfg): HvmConfig {
  const located = (key: string) => {
    const s = cfg.get(key)!;
    return { source: s.source, line: s.node.line, column: s.node.column };
  };
  const boot = cfg.getString('boot') ?? HVM_BOOT_DEFAULT;
  // QEMU takes the letters inside one `order=…` option: anything else would be read as more options.
  if (!BOOT_ORDER.test(boot))
    throw errorAt(located('boot'), `boot "${boot}": expected QEMU boot order letters (c disk, d cdrom, n network)`);

  let serial: string[] = [];
  const s = cfg.get('serial');
  if (s)
    serial = s.node.type === 'list' ? cfg.getStringList('serial')!.map((i) => i.value) : [cfg.getString('serial')!];

  const words = (key: string): string[] => {
    const set = cfg.get(key);
    if (!set) return [];
    // xl takes a list; a single string is one word (xlu_cfg_get_list_as_string_list's "dont_warn" case)
    return set.node.type === 'list' ? cfg.getStringList(key)!.map((i) => i.value) : [cfg.getString(key)!];
  };

  const vncdisplay = cfg.getLong('vncdisplay', { min: 0, max: 65535 - 5900 });
  const config: HvmConfig = {
    boot,
    serial,
    vnc: cfg.getBool('vnc') ?? false,
    vnclisten: cfg.getString('vnclisten') ?? HVM_VNCLISTEN_DEFAULT,
    vncunused: cfg.getBool('vncunused') ?? true,
    deviceModelArgs: [...words('device_model_args'), ...words('device_model_args_hvm')],
  };
  if (vncdisplay !== undefined) config.vncdisplay = vncdisplay;
  return config;
}

// A p9 spec as xl (xl_parse.c) and libxl (libxl__device_p9_setdefault) read `p9 = [ '…' ]`:
// comma-separated key=value pairs, blanks around key and value trimmed. type is qemu (default) or
// xen_9pfsd; xen_9pfsd alone takes max-files, max-open-files, max-space (MiB) and auto-delete, and
// defaults tag to "Xen" and path to /var/log/xen/guests/<domain name>. tag, path and security_model are
// then mandatory, and `none` is the only security model (xen-facts §9).
import { XlCfgError, formatLocation, type XlCfgLocation } from './errors.js';

export type P9Type = 'qemu' | 'xen_9pfsd';

export interface P9Spec {
  spec: string;
  devid: number;
  type: P9Type;
  tag: string;
  path: string;
  securityModel: 'none';
  /** The backend domain's name; dom0 when undefined. */
  backend?: string;
  maxFiles?: number;
  maxOpenFiles?: number;
  /** MiB. */
  maxSpace?: number;
  autoDelete?: boolean;
}

export interface P9ParseOptions {
  devid?: number;
  where?: XlCfgLocation;
  /** For xen_9pfsd's default path (XEN_LOG_DIR/guests/<name>). */
  domainName?: string;
}

export const XEN_LOG_DIR = '/var/log/xen';

export function parseP9Spec(spec: string, opts: P9ParseOptions = {}): P9Spec {
  const where = opts.where ?? { source: 'command line' };
  const err = (msg: string) => new XlCfgError(`${formatLocation(where)}: ${msg} in p9 spec \`${spec}'`, where);
  const got: Partial<Record<'tag' | 'path' | 'security_model' | 'backend', string>> = {};
  let type: P9Type | undefined;
  const nums: { maxFiles?: number; maxOpenFiles?: number; maxSpace?: number } = {};
  let autoDelete: boolean | undefined;
  for (const pair of spec.split(',')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq < 0 || eq === pair.length - 1) throw err(`failed to parse 9pfs configuration: ${pair}`);
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    switch (key) {
      case 'security_model':
      case 'path':
      case 'tag':
      case 'backend':
        got[key] = value;
        break;
      case 'type': {
        const t = value.toLowerCase();
        if (t !== 'qemu' && t !== 'xen_9pfsd') throw err(`failed to parse 9pfs type: ${value}`);
        type = t;
        break;
      }
      case 'max-files':
      case 'max-open-files':
      case 'max-space': {
        if (!/^[0-9]+$/.test(value) || Number(value) > 0xffffffff) throw err(`failed to convert "${value}" to number`);
        nums[key === 'max-files' ? 'maxFiles' : key === 'max-open-files' ? 'maxOpenFiles' : 'maxSpace'] = Number(value);
        break;
      }
      case 'auto-delete': {
        // strtoul(value, NULL, 0): any C literal, non-zero meaning yes
        if (!/^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.test(value))
          throw err(`failed to convert "${value}" to number`);
        autoDelete = !/^0+$|^0[xX]0+$/.test(value);
        break;
      }
      default:
        throw err(`Unknown 9pfs parameter '${key}'`);
    }
  }
  const t = type ?? 'qemu';
  if (t === 'qemu' && (nums.maxFiles || nums.maxOpenFiles || nums.maxSpace || autoDelete)) {
    throw err(
      'Illegal 9pfs parameter combination (max-files, max-open-files, max-space and auto-delete need type=xen_9pfsd)',
    );
  }
  const tag = got.tag ?? (t === 'xen_9pfsd' ? 'Xen' : undefined);
  const path =
    got.path ??
    (t === 'xen_9pfsd' && opts.domainName !== undefined ? `${XEN_LOG_DIR}/guests/${opts.domainName}` : undefined);
  const missing = [
    tag === undefined && 'tag',
    path === undefined && 'path',
    got.security_model === undefined && 'security_model',
  ].filter((k): k is string => typeof k === 'string');
  if (missing.length > 0) throw err(`9pfs spec missing required field! (${missing.join(', ')})`);
  if (got.security_model !== 'none')
    throw err(`security_model \`${got.security_model}' is not supported, only \`none'`);
  const out: P9Spec = { spec, devid: opts.devid ?? 0, type: t, tag: tag!, path: path!, securityModel: 'none' };
  if (got.backend !== undefined) out.backend = got.backend;
  Object.assign(out, nums);
  if (autoDelete !== undefined) out.autoDelete = autoDelete;
  return out;
}

// Request payloads as libxenstore writes them (tools/libs/store/xs.c, docs/misc/xenstore.txt): every string
// field NUL-terminated, numbers in unsigned decimal; WRITE's value and CONTROL's parameters are raw bytes.
import { XENSTORE_PAYLOAD_MAX, XS, xsTypeName, type XsType } from '@dominion/abi';
import { XenstoreError } from '../errors.js';
import { joinNul } from './fields.js';
import { formatPerm, parsePerm, type XsPerm } from './perms.js';

export interface XsRequest {
  type: XsType;
  payload: Buffer;
}

function field(type: XsType, what: string, s: string): string {
  if (s.includes('\0')) {
    throw new XenstoreError('EINVAL', `${xsTypeName(type)}: ${what} ${JSON.stringify(s)} contains a NUL`);
  }
  return s;
}

function uint(type: XsType, what: string, n: number, max: number): string {
  if (!Number.isSafeInteger(n) || n < 0 || n > max) {
    throw new XenstoreError('EINVAL', `${xsTypeName(type)}: ${what} ${n} is not an integer in 0..${max}`);
  }
  return String(n);
}

// domid_t is u16 on the wire; whether the id names a real domain is the server's call.
const domid = (type: XsType, n: number, what = 'domid'): string => uint(type, what, n, 0xffff);

function make(type: XsType, payload: Buffer): XsRequest {
  // libxenstore refuses these before sending (xs_talkv: E2BIG), rather than have xenstored drop the connection.
  if (payload.length > XENSTORE_PAYLOAD_MAX) {
    throw new XenstoreError(
      'E2BIG',
      `${xsTypeName(type)}: payload of ${payload.length} bytes exceeds XENSTORE_PAYLOAD_MAX ${XENSTORE_PAYLOAD_MAX}`,
    );
  }
  return { type, payload };
}

const strings = (type: XsType, ...fields: [what: string, value: string][]): XsRequest =>
  make(type, joinNul(fields.map(([what, v]) => field(type, what, v))));

const raw = (value: string | Buffer): Buffer => (typeof value === 'string' ? Buffer.from(value, 'utf8') : value);

export const xsRequest = {
  /** `path\0` -> the raw value, no NUL added. */
  read: (path: string) => strings(XS.XS_READ, ['path', path]),
  /** `path\0value` (no terminator: the value is the rest of the payload). */
  write: (path: string, value: string | Buffer) =>
    make(XS.XS_WRITE, Buffer.concat([joinNul([field(XS.XS_WRITE, 'path', path)]), raw(value)])),
  mkdir: (path: string) => strings(XS.XS_MKDIR, ['path', path]),
  rm: (path: string) => strings(XS.XS_RM, ['path', path]),
  /** -> `child\0child\0…` (leaf names). */
  directory: (path: string) => strings(XS.XS_DIRECTORY, ['path', path]),
  /** `offset` is a byte offset into the children list (see parseDirectoryPartReply's nextOffset). */
  directoryPart: (path: string, offset: number) =>
    strings(XS.XS_DIRECTORY_PART, ['path', path], ['offset', uint(XS.XS_DIRECTORY_PART, 'offset', offset, 0xffffffff)]),
  getPerms: (path: string) => strings(XS.XS_GET_PERMS, ['path', path]),
  /** Entry 0 is the owner; strings are checked as perms (`r0`, `b5`) before they are sent. */
  setPerms: (path: string, perms: readonly (string | XsPerm)[]) => {
    if (perms.length === 0) throw new XenstoreError('EINVAL', `XS_SET_PERMS ${path}: no permissions given`);
    const list = perms.map((p) => formatPerm(typeof p === 'string' ? parsePerm(p) : p));
    return strings(XS.XS_SET_PERMS, ['path', path], ...list.map((p): [string, string] => ['perm', p]));
  },
  /** `wpath\0token\0[depth\0]`; depth needs the server's WATCHDEPTH feature. */
  watch: (path: string, token: string, depth?: number) =>
    depth === undefined
      ? strings(XS.XS_WATCH, ['path', path], ['token', token])
      : strings(
          XS.XS_WATCH,
          ['path', path],
          ['token', token],
          ['depth', uint(XS.XS_WATCH, 'depth', depth, 0xffffffff)],
        ),
  unwatch: (path: string, token: string) => strings(XS.XS_UNWATCH, ['path', path], ['token', token]),
  /** `\0` (one empty string) -> `<txid>\0`; the id then goes in the header's tx_id. */
  transactionStart: () => make(XS.XS_TRANSACTION_START, joinNul([''])),
  /** `T\0` commits, `F\0` abandons; sent with the transaction's tx_id. */
  transactionEnd: (commit: boolean) => make(XS.XS_TRANSACTION_END, joinNul([commit ? 'T' : 'F'])),
  /** dom0 only. `gfn` is the store page's frame number, `evtchn` the domain's unbound port. */
  introduce: (id: number, gfn: number, evtchn: number) =>
    strings(
      XS.XS_INTRODUCE,
      ['domid', domid(XS.XS_INTRODUCE, id)],
      ['gfn', uint(XS.XS_INTRODUCE, 'gfn', gfn, Number.MAX_SAFE_INTEGER)],
      ['evtchn', uint(XS.XS_INTRODUCE, 'evtchn', evtchn, 0xffffffff)],
    ),
  release: (id: number) => strings(XS.XS_RELEASE, ['domid', domid(XS.XS_RELEASE, id)]),
  resume: (id: number) => strings(XS.XS_RESUME, ['domid', domid(XS.XS_RESUME, id)]),
  /** -> `/local/domain/<domid>\0`. */
  getDomainPath: (id: number) => strings(XS.XS_GET_DOMAIN_PATH, ['domid', domid(XS.XS_GET_DOMAIN_PATH, id)]),
  /** -> `T\0` or `F\0`. */
  isDomainIntroduced: (id: number) =>
    strings(XS.XS_IS_DOMAIN_INTRODUCED, ['domid', domid(XS.XS_IS_DOMAIN_INTRODUCED, id)]),
  /** `domid` gets full access to `target`'s nodes (device-model stubdoms). */
  setTarget: (id: number, target: number) =>
    strings(
      XS.XS_SET_TARGET,
      ['domid', domid(XS.XS_SET_TARGET, id)],
      ['target domid', domid(XS.XS_SET_TARGET, target, 'target domid')],
    ),
  /** Drops the connection's watches (and, per xenstore.txt, its transactions). */
  resetWatches: () => make(XS.XS_RESET_WATCHES, joinNul([''])),
  /** `command\0` then raw parameters, as xs_control_command sends them. */
  control: (command: string, params: string | Buffer = Buffer.alloc(0)) =>
    make(XS.XS_CONTROL, Buffer.concat([joinNul([field(XS.XS_CONTROL, 'command', command)]), raw(params)])),
} as const;

export type XsRequestName = keyof typeof xsRequest;

// The 9P2000.L messages Linux's v9fs sends and their replies, as one table of field layouts
// (diod protocol.md, Linux net/9p/protocol.c). Every message is size[4] type[1] tag[2] then its fields.
import { P9_HEADER_SIZE, P9_MAXWELEM } from './constants.js';
import { P9Error } from './errors.js';
import { P9Qid, P9Reader, P9Writer } from './wire.js';

type FieldKind = 'u8' | 'u16' | 'u32' | 'u64' | 'str' | 'qid' | 'data' | 'strs' | 'qids';
interface KindTypes {
  u8: number;
  u16: number;
  u32: number;
  u64: bigint;
  str: string;
  qid: P9Qid;
  /** count[4] data[count] */
  data: Buffer;
  /** n[2] n*(str) */
  strs: string[];
  /** n[2] n*(qid) */
  qids: P9Qid[];
}

const GETATTR_REPLY = [
  ['valid', 'u64'],
  ['qid', 'qid'],
  ['mode', 'u32'],
  ['uid', 'u32'],
  ['gid', 'u32'],
  ['nlink', 'u64'],
  ['rdev', 'u64'],
  ['size', 'u64'],
  ['blksize', 'u64'],
  ['blocks', 'u64'],
  ['atime_sec', 'u64'],
  ['atime_nsec', 'u64'],
  ['mtime_sec', 'u64'],
  ['mtime_nsec', 'u64'],
  ['ctime_sec', 'u64'],
  ['ctime_nsec', 'u64'],
  ['btime_sec', 'u64'],
  ['btime_nsec', 'u64'],
  ['gen', 'u64'],
  ['data_version', 'u64'],
] as const;

export const P9_MESSAGES = {
  Rlerror: { id: 7, fields: [['ecode', 'u32']] },
  Tstatfs: { id: 8, fields: [['fid', 'u32']] },
  Rstatfs: {
    id: 9,
    fields: [
      ['fstype', 'u32'],
      ['bsize', 'u32'],
      ['blocks', 'u64'],
      ['bfree', 'u64'],
      ['bavail', 'u64'],
      ['files', 'u64'],
      ['ffree', 'u64'],
      ['fsid', 'u64'],
      ['namelen', 'u32'],
    ],
  },
  Tlopen: {
    id: 12,
    fields: [
      ['fid', 'u32'],
      ['flags', 'u32'],
    ],
  },
  Rlopen: {
    id: 13,
    fields: [
      ['qid', 'qid'],
      ['iounit', 'u32'],
    ],
  },
  Tlcreate: {
    id: 14,
    fields: [
      ['fid', 'u32'],
      ['name', 'str'],
      ['flags', 'u32'],
      ['mode', 'u32'],
      ['gid', 'u32'],
    ],
  },
  Rlcreate: {
    id: 15,
    fields: [
      ['qid', 'qid'],
      ['iounit', 'u32'],
    ],
  },
  Tsymlink: {
    id: 16,
    fields: [
      ['fid', 'u32'],
      ['name', 'str'],
      ['symtgt', 'str'],
      ['gid', 'u32'],
    ],
  },
  Rsymlink: { id: 17, fields: [['qid', 'qid']] },
  Tmknod: {
    id: 18,
    fields: [
      ['dfid', 'u32'],
      ['name', 'str'],
      ['mode', 'u32'],
      ['major', 'u32'],
      ['minor', 'u32'],
      ['gid', 'u32'],
    ],
  },
  Rmknod: { id: 19, fields: [['qid', 'qid']] },
  Trename: {
    id: 20,
    fields: [
      ['fid', 'u32'],
      ['dfid', 'u32'],
      ['name', 'str'],
    ],
  },
  Rrename: { id: 21, fields: [] },
  Treadlink: { id: 22, fields: [['fid', 'u32']] },
  Rreadlink: { id: 23, fields: [['target', 'str']] },
  Tgetattr: {
    id: 24,
    fields: [
      ['fid', 'u32'],
      ['request_mask', 'u64'],
    ],
  },
  Rgetattr: { id: 25, fields: GETATTR_REPLY },
  Tsetattr: {
    id: 26,
    fields: [
      ['fid', 'u32'],
      ['valid', 'u32'],
      ['mode', 'u32'],
      ['uid', 'u32'],
      ['gid', 'u32'],
      ['size', 'u64'],
      ['atime_sec', 'u64'],
      ['atime_nsec', 'u64'],
      ['mtime_sec', 'u64'],
      ['mtime_nsec', 'u64'],
    ],
  },
  Rsetattr: { id: 27, fields: [] },
  Txattrwalk: {
    id: 30,
    fields: [
      ['fid', 'u32'],
      ['newfid', 'u32'],
      ['name', 'str'],
    ],
  },
  Rxattrwalk: { id: 31, fields: [['size', 'u64']] },
  Txattrcreate: {
    id: 32,
    fields: [
      ['fid', 'u32'],
      ['name', 'str'],
      ['attr_size', 'u64'],
      ['flags', 'u32'],
    ],
  },
  Rxattrcreate: { id: 33, fields: [] },
  Treaddir: {
    id: 40,
    fields: [
      ['fid', 'u32'],
      ['offset', 'u64'],
      ['count', 'u32'],
    ],
  },
  Rreaddir: { id: 41, fields: [['data', 'data']] },
  Tfsync: {
    id: 50,
    fields: [
      ['fid', 'u32'],
      ['datasync', 'u32'],
    ],
  },
  Rfsync: { id: 51, fields: [] },
  Tlock: {
    id: 52,
    fields: [
      ['fid', 'u32'],
      ['locktype', 'u8'],
      ['flags', 'u32'],
      ['start', 'u64'],
      ['length', 'u64'],
      ['proc_id', 'u32'],
      ['client_id', 'str'],
    ],
  },
  Rlock: { id: 53, fields: [['status', 'u8']] },
  Tgetlock: {
    id: 54,
    fields: [
      ['fid', 'u32'],
      ['locktype', 'u8'],
      ['start', 'u64'],
      ['length', 'u64'],
      ['proc_id', 'u32'],
      ['client_id', 'str'],
    ],
  },
  Rgetlock: {
    id: 55,
    fields: [
      ['locktype', 'u8'],
      ['start', 'u64'],
      ['length', 'u64'],
      ['proc_id', 'u32'],
      ['client_id', 'str'],
    ],
  },
  Tlink: {
    id: 70,
    fields: [
      ['dfid', 'u32'],
      ['fid', 'u32'],
      ['name', 'str'],
    ],
  },
  Rlink: { id: 71, fields: [] },
  Tmkdir: {
    id: 72,
    fields: [
      ['dfid', 'u32'],
      ['name', 'str'],
      ['mode', 'u32'],
      ['gid', 'u32'],
    ],
  },
  Rmkdir: { id: 73, fields: [['qid', 'qid']] },
  Trenameat: {
    id: 74,
    fields: [
      ['olddirfid', 'u32'],
      ['oldname', 'str'],
      ['newdirfid', 'u32'],
      ['newname', 'str'],
    ],
  },
  Rrenameat: { id: 75, fields: [] },
  Tunlinkat: {
    id: 76,
    fields: [
      ['dirfid', 'u32'],
      ['name', 'str'],
      ['flags', 'u32'],
    ],
  },
  Runlinkat: { id: 77, fields: [] },
  Tversion: {
    id: 100,
    fields: [
      ['msize', 'u32'],
      ['version', 'str'],
    ],
  },
  Rversion: {
    id: 101,
    fields: [
      ['msize', 'u32'],
      ['version', 'str'],
    ],
  },
  Tauth: {
    id: 102,
    fields: [
      ['afid', 'u32'],
      ['uname', 'str'],
      ['aname', 'str'],
      ['n_uname', 'u32'],
    ],
  },
  Rauth: { id: 103, fields: [['aqid', 'qid']] },
  Tattach: {
    id: 104,
    fields: [
      ['fid', 'u32'],
      ['afid', 'u32'],
      ['uname', 'str'],
      ['aname', 'str'],
      ['n_uname', 'u32'],
    ],
  },
  Rattach: { id: 105, fields: [['qid', 'qid']] },
  Tflush: { id: 108, fields: [['oldtag', 'u16']] },
  Rflush: { id: 109, fields: [] },
  Twalk: {
    id: 110,
    fields: [
      ['fid', 'u32'],
      ['newfid', 'u32'],
      ['wnames', 'strs'],
    ],
  },
  Rwalk: { id: 111, fields: [['wqids', 'qids']] },
  Tread: {
    id: 116,
    fields: [
      ['fid', 'u32'],
      ['offset', 'u64'],
      ['count', 'u32'],
    ],
  },
  Rread: { id: 117, fields: [['data', 'data']] },
  Twrite: {
    id: 118,
    fields: [
      ['fid', 'u32'],
      ['offset', 'u64'],
      ['data', 'data'],
    ],
  },
  Rwrite: { id: 119, fields: [['count', 'u32']] },
  Tclunk: { id: 120, fields: [['fid', 'u32']] },
  Rclunk: { id: 121, fields: [] },
  Tremove: { id: 122, fields: [['fid', 'u32']] },
  Rremove: { id: 123, fields: [] },
} as const;

type Schema = typeof P9_MESSAGES;
export type P9MessageName = keyof Schema;
type FieldsOf<F extends readonly (readonly [string, FieldKind])[]> = {
  [E in F[number] as E[0]]: KindTypes[E[1]];
};
/** One message of each name: `{ type: 'Twalk', tag, fid, newfid, wnames }`. */
export type P9MessageOf<N extends P9MessageName> = { type: N; tag: number } & FieldsOf<Schema[N]['fields']>;
export type P9Message = { [N in P9MessageName]: P9MessageOf<N> }[P9MessageName];
/** A message without its tag, as a handler builds a reply. */
export type P9Body<N extends P9MessageName> = Omit<P9MessageOf<N>, 'tag'>;
export type P9Reply = { [N in P9MessageName]: N extends `R${string}` ? P9Body<N> : never }[P9MessageName];
export type P9Request = { [N in P9MessageName]: N extends `T${string}` ? P9MessageOf<N> : never }[P9MessageName];

const NAME_BY_ID = new Map<number, P9MessageName>(
  (Object.keys(P9_MESSAGES) as P9MessageName[]).map((n) => [P9_MESSAGES[n].id, n]),
);

export function messageName(id: number): P9MessageName | undefined {
  return NAME_BY_ID.get(id);
}

type Loose = Record<string, unknown>;

/** Encodes one whole message, size prefix included. */
export function encodeMessage(msg: P9Message | (P9Reply & { tag: number })): Buffer {
  const spec = P9_MESSAGES[msg.type];
  const w = new P9Writer();
  const m = msg as unknown as Loose;
  for (const [field, kind] of spec.fields as readonly (readonly [string, FieldKind])[]) {
    const v = m[field];
    const what = `${msg.type}.${field}`;
    switch (kind) {
      case 'u8':
      case 'u16':
      case 'u32': {
        const max = kind === 'u8' ? 0xff : kind === 'u16' ? 0xffff : 0xffffffff;
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
          throw new P9Error('EINVAL', `${what}: ${String(v)} is not a ${kind}`);
        }
        if (kind === 'u8') w.u8(v);
        else if (kind === 'u16') w.u16(v);
        else w.u32(v);
        break;
      }
      case 'u64':
        if (typeof v !== 'bigint' || v < 0n || v > 0xffffffffffffffffn) {
          throw new P9Error('EINVAL', `${what}: ${String(v)} is not a u64 bigint`);
        }
        w.u64(v);
        break;
      case 'str':
        w.str(v as string);
        break;
      case 'qid':
        w.qid(v as P9Qid);
        break;
      case 'data':
        w.u32((v as Buffer).length);
        w.bytes(v as Buffer);
        break;
      case 'strs':
        w.u16((v as string[]).length);
        for (const s of v as string[]) w.str(s);
        break;
      case 'qids':
        w.u16((v as P9Qid[]).length);
        for (const q of v as P9Qid[]) w.qid(q);
        break;
    }
  }
  const body = w.toBuffer();
  const head = Buffer.alloc(P9_HEADER_SIZE);
  head.writeUInt32LE(P9_HEADER_SIZE + body.length, 0);
  head.writeUInt8(spec.id, 4);
  head.writeUInt16LE(msg.tag, 5);
  return Buffer.concat([head, body]);
}

/** The header of a framed message; readable even when its body is malformed. */
export interface P9Header {
  size: number;
  id: number;
  tag: number;
}

export function readHeader(frame: Buffer): P9Header {
  if (frame.length < P9_HEADER_SIZE) throw new P9Error('EINVAL', `message of ${frame.length} bytes has no header`);
  return { size: frame.readUInt32LE(0), id: frame.readUInt8(4), tag: frame.readUInt16LE(5) };
}

/**
 * Decodes one whole message. A short body, trailing bytes, a size field that disagrees with the frame,
 * or more than 16 walk names is EINVAL; an id no 9P2000.L message has is EOPNOTSUPP.
 */
export function decodeMessage(frame: Buffer): P9Message {
  const h = readHeader(frame);
  if (h.size !== frame.length) {
    throw new P9Error('EINVAL', `message tag ${h.tag}: size field ${h.size} but ${frame.length} bytes`);
  }
  const name = NAME_BY_ID.get(h.id);
  if (!name) throw new P9Error('EOPNOTSUPP', `message tag ${h.tag}: type ${h.id} is not a 9P2000.L message`);
  const what = `${name} tag ${h.tag}`;
  const r = new P9Reader(frame, P9_HEADER_SIZE, what);
  const out: Loose = { type: name, tag: h.tag };
  for (const [field, kind] of P9_MESSAGES[name].fields as readonly (readonly [string, FieldKind])[]) {
    switch (kind) {
      case 'u8':
        out[field] = r.u8(field);
        break;
      case 'u16':
        out[field] = r.u16(field);
        break;
      case 'u32':
        out[field] = r.u32(field);
        break;
      case 'u64':
        out[field] = r.u64(field);
        break;
      case 'str':
        out[field] = r.str(field);
        break;
      case 'qid':
        out[field] = r.qid(field);
        break;
      case 'data':
        out[field] = r.bytes(r.u32(`${field} count`), field);
        break;
      case 'strs': {
        const n = r.u16(`${field} count`);
        if (n > P9_MAXWELEM) throw new P9Error('EINVAL', `${what}: ${n} names, more than ${P9_MAXWELEM}`);
        const names: string[] = [];
        for (let i = 0; i < n; i++) names.push(r.str(`${field}[${i}]`));
        out[field] = names;
        break;
      }
      case 'qids': {
        const n = r.u16(`${field} count`);
        if (n > P9_MAXWELEM) throw new P9Error('EINVAL', `${what}: ${n} qids, more than ${P9_MAXWELEM}`);
        const qids: P9Qid[] = [];
        for (let i = 0; i < n; i++) qids.push(r.qid(`${field}[${i}]`));
        out[field] = qids;
        break;
      }
    }
  }
  if (r.remaining !== 0) throw new P9Error('EINVAL', `${what}: ${r.remaining} trailing bytes`);
  return out as unknown as P9Message;
}

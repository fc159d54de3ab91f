// Rreaddir's payload: a run of qid[13] offset[8] type[1] name[s] records. The offset is the cookie the
// client sends back to continue after that entry.
import { P9Error } from './errors.js';
import { P9Qid, P9Reader, P9Writer } from './wire.js';

export interface P9Dirent {
  qid: P9Qid;
  offset: bigint;
  /** DT_* */
  type: number;
  name: string;
}

export function direntSize(name: string): number {
  return 13 + 8 + 1 + 2 + Buffer.byteLength(name, 'utf8');
}

export function encodeDirents(entries: readonly P9Dirent[]): Buffer {
  const w = new P9Writer();
  for (const e of entries) {
    w.qid(e.qid);
    w.u64(e.offset);
    w.u8(e.type);
    w.str(e.name);
  }
  return w.toBuffer();
}

export function decodeDirents(data: Buffer): P9Dirent[] {
  const r = new P9Reader(data, 0, 'Rreaddir data');
  const out: P9Dirent[] = [];
  while (r.remaining > 0) {
    out.push({ qid: r.qid('qid'), offset: r.u64('offset'), type: r.u8('type'), name: r.str('name') });
  }
  if (r.remaining < 0) throw new P9Error('EINVAL', 'Rreaddir data: truncated entry');
  return out;
}

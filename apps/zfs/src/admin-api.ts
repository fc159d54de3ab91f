// The zpool/zfs admin API behind `xen.zfs.<caller>.<verb>`: one handler per verb, JSON in and out. Only the
// control domain may call it (EPERM otherwise; in operator mode NATS already refuses other callers).
//
// send/receive move their stream in chunks over NATS, pulled by the caller one request at a time
// (send-next, receive-chunk): every chunk is an ordinary request/reply, so the storage domain needs no
// publish right beyond answering (a driver domain's `resp`), and the puller's pace is the flow control.
// gRPC would need the CLI to find and dial a second endpoint for a path that is not hot.
import { randomUUID } from 'node:crypto';
import { DOMID_0 } from '@dominion/abi';
import { BusError } from '@dominion/bus';
import { parseSize, ZfsError, type DatasetInfo, type ScrubStatus, type VdevSpec } from '@dominion/zfs';
import type { Pools } from './pools.js';

type Body = Record<string, unknown>;
type Handler = (b: Body) => unknown;

/** A send is abandoned (its snapshots released) after this long without a send-next. */
const SESSION_IDLE_MS = 60_000;
const CHUNK_BYTES = 256 * 1024;

export interface DatasetRow extends DatasetInfo {
  mountpoint: string;
}

interface SendSession {
  it: AsyncIterator<Buffer>;
  bytes: number;
  timer: NodeJS.Timeout;
  buffered: Buffer[];
  busy: boolean;
}

interface ReceiveSession {
  target: string;
  chunks: Buffer[];
  bytes: number;
  timer: NodeJS.Timeout;
}

export class AdminApi {
  private readonly sends = new Map<string, SendSession>();
  private readonly receives = new Map<string, ReceiveSession>();
  private readonly handlers: Record<string, Handler>;

  constructor(
    private readonly pools: Pools,
    private readonly onScrubDone: (pool: string, r: ScrubStatus | Error) => void = () => undefined,
  ) {
    this.handlers = {
      'pool-create': (b) => this.poolCreate(b),
      'pool-import': async (b) => {
        await pools.import(str(b, 'name'));
        return {};
      },
      'pool-export': async (b) => {
        await pools.export(str(b, 'name'));
        return {};
      },
      'pool-list': () => pools.names().map((n) => pools.status(n)),
      'pool-status': (b) => (optStr(b, 'name') ? [optStr(b, 'name')!] : pools.names()).map((n) => pools.status(n)),
      'pool-scrub': (b) => {
        const name = str(b, 'name');
        pools.startScrub(name, (r) => this.onScrubDone(name, r));
        return {};
      },
      create: (b) => this.create(b),
      destroy: (b) => this.destroy(b),
      snapshot: async (b) => {
        for (const n of strList(b, 'names')) await pools.poolOfDataset(n).snapshot(n);
        return {};
      },
      rollback: async (b) => {
        const name = str(b, 'name');
        pools.checkNotBusy(name, 'rollback to');
        await pools.poolOfDataset(name).rollback(name);
        return {};
      },
      clone: async (b) => {
        const snap = str(b, 'snapshot');
        const name = str(b, 'name');
        const pool = pools.poolOfDataset(snap);
        if (pools.poolOfDataset(name) !== pool)
          throw new ZfsError('EINVAL', `cannot create '${name}': source and target pools differ`);
        await pool.clone(snap, name, { props: props(b) });
        return {};
      },
      promote: async (b) => {
        const name = str(b, 'name');
        await pools.poolOfDataset(name).promote(name);
        return {};
      },
      list: (b) => this.list(b),
      get: (b) => this.get(b),
      set: async (b) => {
        const name = str(b, 'name');
        for (const [k, v] of Object.entries(props(b) ?? {})) await pools.poolOfDataset(name).setProperty(name, k, v);
        return {};
      },
      inherit: async (b) => {
        const name = str(b, 'name');
        await pools.poolOfDataset(name).inheritProperty(name, str(b, 'property'));
        return {};
      },
      'send-open': (b) => this.sendOpen(b),
      'send-next': (b) => this.sendNext(b),
      'receive-open': (b) => this.receiveOpen(b),
      'receive-chunk': (b) => this.receiveChunk(b),
      'receive-end': (b) => this.receiveEnd(b),
    };
  }

  verbs(): string[] {
    return Object.keys(this.handlers);
  }

  /** One request: `caller` from the subject, `verb` its last token. */
  handle(caller: number, verb: string, body: unknown): unknown {
    if (caller !== DOMID_0)
      throw new BusError('EPERM', `xen.zfs.${caller}.${verb}: only the control domain may administer pools`);
    const h = this.handlers[verb];
    if (!h) throw new BusError('ENOSYS', `xen.zfs.${caller}.${verb}: no such verb`);
    if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body)))
      throw new BusError('EINVAL', `xen.zfs.${caller}.${verb}: the body is not a JSON object`);
    return h((body ?? {}) as Body);
  }

  close(): void {
    for (const [id, s] of this.sends) {
      clearTimeout(s.timer);
      void s.it.return?.();
      this.sends.delete(id);
    }
    for (const s of this.receives.values()) clearTimeout(s.timer);
    this.receives.clear();
  }

  private async poolCreate(b: Body): Promise<unknown> {
    const name = str(b, 'name');
    const raw = b.vdevs;
    if (!Array.isArray(raw) || raw.length === 0) throw new ZfsError('EINVAL', `cannot create '${name}': no vdevs`);
    const vdevs: VdevSpec[] = raw.map((v: unknown, i) => {
      const o = (typeof v === 'object' && v !== null ? v : {}) as Body;
      const size = sizeOf(o.size, `vdev ${i} size`);
      const paths = strList(o, 'paths');
      if (o.type === 'mirror') {
        if (paths.length < 2) throw new ZfsError('EINVAL', `cannot create '${name}': a mirror needs two devices`);
        return { type: 'mirror', paths, size };
      }
      if (paths.length !== 1) throw new ZfsError('EINVAL', `cannot create '${name}': vdev ${i} is one file`);
      return { path: paths[0], size };
    });
    await this.pools.create(name, vdevs);
    return {};
  }

  private async create(b: Body): Promise<unknown> {
    const name = str(b, 'name');
    const pool = this.pools.poolOfDataset(name);
    if (b.volsize !== undefined) {
      await pool.createVolume(name, {
        volsize: sizeOf(b.volsize, 'volsize'),
        sparse: b.sparse === true,
        ...(b.volblocksize !== undefined && { volblocksize: sizeOf(b.volblocksize, 'volblocksize') }),
        props: props(b),
      });
    } else await pool.createFilesystem(name, { props: props(b) });
    return {};
  }

  private async destroy(b: Body): Promise<unknown> {
    const name = str(b, 'name');
    const pool = this.pools.poolOfDataset(name);
    if (name.includes('@')) {
      await pool.destroySnapshot(name);
      return {};
    }
    if (!name.includes('/'))
      throw new ZfsError('EINVAL', `cannot destroy '${name}': operation does not apply to pools`);
    this.pools.checkNotBusy(name, 'destroy');
    await pool.destroy(name);
    return {};
  }

  private list(b: Body): DatasetRow[] {
    const types = b.types === undefined ? undefined : strList(b, 'types');
    const names = b.names === undefined ? [] : strList(b, 'names');
    const all = (
      names.length > 0
        ? [...new Set(names.map((n) => this.pools.poolOfDataset(n)))]
        : this.pools.names().map((n) => this.pools.get(n))
    ).flatMap((p) => p.list());
    const rows = all.filter((d) => {
      if (types && !types.includes(d.type)) return false;
      if (names.length === 0) return true;
      return names.some((n) => d.name === n || (b.recursive === true && d.name.startsWith(`${n}/`)));
    });
    for (const n of names)
      if (!all.some((d) => d.name === n)) throw new ZfsError('ENOENT', `cannot open '${n}': dataset does not exist`);
    // zfs list's order: by name, each dataset's snapshots after it, oldest first.
    const key = (d: DatasetInfo) => d.name.split('@')[0];
    rows.sort((a, b) =>
      key(a) !== key(b)
        ? key(a) < key(b)
          ? -1
          : 1
        : (a.type === 'snapshot' ? 1 : 0) - (b.type === 'snapshot' ? 1 : 0) || a.createTxg - b.createTxg,
    );
    return rows.map((d) => ({ ...d, mountpoint: d.type === 'filesystem' ? `/${d.name}` : '-' }));
  }

  private get(b: Body): Array<{ name: string; property: string; value: string; source: string }> {
    const names = strList(b, 'names');
    const wanted = strList(b, 'properties');
    const out: Array<{ name: string; property: string; value: string; source: string }> = [];
    for (const n of names) {
      const pool = this.pools.poolOfDataset(n);
      const values = wanted.includes('all') ? pool.getProperties(n) : wanted.map((p) => pool.getProperty(n, p));
      for (const v of values) out.push({ name: n, ...v });
    }
    return out;
  }

  private sendOpen(b: Body): { session: string } {
    const snap = str(b, 'snapshot');
    if (!snap.includes('@')) throw new ZfsError('EINVAL', `cannot send '${snap}': not a snapshot`);
    const from = optStr(b, 'from');
    const session = randomUUID();
    const stream = this.pools.poolOfDataset(snap).send(snap, from ? { from } : {});
    const s: SendSession = {
      it: stream[Symbol.asyncIterator](),
      bytes: 0,
      timer: this.idle(() => this.sendAbandon(session)),
      buffered: [],
      busy: false,
    };
    this.sends.set(session, s);
    return { session };
  }

  /** The next chunk (base64), or done. A failure ends the session. */
  private async sendNext(b: Body): Promise<{ data: string; bytes: number; done: boolean }> {
    const id = str(b, 'session');
    const s = this.sends.get(id);
    if (!s) throw new ZfsError('ENOENT', `send session ${id} does not exist (finished or abandoned)`);
    if (s.busy) throw new ZfsError('EBUSY', `send session ${id}: the previous chunk is still being read`);
    s.timer.refresh();
    s.busy = true;
    try {
      let size = s.buffered.reduce((n, c) => n + c.length, 0);
      let done = false;
      while (size < CHUNK_BYTES) {
        const r = await s.it.next();
        if (r.done) {
          done = true;
          break;
        }
        s.buffered.push(r.value);
        size += r.value.length;
      }
      const all = Buffer.concat(s.buffered);
      const out = all.subarray(0, CHUNK_BYTES);
      s.buffered = all.length > CHUNK_BYTES ? [all.subarray(CHUNK_BYTES)] : [];
      s.bytes += out.length;
      const finished = done && s.buffered.length === 0;
      if (finished) this.sendAbandon(id);
      return { data: out.toString('base64'), bytes: s.bytes, done: finished };
    } catch (e) {
      this.sendAbandon(id);
      throw e;
    } finally {
      s.busy = false;
    }
  }

  private sendAbandon(id: string): void {
    const s = this.sends.get(id);
    if (!s) return;
    clearTimeout(s.timer);
    this.sends.delete(id);
    void s.it.return?.().catch(() => undefined);
  }

  private receiveOpen(b: Body): { session: string } {
    const target = str(b, 'target');
    this.pools.poolOfDataset(target);
    const session = randomUUID();
    this.receives.set(session, {
      target,
      chunks: [],
      bytes: 0,
      timer: this.idle(() => this.receives.delete(session)),
    });
    return { session };
  }

  private receiveChunk(b: Body): { bytes: number } {
    const s = this.receiveSession(b);
    const data = Buffer.from(str(b, 'data'), 'base64');
    s.chunks.push(data);
    s.bytes += data.length;
    return { bytes: s.bytes };
  }

  private async receiveEnd(b: Body): Promise<{ snapshot: string; bytes: number }> {
    const s = this.receiveSession(b);
    const id = str(b, 'session');
    clearTimeout(s.timer);
    this.receives.delete(id);
    const snapshot = await this.pools.poolOfDataset(s.target).receive(s.target, chunksOf(s.chunks));
    return { snapshot, bytes: s.bytes };
  }

  private receiveSession(b: Body): ReceiveSession {
    const id = str(b, 'session');
    const s = this.receives.get(id);
    if (!s) throw new ZfsError('ENOENT', `receive session ${id} does not exist (finished or abandoned)`);
    s.timer.refresh();
    return s;
  }

  private idle(fn: () => void): NodeJS.Timeout {
    const t = setTimeout(fn, SESSION_IDLE_MS);
    t.unref();
    return t;
  }
}

function str(b: Body, key: string): string {
  const v = b[key];
  if (typeof v !== 'string' || v === '') throw new ZfsError('EINVAL', `missing or invalid '${key}' (a string)`);
  return v;
}

function optStr(b: Body, key: string): string | undefined {
  return b[key] === undefined ? undefined : str(b, key);
}

function strList(b: Body, key: string): string[] {
  const v = b[key];
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string' && x !== ''))
    throw new ZfsError('EINVAL', `missing or invalid '${key}' (a list of strings)`);
  return v as string[];
}

function props(b: Body): Record<string, string> | undefined {
  const v = b.props;
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string'))
    throw new ZfsError('EINVAL', "invalid 'props' (an object of strings)");
  return v as Record<string, string>;
}

function sizeOf(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return v;
  if (typeof v === 'string') return parseSize(v, what);
  throw new ZfsError('EINVAL', `bad size ${JSON.stringify(v)} for ${what}`);
}

/** The received chunks as the engine's stream input. */
function chunksOf(chunks: readonly Buffer[]): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]: () => {
      let i = 0;
      return {
        next: () =>
          Promise.resolve(i < chunks.length ? { done: false, value: chunks[i++] } : { done: true, value: undefined }),
      };
    },
  };
}

// netfront: one vif of this guest (device/vif/<devid>), as Linux netfront drives it (xen-facts §3, §5).
// The handshake is libs/xenbus's XenbusFrontend: at the backend's InitWait it grants a tx and an rx ring
// page to the backend domain, allocates an unbound event channel, writes tx-ring-ref, rx-ring-ref,
// event-channel, request-rx-copy=1, feature-rx-notify=1, its offload flags and goes Connected; once the
// backend is Connected it dials the two ring streams at the backend's `grpc-endpoint`, posts its rx
// buffers (granted pages, re-posted as each is filled) and brings eth<devid> up. Frames go out through
// fragmentTxFrame on granted read-only pages. When the backend falls back (driver domain restarted) the
// handshake runs again with fresh rings; when the toolstack moves the device to another backend
// (`backend`/`backend-id` rewritten), the frontend starts over against the new one.
import { XEN_PAGE_SIZE, type DomId, type GrantRef } from '@dominion/abi';
import { IpStack } from '@dominion/ipstack';
import {
  NETIF_RSP,
  NETRXF,
  NET_RX_RING_SIZE,
  NET_TX_RING_SIZE,
  VIF_BACKEND_KEYS as B,
  VIF_FRONTEND_KEYS as F,
  VIF_TOOLSTACK_FRONTEND_KEYS as T,
  encodeTxSlot,
  fragmentTxFrame,
  type NetifRxRequest,
  type NetifRxResponse,
} from '@dominion/netif';
import { FrontRing, type GrantSpan, type GrantTable } from '@dominion/ring';
import { RingFrontStream, type RingStreamLog } from '@dominion/ringstream';
import {
  S,
  XenbusError,
  XenbusFrontend,
  silentLogger,
  type XenbusBackendView,
  type XenbusKeys,
  type XenbusLogger,
  type XenbusStore,
} from '@dominion/xenbus';
import {
  netifRingIndex,
  netifRxRingCodec,
  netifTxRingCodec,
  type NetifTxEntry,
  type NetifTxEntryResponse,
} from '@dominion/netif';

/** The event-channel hypercalls netfront makes (HypervisorClient has them). */
export interface NetfrontEvtchn {
  evtchnAllocUnbound(remoteDom: DomId): Promise<number>;
  evtchnClose(port: number): Promise<void>;
}

export interface NetfrontOptions {
  store: XenbusStore;
  evtchn: NetfrontEvtchn;
  /** This guest. */
  domid: DomId;
  /** This guest's grant table (GuestMemory.grants). */
  grants: GrantTable;
  /** /local/domain/<me>/device/vif/<devid> */
  path: string;
  /** The domain's nkey seed, which signs the ring streams' proofs. */
  seed: string;
  /** Rx buffers kept posted (default NET_RX_RING_SIZE, as Linux netfront fills its rx ring). */
  rxBuffers?: number;
  /** Handshake waits (default 10 s). */
  timeoutMs?: number;
  logger?: XenbusLogger;
}

export interface NetfrontCounters {
  /** Frames dropped before the ring: not connected, or every tx slot in flight. */
  txDropped: number;
  /** Packets the backend answered NETIF_RSP_ERROR. */
  txErrors: number;
  /** Rx responses carrying an error status. */
  rxErrors: number;
  /** Times the rings were (re)connected. */
  connects: number;
}

/** One xenbus connection: its ring grants, event channel, rings and streams. */
interface Conn {
  backendDomid: DomId;
  backendPath: string;
  ringGrants: GrantRef[];
  port: number | undefined;
  txRef: number;
  rxRef: number;
  tx?: RingFrontStream<NetifTxEntry, NetifTxEntryResponse>;
  rx?: RingFrontStream<NetifRxRequest, NetifRxResponse>;
  /** Free tx slot ids: each slot of a packet takes one, so at most NET_TX_RING_SIZE slots are in flight. */
  txIds: number[];
  /** Fragments of the rx packet being received (NETRXF_more_data). */
  partial: Buffer[];
  partialFlags: number;
  closed: boolean;
  rehandshaking?: boolean;
}

export class Netfront {
  readonly path: string;
  readonly devid: number;
  readonly counters: NetfrontCounters = { txDropped: 0, txErrors: 0, rxErrors: 0, connects: 0 };
  /** eth<devid>'s IPv4 stack; exists once start() read the vif's mac. */
  ip!: IpStack;
  private readonly opts: NetfrontOptions;
  private readonly log: XenbusLogger;
  private fe: XenbusFrontend | undefined;
  private conn: Conn | undefined;
  private backendPath = '';
  private readonly token: string;
  private following: Promise<void> = Promise.resolve();
  private stopped = false;
  private connectedWaiters: Array<() => void> = [];

  constructor(opts: NetfrontOptions) {
    this.opts = opts;
    this.path = opts.path;
    this.devid = Number(opts.path.slice(opts.path.lastIndexOf('/') + 1));
    this.log = opts.logger ?? silentLogger;
    this.token = `netfront:${opts.path}`;
  }

  get name(): string {
    return `eth${this.devid}`;
  }

  /** Whether both rings are connected to the backend now. */
  get connected(): boolean {
    const c = this.conn;
    return c?.tx?.state === 'connected' && c.rx?.state === 'connected';
  }

  /** Reads the vif's mac, mtu and ip, then follows the device's backend (and any move of it). */
  async start(): Promise<void> {
    const store = this.opts.store;
    const mac = await store.tryRead(`${this.path}/${T.MAC}`);
    if (mac === undefined) throw new XenbusError('ENOENT', `${this.path}/${T.MAC}: the vif has no mac`);
    const mtuText = await store.tryRead(`${this.path}/${T.MTU}`);
    const mtu = mtuText === undefined ? undefined : Number(mtuText);
    this.ip = new IpStack({ name: this.name, mac, mtu, send: (frame) => this.transmit(frame) });
    const ip = await this.readIp();
    if (ip) this.ip.configure({ ipv4: ip.address, prefix: ip.prefix });
    await store.watch(`${this.path}/${T.BACKEND}`, this.token, () => {
      this.following = this.following.then(() => this.follow()).catch((e: unknown) => this.fail(e));
    });
    await this.following;
  }

  /** Resolves once both ring streams are connected. */
  whenConnected(timeoutMs = this.opts.timeoutMs ?? 10_000): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new XenbusError('ETIMEDOUT', `${this.path}: rings not connected after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.connectedWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.opts.store.unwatch(`${this.path}/${T.BACKEND}`, this.token).catch(() => undefined);
    await this.following;
    await this.fe?.stop();
    await this.teardown('netfront stopped');
    this.ip?.close();
  }

  /**
   * The address from the vif's `ip` (xl's ip=): the guest's own device dir if the toolstack put it there,
   * else the backend dir where libxl writes it. The first address; prefix /24 unless it says otherwise.
   */
  private async readIp(): Promise<{ address: string; prefix: number } | undefined> {
    const store = this.opts.store;
    let text = await store.tryRead(`${this.path}/ip`).catch(() => undefined);
    if (text === undefined) {
      const be = await store.tryRead(`${this.path}/${T.BACKEND}`).catch(() => undefined);
      if (be !== undefined) text = await store.tryRead(`${be}/ip`).catch(() => undefined);
    }
    const first = text?.trim().split(/\s+/)[0];
    if (!first) return undefined;
    const m = /^([0-9.]+)(?:\/([0-9]{1,2}))?$/.exec(first);
    if (!m) {
      this.log('warn', `${this.path}: ip ${JSON.stringify(text)} is not an IPv4 address; set it with ifconfig`);
      return undefined;
    }
    return { address: m[1], prefix: m[2] === undefined ? 24 : Number(m[2]) };
  }

  /** The `backend` key changed (or this is the start): (re)start the handshake against it. */
  private async follow(): Promise<void> {
    if (this.stopped) return;
    const backend = await this.opts.store.tryRead(`${this.path}/${T.BACKEND}`);
    if (backend === undefined || backend === this.backendPath) return;
    if (this.fe) {
      this.log('info', `${this.path}: backend moved from ${this.backendPath} to ${backend}`);
      await this.fe.stop();
      await this.teardown('backend moved');
    }
    this.backendPath = backend;
    const fe = new XenbusFrontend({
      store: this.opts.store,
      path: this.path,
      publishState: S.Connected,
      timeoutMs: this.opts.timeoutMs,
      logger: this.opts.logger,
      handlers: {
        publish: (b) => this.publish(b),
        connected: (b) => this.connect(b),
        disconnected: (why) => this.teardown(why),
      },
    });
    this.fe = fe;
    await fe.start();
  }

  private fail(e: unknown): void {
    this.log('error', `${this.path}: ${(e as Error).message}`, { error: e });
  }

  /** Backend InitWait: fresh ring grants and event channel, and the keys netfront writes. */
  private async publish(b: XenbusBackendView): Promise<XenbusKeys> {
    await this.teardown('republishing');
    if (b.keys[B.FEATURE_RX_COPY] !== '1')
      throw new XenbusError('EINVAL', `${b.path}/feature-rx-copy: the backend does not copy, and netfront needs it`);
    const grants = this.opts.grants;
    const txRef = grants.grant(b.domid, new Uint8Array(XEN_PAGE_SIZE));
    const rxRef = grants.grant(b.domid, new Uint8Array(XEN_PAGE_SIZE));
    const port = await this.opts.evtchn.evtchnAllocUnbound(b.domid);
    this.conn = {
      backendDomid: b.domid,
      backendPath: b.path,
      ringGrants: [txRef, rxRef],
      port,
      txRef,
      rxRef,
      txIds: Array.from({ length: NET_TX_RING_SIZE }, (_, i) => NET_TX_RING_SIZE - 1 - i),
      partial: [],
      partialFlags: 0,
      closed: false,
    };
    return {
      [F.TX_RING_REF]: String(txRef),
      [F.RX_RING_REF]: String(rxRef),
      [F.EVENT_CHANNEL]: String(port),
      [F.REQUEST_RX_COPY]: '1',
      [F.FEATURE_RX_NOTIFY]: '1',
      [F.FEATURE_SG]: '1',
      [F.FEATURE_GSO_TCPV4]: '0',
      [F.FEATURE_GSO_TCPV6]: '0',
      // This stack fills in every checksum itself.
      [F.FEATURE_NO_CSUM_OFFLOAD]: '1',
      [F.FEATURE_IPV6_CSUM_OFFLOAD]: '0',
    };
  }

  /** Backend Connected: dial both rings, post the rx buffers, bring the interface up. */
  private connect(b: XenbusBackendView): void {
    const c = this.conn;
    if (!c) throw new XenbusError('EINVAL', `${this.path}: backend Connected before the rings were published`);
    if (!b.keys['grpc-endpoint'])
      throw new XenbusError('ENOENT', `${b.path}/grpc-endpoint: the backend published no ring endpoint`);
    const store = this.opts.store;
    const target = (ringRef: number) => async () => ({
      endpoint: (await store.tryRead(`${c.backendPath}/grpc-endpoint`)) ?? b.keys['grpc-endpoint'],
      backend: c.backendDomid,
      device: c.backendPath,
      ringRef,
    });
    const log: RingStreamLog = {
      info: (o, m) => this.log('info', m, o),
      warn: (o, m) => this.log('warn', m, o),
    };
    const onState = (st: string, err: Error | undefined): void => {
      this.log('debug', `${this.name}: ring stream ${st}${err ? `: ${err.message}` : ''}`);
      if (st === 'refused') this.rehandshake(c, err);
      if (this.connected) for (const w of this.connectedWaiters.splice(0)) w();
    };
    const common = { frontendDomid: this.opts.domid, seed: this.opts.seed, log, onState };
    c.tx = new RingFrontStream({
      ...common,
      ring: new FrontRing<NetifTxEntry, NetifTxEntryResponse>({
        size: NET_TX_RING_SIZE,
        backendDomid: c.backendDomid,
        grants: this.opts.grants,
        requestId: netifTxRingCodec.requestId,
        responseId: netifTxRingCodec.responseId,
        label: `${this.name} tx`,
      }),
      codec: netifTxRingCodec,
      queue: netifRingIndex(0, 'tx'),
      target: target(c.txRef),
    });
    c.rx = new RingFrontStream({
      ...common,
      ring: new FrontRing<NetifRxRequest, NetifRxResponse>({
        size: NET_RX_RING_SIZE,
        backendDomid: c.backendDomid,
        grants: this.opts.grants,
        requestId: netifRxRingCodec.requestId,
        responseId: netifRxRingCodec.responseId,
        label: `${this.name} rx`,
      }),
      codec: netifRxRingCodec,
      queue: netifRingIndex(0, 'rx'),
      target: target(c.rxRef),
    });
    const buffers = Math.min(this.opts.rxBuffers ?? NET_RX_RING_SIZE, NET_RX_RING_SIZE);
    for (let id = 0; id < buffers; id++) this.postRx(c, id);
    c.tx.start();
    c.rx.start();
    this.counters.connects++;
    this.ip.up();
  }

  /**
   * A ring refused by a Connected backend: it holds other keys than ours (a restarted backend that took a
   * previous connection's keys for current). Close the device and open it again, which makes the backend
   * read our keys afresh; once per connection.
   */
  private rehandshake(c: Conn, err: Error | undefined): void {
    if (c.closed || c.rehandshaking || this.stopped) return;
    c.rehandshaking = true;
    this.log('warn', `${this.path}: ring refused (${err?.message ?? 'no reason'}): closing and reopening the device`);
    const fe = this.fe;
    this.following = this.following
      .then(async () => {
        if (!fe || fe !== this.fe || this.stopped) return;
        await fe.close();
        await fe.reopen();
      })
      .catch((e: unknown) => this.fail(e));
  }

  /** The rings are gone (backend lost or closing, republish, stop): end their streams and grants. */
  private async teardown(why: string): Promise<void> {
    const c = this.conn;
    if (!c) return;
    this.conn = undefined;
    c.closed = true;
    c.tx?.close(why);
    c.rx?.close(why);
    for (const ref of c.ringGrants) if (this.opts.grants.get(ref)) this.opts.grants.revoke(ref);
    if (c.port !== undefined) await this.opts.evtchn.evtchnClose(c.port).catch(() => undefined);
  }

  /** Posts rx buffer `id`: an empty page granted writable to the backend; re-posted once filled. */
  private postRx(c: Conn, id: number): void {
    if (c.closed || !c.rx) return;
    const page = new Uint8Array(XEN_PAGE_SIZE);
    const gref = this.opts.grants.grant(c.backendDomid, page, false);
    const span: GrantSpan = { ref: gref, outbound: false };
    c.rx.ring.submit({ id, gref }, [span]).then(
      (rsp) => this.received(c, id, page, rsp),
      () => undefined, // the ring closed: its buffers go with it
    );
  }

  private received(c: Conn, id: number, page: Uint8Array, rsp: NetifRxResponse): void {
    if (c.closed) return;
    if (rsp.status < 0 || rsp.offset + rsp.status > XEN_PAGE_SIZE) {
      this.counters.rxErrors++;
      c.partial = [];
    } else {
      if (c.partial.length === 0) c.partialFlags = rsp.flags;
      c.partial.push(Buffer.from(page.subarray(rsp.offset, rsp.offset + rsp.status)));
      if (!(rsp.flags & NETRXF.NETRXF_more_data)) {
        const frame = c.partial.length === 1 ? c.partial[0] : Buffer.concat(c.partial);
        c.partial = [];
        this.ip.receive(frame, c.partialFlags);
      }
    }
    this.postRx(c, id);
  }

  /** One frame from the stack onto the tx ring: one slot per page it spans, each on a read-only grant. */
  private transmit(frame: Buffer): void {
    const c = this.conn;
    const need = Math.ceil(frame.length / XEN_PAGE_SIZE);
    if (!c?.tx || c.closed || c.txIds.length < need) {
      this.counters.txDropped++;
      return;
    }
    const grants = this.opts.grants;
    const ids = c.txIds.splice(c.txIds.length - need, need);
    const granted = new Map<number, Uint8Array>();
    let frags;
    try {
      frags = fragmentTxFrame(frame, {
        slot: (n) => {
          const page = new Uint8Array(XEN_PAGE_SIZE);
          const gref = grants.grant(c.backendDomid, page, true);
          granted.set(gref, page);
          return { id: ids[n], gref };
        },
      });
    } catch (e) {
      for (const ref of granted.keys()) grants.revoke(ref);
      c.txIds.push(...ids);
      this.counters.txDropped++;
      this.log('debug', `${this.name}: tx frame refused: ${(e as Error).message}`);
      return;
    }
    const spans: GrantSpan[] = [];
    const requests = frags.slots.flatMap((s) => (s.kind === 'request' ? [s.request] : []));
    const rest = requests.slice(1).reduce((sum, r) => sum + r.size, 0);
    for (const [n, r] of requests.entries()) {
      granted.get(r.gref)!.set(frags.pages.get(r.gref)!);
      spans.push({ ref: r.gref, offset: r.offset, length: n === 0 ? r.size - rest : r.size });
    }
    const entry: NetifTxEntry = { id: ids[0], slots: frags.slots.map(encodeTxSlot) };
    c.tx.ring.submit(entry, spans).then(
      (rsp) => {
        if (rsp.responses.some((r) => r.status === NETIF_RSP.NETIF_RSP_ERROR)) this.counters.txErrors++;
        c.txIds.push(...ids);
      },
      () => undefined,
    );
  }
}

// The frontend end of one device's xenbus handshake (blkfront's talk_to_blkback and blkback_changed;
// Mini-OS's reconnect sequence, xen-facts §5). It watches `<backend>/state`:
//   InitWait     read the backend's features, write the caller's transport keys (ring-ref(s),
//                event-channel, protocol, multi-queue-num-queues, ...) and Initialised (blkfront; netfront
//                writes Connected) in one transaction, dropping keys a previous connection left behind;
//   Connected    read the backend's device keys and switch to Connected;
//   Closing      (a removal, or the backend gave up on us) release everything and switch to Closed.
// A frontend that starts over a device dir left in another state by a previous instance (guest reboot,
// kexec) first closes it: Closing, wait for the backend to close, Closed, wait for Closed, Initialising,
// which the backend answers with InitWait. Beyond Xen: when the backend falls back below Connected while
// this end is Connected (the driver domain restarted), this end re-announces itself (Initialising, then
// its keys again), which a restarted XenbusBackend waits for.
import type { XenbusStateValue } from '@dominion/abi';
import { parseXenbusState } from '@dominion/abi';
import { XenbusError } from './errors.js';
import { XenbusKeyReader } from './key-reader.js';
import { S, XENBUS_KEYS, stateName } from './keys.js';
import { silentLogger, type XenbusLogger } from './logger.js';
import { Serial, Waiters } from './serial.js';
import { childrenOf, writeKeys, type XenbusKeys, type XenbusStore } from './store.js';

/** The backend as the frontend sees it: its dir and the leaf values read there. */
export interface XenbusBackendView {
  path: string;
  domid: number;
  /** Keys directly in the backend dir (feature-*, sectors, ...), read when the view was taken. */
  keys: XenbusKeys;
}

export type XenbusFrontendDisconnect = 'backend-lost' | 'backend-closing' | 'closed' | 'stopped';

export interface XenbusFrontendHandlers {
  /** Given the backend's features (at InitWait), the transport keys to publish (relative to the frontend dir). */
  publish(backend: XenbusBackendView): XenbusKeys | Promise<XenbusKeys>;
  /** The backend is Connected; its device keys are in `backend.keys`. Runs before this end switches to Connected. */
  connected?(backend: XenbusBackendView): void | Promise<void>;
  /** The connection is gone, for the reason given. */
  disconnected?(why: XenbusFrontendDisconnect): void | Promise<void>;
}

export interface XenbusFrontendOptions {
  store: XenbusStore;
  /** /local/domain/<fe>/device/<type>/<devid> */
  path: string;
  handlers: XenbusFrontendHandlers;
  /** The state written with the transport keys: Initialised (blkfront, default) or Connected (netfront). */
  publishState?: typeof S.Initialised | typeof S.Connected;
  /** How long each wait for the backend lasts (close, restart cycle); default 10 s as libxl waits. */
  timeoutMs?: number;
  logger?: XenbusLogger;
}

type Phase = 'idle' | 'published' | 'connected' | 'closing' | 'closed';

export class XenbusFrontend {
  readonly path: string;
  private readonly store: XenbusStore;
  private readonly handlers: XenbusFrontendHandlers;
  private readonly publishState: typeof S.Initialised | typeof S.Connected;
  private readonly timeoutMs: number;
  private readonly log: XenbusLogger;
  private readonly token: string;
  private readonly serial: Serial;
  private backendPath = '';
  private backendDomid = 0;
  private backendState: XenbusStateValue = S.Unknown;
  private readonly backendWaiters: Waiters<XenbusStateValue>;
  private readonly ownWaiters: Waiters<Phase>;
  private _state: XenbusStateValue = S.Unknown;
  private phase: Phase = 'idle';
  /** Top-level keys the last publish wrote, removed if the next one does not write them again. */
  private published = new Set<string>();
  private _backend: XenbusBackendView | undefined;
  private stopped = false;
  /** Times this end reached Connected (a reconnect counts again). */
  connects = 0;

  constructor(opts: XenbusFrontendOptions) {
    this.store = opts.store;
    this.path = opts.path;
    this.handlers = opts.handlers;
    this.publishState = opts.publishState ?? S.Initialised;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.log = opts.logger ?? silentLogger;
    this.token = `xenbus-front:${opts.path}:${Math.random().toString(36).slice(2)}`;
    this.serial = new Serial(
      () => this.step(),
      (e) => this.log('error', `${this.what()}: ${(e as Error).message}`, { error: e }),
    );
    this.backendWaiters = new Waiters(() => this.backendState);
    this.ownWaiters = new Waiters(() => this.phase);
  }

  get state(): XenbusStateValue {
    return this._state;
  }

  /** The backend as last read (features at InitWait, device keys at Connected). */
  get backend(): XenbusBackendView | undefined {
    return this._backend;
  }

  /**
   * Reads `backend`/`backend-id`, cleans up after a previous instance if needed, and starts the handshake.
   * Resolves once it runs; whenConnected() waits for the end of it.
   */
  async start(): Promise<void> {
    const r = new XenbusKeyReader(this.store, this.path);
    this.backendPath = await r.string(XENBUS_KEYS.BACKEND);
    this.backendDomid = await r.uint(XENBUS_KEYS.BACKEND_ID, { max: 0x7fef });
    this._state = parseXenbusState(await r.optString(XENBUS_KEYS.STATE));
    this.phase = 'closing'; // no reaction to the backend until the slate is clean
    await this.store.watch(`${this.backendPath}/${XENBUS_KEYS.STATE}`, this.token, () => this.serial.kick());
    await this.serial.settled();
    await this.refreshBackendState();
    const fresh = this._state === S.Initialising || this._state === S.Unknown;
    if (!fresh || this.backendState > S.InitWait) {
      this.log(
        'info',
        `${this.what()}: found at ${stateName(this._state)}, backend ${stateName(this.backendState)}: closing first`,
      );
      await this.closeCycle();
      await this.switchState(S.Initialising);
    }
    this.phase = 'idle';
    this.serial.kick();
  }

  /** Resolves with the backend's view once this end is Connected; fails if the device closes first. */
  async whenConnected(timeoutMs = this.timeoutMs): Promise<XenbusBackendView> {
    const phase = await this.ownWaiters.wait(
      (p) => p === 'connected' || p === 'closed',
      timeoutMs,
      () =>
        new XenbusError(
          'ETIMEDOUT',
          `${this.what()}: not Connected after ${timeoutMs} ms (frontend ${stateName(this._state)}, backend ${this.backendPath} ${stateName(this.backendState)})`,
        ),
    );
    if (phase === 'closed') {
      throw new XenbusError(
        'ESHUTDOWN',
        `${this.what()}: closed before Connected (backend ${this.backendPath} ${stateName(this.backendState)})`,
      );
    }
    return this._backend!;
  }

  /** Closes the device (Closing, backend Closing, Closed, backend Closed); it stays watched for reopen(). */
  async close(): Promise<void> {
    await this.serial.settled();
    const was = this.phase;
    this.phase = 'closing';
    await this.closeCycle();
    this.phase = 'closed';
    this.ownWaiters.check();
    if (was === 'connected' || was === 'published') await this.handlers.disconnected?.('closed');
  }

  /** After close(): Initialising, and the handshake runs again (the backend answers with InitWait). */
  async reopen(): Promise<void> {
    await this.serial.settled();
    await this.switchState(S.Initialising);
    this.phase = 'idle';
    this.serial.kick();
  }

  /** Stops watching; writes nothing (the guest going away). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.store.unwatch(`${this.backendPath}/${XENBUS_KEYS.STATE}`, this.token).catch(() => undefined);
    await this.serial.settled();
    const err = new XenbusError('ESHUTDOWN', `${this.what()}: stopped`);
    this.backendWaiters.failAll(err);
    this.ownWaiters.failAll(err);
    if (this.phase === 'connected') await this.handlers.disconnected?.('stopped');
  }

  private what(): string {
    return `frontend ${this.path}`;
  }

  private async switchState(s: XenbusStateValue): Promise<void> {
    await this.store.write(`${this.path}/${XENBUS_KEYS.STATE}`, String(s));
    this.log('debug', `${this.what()}: ${stateName(this._state)} -> ${stateName(s)}`);
    this._state = s;
  }

  private async refreshBackendState(): Promise<XenbusStateValue> {
    // A backend dir this domain may no longer read (its driver domain died) is a backend gone.
    const text = await this.store.tryRead(`${this.backendPath}/${XENBUS_KEYS.STATE}`).catch((e: unknown) => {
      if ((e as { kind?: unknown } | null)?.kind === 'EACCES') return undefined;
      throw e;
    });
    this.backendState = parseXenbusState(text);
    this.backendWaiters.check();
    return this.backendState;
  }

  private waitBackend(ok: (s: XenbusStateValue) => boolean, what: string): Promise<XenbusStateValue> {
    return this.backendWaiters.wait(
      ok,
      this.timeoutMs,
      (s) =>
        new XenbusError(
          'ETIMEDOUT',
          `${this.what()}: backend ${this.backendPath}/state still ${stateName(s)} after ${this.timeoutMs} ms waiting for ${what}`,
        ),
    );
  }

  /** Closing, wait for the backend to close (or be gone), Closed, wait for it to be Closed (or gone). */
  private async closeCycle(): Promise<void> {
    const gone = (s: XenbusStateValue) => s === S.Unknown;
    if (this._state !== S.Closed) {
      if (this._state !== S.Closing) await this.switchState(S.Closing);
      await this.waitBackend((s) => s === S.Closing || s === S.Closed || gone(s), 'Closing');
      await this.switchState(S.Closed);
    }
    await this.waitBackend((s) => s === S.Closed || gone(s), 'Closed');
  }

  private async snapshot(): Promise<XenbusBackendView> {
    const keys: XenbusKeys = {};
    for (const k of await childrenOf(this.store, this.backendPath)) {
      const v = await this.store.tryRead(`${this.backendPath}/${k}`);
      if (v !== undefined) keys[k] = v;
    }
    return { path: this.backendPath, domid: this.backendDomid, keys };
  }

  private async step(): Promise<void> {
    if (this.stopped) return;
    const be = await this.refreshBackendState();
    if (this.phase === 'closing' || this.phase === 'closed' || this.stopped) return;
    this.log('debug', `${this.what()}: backend ${stateName(be)}, frontend ${stateName(this._state)}`);

    if (this.phase === 'connected' && (be === S.Unknown || be === S.Initialising || be === S.InitWait)) {
      this.log('warn', `${this.what()}: backend fell back to ${stateName(be)}: reconnecting`);
      this.phase = 'idle';
      this.ownWaiters.check();
      await this.handlers.disconnected?.('backend-lost');
      await this.switchState(S.Initialising);
    }
    switch (be) {
      case S.InitWait:
        if (this.phase === 'idle') await this.publish();
        return;
      case S.Connected:
        if (this.phase === 'published') await this.connected();
        return;
      case S.Closing:
      case S.Closed:
        if (this.phase === 'idle' && be === S.Closed) return;
        this.log('info', `${this.what()}: backend ${stateName(be)}: closing`);
        this.phase = 'closed';
        this.ownWaiters.check();
        await this.handlers.disconnected?.('backend-closing');
        await this.switchState(S.Closed);
        return;
      default:
        return;
    }
  }

  private async publish(): Promise<void> {
    const backend = await this.snapshot();
    this._backend = backend;
    const keys = await this.handlers.publish(backend);
    const top = new Set(Object.keys(keys).map((k) => k.split('/')[0]));
    const leftovers = [...this.published].filter((k) => !top.has(k));
    await this.store.transaction(async (tx) => {
      for (const k of leftovers) await tx.rm(`${this.path}/${k}`);
      await writeKeys(tx, this.path, keys);
      await tx.write(`${this.path}/${XENBUS_KEYS.STATE}`, String(this.publishState));
    });
    this.published = top;
    this._state = this.publishState;
    this.phase = 'published';
    this.log('info', `${this.what()}: published ${[...top].join(', ')}; ${stateName(this.publishState)}`);
  }

  private async connected(): Promise<void> {
    const backend = await this.snapshot();
    this._backend = backend;
    await this.handlers.connected?.(backend);
    if (this._state !== S.Connected) await this.switchState(S.Connected);
    this.phase = 'connected';
    this.connects++;
    this.ownWaiters.check();
    this.log('info', `${this.what()}: Connected to backend domain ${this.backendDomid}`);
  }
}

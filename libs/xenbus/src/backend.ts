// The backend end of one device's xenbus handshake, as Linux blkback's xenbus.c drives it (xen-facts §5):
// probe publishes the caller's features and switches to InitWait; the frontend's state, watched at
// `<frontend>/state`, then decides everything (frontend_changed):
//   Initialising   while this end is Closed: back to InitWait ("prepare for reconnect");
//   Initialised / Connected (those in `connectOn`): read and check the frontend's keys, connect, publish
//                  the caller's device keys and Connected in one transaction; a bad key is fatal: the
//                  error goes to `<home>/error/<device>/error` and this end switches to Closing;
//   Closing        switch to Closing;
//   Closed         disconnect, switch to Closed; unless `online` is 1 the device is then removed;
//   Unknown        (the frontend's state is gone) disconnect, Closed, removed;
//   anything else  fatal.
// Beyond Xen, for a backend restarted over a live device: a backend that finds its own `state` already
// past Initialising is a restart, and a frontend still at Connected is then a leftover of the previous
// backend; it is not connected to until the frontend re-announces itself (as XenbusFrontend does when its
// backend falls back to InitWait: Initialising, then its keys again), so that no stale keys are used.
// A re-announcing netfront goes Initialising -> Connected, and one read of its state may see only the
// second, which looks just like the leftover: so the re-announcement is any write to the frontend's
// `state` after this end wrote InitWait, seen as a watch event (the watch is set, and its registration
// event consumed, before InitWait is written). This holds whether `connectOn` has Initialised or not.
import type { XenbusStateValue } from '@dominion/abi';
import { parseXenbusState, XEN_ERRNO } from '@dominion/abi';
import { XenbusError } from './errors.js';
import { XenbusKeyReader } from './key-reader.js';
import { S, XENBUS_KEYS, deviceLabel, errorPath, stateName } from './keys.js';
import { silentLogger, type XenbusLogger } from './logger.js';
import { Serial, Waiters } from './serial.js';
import { writeKeys, type XenbusKeys, type XenbusStore } from './store.js';

export interface XenbusDevice {
  backendPath: string;
  frontendPath: string;
  frontendDomid: number;
  /** `<fe>/<devid>`, for log lines. */
  label: string;
}

export interface XenbusBackendHandlers<T> {
  /** Keys published with InitWait (relative to the backend dir): what the frontend reads before connecting. */
  probe?(dev: XenbusDevice): XenbusKeys | Promise<XenbusKeys>;
  /** Reads and checks the frontend's keys; a XenbusError (naming the path) is fatal to the handshake. */
  readFrontend(r: XenbusKeyReader, dev: XenbusDevice): Promise<T>;
  /** Sets the device up with them; returns the keys published with Connected (sectors, info, ...). */
  connect(transport: T, dev: XenbusDevice): XenbusKeys | Promise<XenbusKeys>;
  /** Tears down what connect set up; called whenever the device leaves Connected (and harmlessly otherwise). */
  disconnect?(dev: XenbusDevice, why: string): void | Promise<void>;
}

export interface XenbusBackendOptions<T> {
  store: XenbusStore;
  /** /local/domain/<be>/backend/<type>/<fe>/<devid> */
  path: string;
  handlers: XenbusBackendHandlers<T>;
  /** Frontend states that make this end connect: blkback both (default), netback Connected only. */
  connectOn?: readonly XenbusStateValue[];
  logger?: XenbusLogger;
}

export class XenbusBackend<T> {
  readonly device: XenbusDevice;
  private readonly store: XenbusStore;
  private readonly handlers: XenbusBackendHandlers<T>;
  private readonly connectOn: readonly XenbusStateValue[];
  private readonly log: XenbusLogger;
  private readonly token: string;
  private readonly serial: Serial;
  private readonly waiters: Waiters<XenbusStateValue>;
  private _state: XenbusStateValue = S.Unknown;
  private _transport: T | undefined;
  private stale: boolean;
  /** InitWait is written: a watch event from now on is a write by the frontend. */
  private probed = false;
  /** The frontend wrote its state since InitWait (a restart's leftover then re-announced itself). */
  private frontendWrote = false;
  private registered!: () => void;
  private stopped = false;
  private resolveDone!: () => void;
  /** Resolves when the device was removed (frontend Closed with online 0, or gone) or stop() was called. */
  readonly done: Promise<void>;
  /** The last fatal error (a bad frontend key), if any. */
  lastError: Error | undefined;

  private constructor(opts: XenbusBackendOptions<T>, device: XenbusDevice, previous: XenbusStateValue) {
    this.store = opts.store;
    this.device = device;
    this.handlers = opts.handlers;
    this.connectOn = opts.connectOn ?? [S.Initialised, S.Connected];
    this.log = opts.logger ?? silentLogger;
    this.token = `xenbus-back:${device.backendPath}:${Math.random().toString(36).slice(2)}`;
    this.stale = previous !== S.Unknown && previous !== S.Initialising;
    this.serial = new Serial(
      () => this.step(),
      (e) => this.log('error', `${this.what()}: ${(e as Error).message}`, { error: e }),
    );
    this.waiters = new Waiters(() => this._state);
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  /** Probes the device (features, InitWait) and starts following its frontend. */
  static async start<T>(opts: XenbusBackendOptions<T>): Promise<XenbusBackend<T>> {
    const r = new XenbusKeyReader(opts.store, opts.path);
    const frontendPath = await r.string(XENBUS_KEYS.FRONTEND);
    const frontendDomid = await r.uint(XENBUS_KEYS.FRONTEND_ID, { max: 0x7fef });
    const previous = parseXenbusState(await r.optString(XENBUS_KEYS.STATE));
    const device: XenbusDevice = {
      backendPath: opts.path,
      frontendPath,
      frontendDomid,
      label: deviceLabel(opts.path),
    };
    const b = new XenbusBackend(opts, device, previous);
    const keys = (await opts.handlers.probe?.(device)) ?? {};
    // Watching before InitWait, so that the frontend's answer to it cannot slip by unseen.
    const registered = new Promise<void>((r) => (b.registered = r));
    await opts.store.watch(`${frontendPath}/${XENBUS_KEYS.STATE}`, b.token, () => b.onWatch());
    // The registration event; bounded, for a store that would not fire it (its absence costs nothing but
    // the chance of taking that event for the frontend's re-announcement).
    await Promise.race([registered, new Promise((r) => setTimeout(r, 2000).unref())]);
    await opts.store.transaction(async (tx) => {
      await writeKeys(tx, opts.path, keys);
      await tx.write(`${opts.path}/${XENBUS_KEYS.STATE}`, String(S.InitWait));
    });
    b.probed = true;
    b.setState(S.InitWait);
    b.log('info', `${b.what()}: probed, InitWait${b.stale ? ' (restarted over a live device)' : ''}`, {
      frontend: frontendPath,
      previous: stateName(previous),
    });
    b.serial.kick();
    return b;
  }

  private onWatch(): void {
    if (!this.probed) {
      this.registered();
      return;
    }
    this.frontendWrote = true;
    this.serial.kick();
  }

  get state(): XenbusStateValue {
    return this._state;
  }

  /** What readFrontend returned for the current connection. */
  get transport(): T | undefined {
    return this._transport;
  }

  /** Resolves once this end's state satisfies `ok`. */
  async whenState(ok: (s: XenbusStateValue) => boolean, timeoutMs = 10_000): Promise<XenbusStateValue> {
    return this.waiters.wait(
      ok,
      timeoutMs,
      (s) => new XenbusError('ETIMEDOUT', `${this.what()}: still ${stateName(s)} after ${timeoutMs} ms`),
    );
  }

  /** Stops following the frontend (the backend process going away); writes nothing. */
  async stop(why = 'backend stopped'): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.serial.settled();
    await this.shutdown(why);
  }

  private async shutdown(why: string): Promise<void> {
    this.stopped = true;
    await this.store.unwatch(`${this.device.frontendPath}/${XENBUS_KEYS.STATE}`, this.token).catch(() => undefined);
    await this.disconnect(why);
    this.waiters.failAll(new XenbusError('ESHUTDOWN', `${this.what()}: ${why}`));
    this.resolveDone();
  }

  private what(): string {
    return `backend ${this.device.backendPath}`;
  }

  private setState(s: XenbusStateValue): void {
    this._state = s;
    this.waiters.check();
  }

  private async switchState(s: XenbusStateValue): Promise<void> {
    if (this._state === s) return;
    await this.store.write(`${this.device.backendPath}/${XENBUS_KEYS.STATE}`, String(s));
    this.log('debug', `${this.what()}: ${stateName(this._state)} -> ${stateName(s)}`);
    this.setState(s);
  }

  private async disconnect(why: string): Promise<void> {
    const had = this._transport !== undefined;
    this._transport = undefined;
    try {
      await this.handlers.disconnect?.(this.device, why);
    } catch (e) {
      this.log('error', `${this.what()}: disconnect failed: ${(e as Error).message}`, { error: e });
    }
    if (had) this.log('info', `${this.what()}: disconnected (${why})`);
  }

  private async step(): Promise<void> {
    if (this.stopped || !this.probed) return;
    if (this.frontendWrote) this.stale = false;
    const fe = parseXenbusState(await this.store.tryRead(`${this.device.frontendPath}/${XENBUS_KEYS.STATE}`));
    if (this.stopped) return;
    this.log('debug', `${this.what()}: frontend ${stateName(fe)}, backend ${stateName(this._state)}`);
    switch (fe) {
      case S.Initialising:
        this.stale = false;
        if (this._state === S.Closed) {
          this.log('info', `${this.what()}: prepare for reconnect`);
          await this.switchState(S.InitWait);
        }
        return;
      case S.Initialised:
      case S.Connected:
        if (fe === S.Initialised) this.stale = false;
        if (!this.connectOn.includes(fe) || this._state === S.Connected) return;
        if (this.stale) {
          this.log('info', `${this.what()}: frontend Connected to a previous backend; waiting for it to re-announce`);
          return;
        }
        await this.connect();
        return;
      case S.Closing:
        this.stale = false;
        await this.switchState(S.Closing);
        return;
      case S.Closed:
        this.stale = false;
        await this.disconnect('frontend closed');
        await this.switchState(S.Closed);
        if ((await this.store.tryRead(`${this.device.backendPath}/${XENBUS_KEYS.ONLINE}`)) === '1') return;
        return this.removed('frontend closed and online is not 1');
      case S.Unknown:
        await this.disconnect('frontend gone');
        await this.switchState(S.Closed);
        return this.removed('frontend state is gone');
      default:
        return this.fatal(
          new XenbusError('EINVAL', `${this.device.frontendPath}/state: saw state ${stateName(fe)} at frontend`),
        );
    }
  }

  private async connect(): Promise<void> {
    // Idempotent: a frontend may go Initialised -> Connected before this end got to connect.
    await this.disconnect('reconnecting');
    let transport: T;
    let keys: XenbusKeys;
    try {
      transport = await this.handlers.readFrontend(
        new XenbusKeyReader(this.store, this.device.frontendPath),
        this.device,
      );
      keys = await this.handlers.connect(transport, this.device);
    } catch (e) {
      return this.fatal(e);
    }
    this._transport = transport;
    await this.store.transaction(async (tx) => {
      await writeKeys(tx, this.device.backendPath, keys);
      await tx.write(`${this.device.backendPath}/${XENBUS_KEYS.STATE}`, String(S.Connected));
    });
    this.setState(S.Connected);
    this.log('info', `${this.what()}: Connected to frontend domain ${this.device.frontendDomid}`);
  }

  /** xenbus_dev_fatal: report the error in XenStore and close. */
  private async fatal(e: unknown): Promise<void> {
    const err = e instanceof Error ? e : new Error(String(e));
    this.lastError = err;
    const kind = (err as { kind?: unknown }).kind;
    const errno =
      typeof kind === 'string' && kind in XEN_ERRNO ? XEN_ERRNO[kind as keyof typeof XEN_ERRNO] : XEN_ERRNO.EIO;
    this.log('error', `${this.what()}: ${err.message}`, { frontendDomid: this.device.frontendDomid });
    await this.store
      .write(errorPath(this.device.backendPath), `${errno} ${err.message}`)
      .catch((w: unknown) => this.log('warn', `${this.what()}: could not record the error: ${(w as Error).message}`));
    await this.disconnect('fatal error');
    await this.switchState(S.Closing);
  }

  private async removed(why: string): Promise<void> {
    this.log('info', `${this.what()}: removed (${why})`);
    // Inside a step: stop() would wait for this very step to settle.
    await this.shutdown(why);
  }
}

// A driver domain's view of its backend directory, `/local/domain/<be>/backend/<type>`, as the Linux
// xenbus backend bus enumerates it: one watch on the whole directory; a device `<fe>/<devid>` is probed
// once the toolstack has written its `frontend` and `frontend-id`; a device whose directory is removed is
// stopped. Each device runs its own XenbusBackend handshake.
import { XenbusBackend, type XenbusBackendOptions } from './backend.js';
import { XENBUS_KEYS } from './keys.js';
import { silentLogger, type XenbusLogger } from './logger.js';
import { Serial } from './serial.js';
import { childrenOf, type XenbusStore } from './store.js';

export interface XenbusBackendDirOptions<T> {
  store: XenbusStore;
  /** /local/domain/<be>/backend/<type> */
  path: string;
  /** The handshake options for one device (its path given). */
  device(path: string): Omit<XenbusBackendOptions<T>, 'store' | 'path'>;
  logger?: XenbusLogger;
}

const NUMERIC = /^[0-9]+$/;

export class XenbusBackendDir<T> {
  private readonly devices = new Map<string, XenbusBackend<T> | 'starting'>();
  /** Devices that failed to probe or were removed: not probed again until their directory is gone. */
  private readonly parked = new Set<string>();
  private readonly serial: Serial;
  private readonly token: string;
  private readonly log: XenbusLogger;
  private stopped = false;

  private constructor(private readonly opts: XenbusBackendDirOptions<T>) {
    this.log = opts.logger ?? silentLogger;
    this.token = `xenbus-backdir:${opts.path}:${Math.random().toString(36).slice(2)}`;
    this.serial = new Serial(
      () => this.scan(),
      (e) => this.log('error', `backend dir ${opts.path}: ${(e as Error).message}`, { error: e }),
    );
  }

  static async watch<T>(opts: XenbusBackendDirOptions<T>): Promise<XenbusBackendDir<T>> {
    const d = new XenbusBackendDir(opts);
    await opts.store.watch(opts.path, d.token, () => d.serial.kick());
    return d;
  }

  /** The running devices by path. */
  get backends(): Map<string, XenbusBackend<T>> {
    const out = new Map<string, XenbusBackend<T>>();
    for (const [p, b] of this.devices) if (b !== 'starting') out.set(p, b);
    return out;
  }

  /** Resolves once the scans caused by events so far are done. */
  settled(): Promise<void> {
    return this.serial.settled();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.opts.store.unwatch(this.opts.path, this.token).catch(() => undefined);
    await this.serial.settled();
    for (const b of this.backends.values()) await b.stop();
    this.devices.clear();
  }

  private async scan(): Promise<void> {
    if (this.stopped) return;
    const { store, path } = this.opts;
    const present = new Set<string>();
    for (const fe of await childrenOf(store, path)) {
      if (!NUMERIC.test(fe)) continue;
      for (const devid of await childrenOf(store, `${path}/${fe}`)) {
        if (NUMERIC.test(devid)) present.add(`${path}/${fe}/${devid}`);
      }
    }
    for (const [p, b] of this.devices) {
      if (present.has(p) || b === 'starting') continue;
      this.devices.delete(p);
      this.log('info', `backend dir ${path}: ${p} removed`);
      await b.stop('device directory removed');
    }
    for (const p of this.parked) if (!present.has(p)) this.parked.delete(p);
    for (const p of present) {
      if (this.devices.has(p) || this.parked.has(p)) continue;
      // The toolstack writes the whole directory in one transaction; until then there is nothing to probe.
      if ((await store.tryRead(`${p}/${XENBUS_KEYS.FRONTEND_ID}`)) === undefined) continue;
      this.devices.set(p, 'starting');
      try {
        const b = await XenbusBackend.start<T>({ ...this.opts.device(p), store, path: p });
        this.devices.set(p, b);
        void b.done.then(() => {
          if (this.devices.get(p) !== b) return;
          this.devices.delete(p);
          this.parked.add(p);
        });
      } catch (e) {
        this.devices.delete(p);
        this.parked.add(p);
        this.log('error', `backend dir ${path}: probing ${p} failed: ${(e as Error).message}`, { error: e });
      }
    }
  }
}

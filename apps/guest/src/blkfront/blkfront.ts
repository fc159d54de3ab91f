// The guest's block frontend driver: one BlkfrontDevice per `device/vbd/<devid>` in its home, found at
// boot and on hot-plug (a watch on device/vbd), dropped when the toolstack removes the dir.
import type { DomId } from '@dominion/abi';
import { childrenOf, silentLogger, type XenbusLogger, type XenbusStore } from '@dominion/xenbus';
import type { GuestMemory } from '../memory.js';
import type { BlockDevice, BlockDevices } from './block-device.js';
import { BlkfrontDevice, type BlkfrontDeviceOptions, type BlkfrontEvtchn } from './device.js';
import { FramePool } from './frames.js';

export interface BlkfrontOptions {
  store: XenbusStore;
  /** /local/domain/<me> */
  home: string;
  domid: DomId;
  memory: GuestMemory;
  evtchn: BlkfrontEvtchn;
  seed: string;
  /** Guest frames blkfront may use for rings and I/O; default a quarter of memory, at most 4096 (16 MiB). */
  frames?: number;
  /** How long boot waits for the disks present at boot to connect; default 10 s. */
  bootTimeoutMs?: number;
  device?: Partial<
    Pick<
      BlkfrontDeviceOptions,
      'maxQueues' | 'ringPageOrder' | 'maxIndirectSegments' | 'drainMs' | 'timeoutMs' | 'retry'
    >
  >;
  logger?: XenbusLogger;
}

export class Blkfront implements BlockDevices {
  private readonly devices = new Map<number, BlkfrontDevice>();
  private readonly frames: FramePool;
  private readonly log: XenbusLogger;
  private readonly token: string;
  private scanning: Promise<void> = Promise.resolve();
  private stopped = false;

  private constructor(private readonly opts: BlkfrontOptions) {
    this.log = opts.logger ?? silentLogger;
    const n = Math.min(opts.frames ?? Math.min(4096, Math.floor(opts.memory.nrFrames / 4)), opts.memory.nrFrames);
    // The top of memory, far from what a kernel touches first.
    this.frames = new FramePool(opts.memory, opts.memory.nrFrames - n, n);
    this.token = `blkfront:${opts.home}:${Math.random().toString(36).slice(2)}`;
  }

  /** Connects every disk present at boot (each waited for up to bootTimeoutMs), then follows hot-plug. */
  static async start(opts: BlkfrontOptions): Promise<Blkfront> {
    const b = new Blkfront(opts);
    await b.scan();
    const timeout = opts.bootTimeoutMs ?? 10_000;
    const results = await Promise.allSettled([...b.devices.values()].map((d) => d.whenConnected(timeout)));
    for (const r of results)
      if (r.status === 'rejected') b.log('warn', `blkfront: ${(r.reason as Error).message}; booting without it`);
    await opts.store.watch(b.dir(), b.token, () => {
      b.scanning = b.scanning.then(() => b.scan()).catch((e: unknown) => b.log('error', `blkfront: ${String(e)}`));
    });
    return b;
  }

  /** Disks that connected at least once, by device number. */
  list(): BlockDevice[] {
    return [...this.devices.values()].filter((d) => d.connects > 0).sort((a, b) => a.devid - b.devid);
  }

  get(name: string): BlkfrontDevice | undefined {
    const n = name.startsWith('/dev/') ? name.slice(5) : name;
    return [...this.devices.values()].find((d) => d.name === n && d.connects > 0);
  }

  /** Every device, connected or not (diagnostics and tests). */
  get all(): BlkfrontDevice[] {
    return [...this.devices.values()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.opts.store.unwatch(this.dir(), this.token).catch(() => undefined);
    await this.scanning;
    for (const d of this.devices.values()) await d.stop();
    this.devices.clear();
  }

  private dir(): string {
    return `${this.opts.home}/device/vbd`;
  }

  private async scan(): Promise<void> {
    if (this.stopped) return;
    const present = new Set(
      (await childrenOf(this.opts.store, this.dir())).filter((c) => /^[0-9]+$/.test(c)).map(Number),
    );
    for (const [devid, d] of this.devices) {
      if (present.has(devid)) continue;
      this.devices.delete(devid);
      this.log('info', `blkfront: ${d.name} (${d.path}) removed`);
      await d.stop();
    }
    for (const devid of present) {
      if (this.devices.has(devid)) continue;
      const path = `${this.dir()}/${devid}`;
      // The toolstack writes the dir in one transaction; until `backend` is there, there is nothing to do.
      if ((await this.opts.store.tryRead(`${path}/backend`)) === undefined) continue;
      const d = new BlkfrontDevice({
        ...this.opts.device,
        store: this.opts.store,
        path,
        domid: this.opts.domid,
        memory: this.opts.memory,
        frames: this.frames,
        evtchn: this.opts.evtchn,
        seed: this.opts.seed,
        logger: this.log,
      });
      this.devices.set(devid, d);
      try {
        await d.start();
      } catch (e) {
        this.log('error', `blkfront: ${path}: ${(e as Error).message}`);
      }
    }
  }
}

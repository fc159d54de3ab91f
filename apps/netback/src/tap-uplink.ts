// A TAP uplink: a Linux TAP device whose frames a supervised socat carries to and from a datagram
// uplink on 127.0.0.1 (Node has no ioctl to open a TAP itself):
//   socat TUN,tun-type=tap,iff-no-pi,tun-name=<tap>,iff-up UDP-DATAGRAM:127.0.0.1:<ours>,bind=127.0.0.1:<its>
// `iff-no-pi` keeps the 4-byte tun_pi header off the frames. The TAP lives as long as socat: if socat
// dies it is started again (with backoff) and makes a fresh TAP in this network namespace; whoever had
// moved the old one elsewhere must move the new one. Needs CAP_NET_ADMIN and socat.
import { readFile } from 'node:fs/promises';
import dgram from 'node:dgram';
import type { PortConfig } from '@dominion/switch';
import type { Bridge } from './bridge.js';
import { ChildSupervisor, onPath } from './child-supervisor.js';
import { DatagramUplink } from './dgram-uplink.js';
import { NetbackError } from './errors.js';
import { silentLogger, type NetbackLogger } from './logger.js';

export interface TapUplinkOptions {
  bridge: Bridge;
  /** The TAP's name (and the port's, unless `name` is given). */
  tap: string;
  name?: string;
  port?: Omit<PortConfig, 'name' | 'owner'>;
  /** socat's path; default `socat` on PATH. */
  socat?: string;
  /**
   * socat brings the TAP up (iff-up; default true). False for a TAP that will be moved into a network
   * namespace and brought up there: an up TAP in the host namespace carries the host's own IPv6 chatter onto
   * the bridge, and socat dies (EIO) writing a flooded frame into a TAP that the move has just taken down.
   */
  linkUp?: boolean;
  /** How long socat has to bring the TAP up before it counts as failed (default 5 s). */
  readyMs?: number;
  backoff?: { initialMs?: number; maxMs?: number; stableMs?: number };
  logger?: NetbackLogger;
}

const LOOPBACK = '127.0.0.1';

export class TapUplink {
  readonly tap: string;
  private readonly supervisor: ChildSupervisor;
  private readyWaiters: Array<() => void> = [];
  private up = false;

  private constructor(
    readonly dgram: DatagramUplink,
    opts: TapUplinkOptions,
    socat: string,
  ) {
    this.tap = opts.tap;
    const log = opts.logger ?? silentLogger;
    const readyMs = opts.readyMs ?? 5000;
    this.supervisor = new ChildSupervisor({
      what: `socat for TAP ${opts.tap}`,
      logger: log,
      ...opts.backoff,
      command: async () => {
        this.up = false;
        const its = await freeUdpPort();
        this.dgram.setRemote({ host: LOOPBACK, port: its });
        return {
          file: socat,
          args: [
            `TUN,tun-type=tap,iff-no-pi,tun-name=${opts.tap}${opts.linkUp === false ? '' : ',iff-up'}`,
            `UDP-DATAGRAM:${LOOPBACK}:${this.dgram.local.port},bind=${LOOPBACK}:${its}`,
          ],
        };
      },
      started: async (child) => {
        const end = Date.now() + readyMs;
        // socat creates the TAP once it runs; it shows in sysfs (before anyone moves it away).
        while (!(await tapExists(opts.tap))) {
          if (child.exitCode !== null || child.signalCode !== null) return;
          if (Date.now() > end) throw new Error(`TAP ${opts.tap} did not appear within ${readyMs} ms`);
          await new Promise((r) => setTimeout(r, 20));
        }
        this.up = true;
        for (const w of this.readyWaiters.splice(0)) w();
        log('info', `TAP ${opts.tap} is up on ${opts.bridge.name}`);
      },
    });
  }

  /** Opens the datagram side, plugs the port into the bridge and starts socat. */
  static async open(opts: TapUplinkOptions): Promise<TapUplink> {
    const socat = opts.socat ?? onPath('socat');
    if (socat === undefined) throw new NetbackError('ENOENT', `TAP uplink ${opts.tap}: socat is not installed`);
    const d = await DatagramUplink.open({
      bridge: opts.bridge,
      name: opts.name ?? opts.tap,
      bind: { host: LOOPBACK, port: 0 },
      // Nothing is accepted until socat's port is known.
      remote: { host: LOOPBACK, port: 0 },
      port: opts.port,
      kind: 'tap',
      owner: `TAP ${opts.tap}`,
      logger: opts.logger,
    });
    const t = new TapUplink(d, opts, socat);
    t.supervisor.start();
    return t;
  }

  get name(): string {
    return this.dgram.name;
  }

  /** socat's pid while it runs. */
  get pid(): number | undefined {
    return this.supervisor.pid;
  }

  get restarts(): number {
    return this.supervisor.restarts;
  }

  /** Resolves once the current socat has brought the TAP up. */
  whenUp(timeoutMs = 10_000): Promise<void> {
    if (this.up && this.supervisor.running) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`TAP ${this.tap} not up after ${timeoutMs} ms`)), timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Stops socat (which removes the TAP) and closes the datagram side. */
  async close(): Promise<void> {
    await this.supervisor.stop();
    await this.dgram.close();
  }
}

async function tapExists(name: string): Promise<boolean> {
  return readFile(`/sys/class/net/${name}/ifindex`).then(
    () => true,
    () => false,
  );
}

/** A UDP port free on 127.0.0.1 now, for socat to bind. */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, LOOPBACK, () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

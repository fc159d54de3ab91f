// The block driver domain without its framework: the Ring gRPC server, the NBD server and the vbd
// backends, started in that order (a device's probe publishes both endpoints) and stopped in reverse after
// the requests in flight were answered.
import type { DomId } from '@dominion/abi';
import type { FileIO } from '@dominion/fsio';
import { RING_CHANNEL_OPTIONS, createRingService, type RingService, type RingStreamLog } from '@dominion/ringstream';
import { startGrpcServer, type GrpcHost } from '@dominion/runtime';
import type { XenbusLogger, XenbusStore } from '@dominion/xenbus';
import type { BlkbackConfig } from './config.js';
import { DomainChecks, type DomainOracle } from './domain-checks.js';
import { NbdServers } from './nbd-servers.js';
import { VbdBackends } from './vbd-backends.js';

export interface BlkbackOptions {
  domid: DomId;
  /** This domain's home, /local/domain/<domid>. */
  home: string;
  store: XenbusStore;
  hv: DomainOracle;
  io: FileIO;
  cfg: BlkbackConfig;
  logger: XenbusLogger;
  ringLog?: RingStreamLog;
  /** Overrides the hypervisor's getdomainkey (tests on a bus without identities). */
  keyOf?: (domid: DomId) => string | undefined | Promise<string | undefined>;
}

/** How long a clean stop waits for requests in flight. */
const DRAIN_MS = 5000;

export class Blkback {
  grpc!: GrpcHost;
  ring!: RingService;
  nbd!: NbdServers;
  vbds!: VbdBackends;
  grpcEndpoint = '';

  private constructor(private readonly opts: BlkbackOptions) {}

  static async start(opts: BlkbackOptions): Promise<Blkback> {
    const b = new Blkback(opts);
    try {
      await b.init();
    } catch (e) {
      await b.stop();
      throw e;
    }
    return b;
  }

  private async init(): Promise<void> {
    const { opts } = this;
    const checks = new DomainChecks(opts.hv, opts.logger);
    // A restarted driver domain owns nothing from its previous life: its old ports go back to the frontends
    // (unbound, offered to this domid again), so the devices can bind them anew.
    await opts.hv
      .evtchnReset()
      .catch((e: unknown) => opts.logger('warn', `evtchn_reset: ${e instanceof Error ? e.message : String(e)}`));
    this.ring = createRingService({
      backend: opts.domid,
      keyOf: opts.keyOf ?? ((d) => checks.keyOf(d)),
      authorize: (h) => this.vbds.authorize(h),
      log: opts.ringLog,
    });
    this.grpc = await startGrpcServer(opts.cfg.grpcListen, [this.ring], RING_CHANNEL_OPTIONS);
    const host = this.grpc.address.slice(0, this.grpc.address.lastIndexOf(':'));
    this.grpcEndpoint = `${host === '0.0.0.0' || host === '' ? '127.0.0.1' : host}:${this.grpc.port}`;
    this.nbd = new NbdServers(opts.cfg.nbdSocketDir, opts.logger);
    await this.nbd.start(opts.cfg.nbdPort);
    this.vbds = await VbdBackends.start({
      store: opts.store,
      path: `${opts.home}/backend/vbd`,
      io: opts.io,
      cfg: opts.cfg,
      nbd: this.nbd,
      checks,
      hv: opts.hv,
      grpcEndpoint: this.grpcEndpoint,
      ringService: () => this.ring,
      logger: opts.logger,
    });
    opts.logger(
      'info',
      `blkback dom${opts.domid} serving rings at ${this.grpcEndpoint}, NBD on 127.0.0.1:${this.nbd.port}`,
    );
  }

  /**
   * Takes no new requests, answers those in flight (bounded), then closes streams (the frontends re-issue
   * what was left on their rings to the next instance), exports and disks (flushed).
   */
  async stop(): Promise<void> {
    if (this.vbds) {
      this.vbds.quiesce();
      const inFlight = this.vbds.inFlight;
      const drained = await this.vbds.drain(DRAIN_MS);
      this.opts.logger(
        drained ? 'info' : 'warn',
        `blkback stopping: ${inFlight} request(s) in flight ${drained ? 'answered' : 'not all answered'}`,
      );
    }
    this.ring?.detach({}, 'blkback stopping');
    await this.grpc?.close();
    await this.vbds?.stop();
    await this.nbd?.close();
  }
}

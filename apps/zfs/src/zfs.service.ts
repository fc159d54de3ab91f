// The ZFS storage domain: imports its pools, serves the zpool/zfs admin API on NATS and the zvol block
// service on gRPC, publishes the block service's address in XenStore, and syncs a txg every
// DOMINION_ZFS_TXG_MS (the engine has no timer of its own).
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { busServe, subjects } from '@dominion/bus';
import { NodeFileIO } from '@dominion/fsio';
import {
  DOMAIN_CONFIG,
  LOGGER,
  NATS_CONNECTION,
  startGrpcServer,
  type DomainConfig,
  type GrpcHost,
  type Logger,
} from '@dominion/runtime';
import { XenstoreClient } from '@dominion/xenstore';
import { AdminApi } from './admin-api.js';
import { blockServiceDefinition } from './block-service.js';
import type { ZfsConfig } from './config.js';
import { Pools } from './pools.js';
import { ZFS_CONFIG } from './tokens.js';

/** Where the block service's host:port is published, under the domain's home path. */
export const BLOCK_ENDPOINT_KEY = 'data/zfs/block-endpoint';

@Injectable()
export class ZfsService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly pools: Pools;
  private api?: AdminApi;
  private sub?: Subscription;
  private grpc?: GrpcHost;
  private timer?: NodeJS.Timeout;
  private xs?: XenstoreClient;

  constructor(
    @Inject(DOMAIN_CONFIG) private readonly cfg: DomainConfig,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(ZFS_CONFIG) private readonly zfs: ZfsConfig,
  ) {
    this.pools = new Pools(new NodeFileIO(), zfs.dir);
  }

  /** host:port of the block service. */
  get blockEndpoint(): string {
    return this.grpc?.address ?? '';
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.pools.start(this.zfs.pools);
    const api = new AdminApi(this.pools, (pool, r) =>
      r instanceof Error
        ? this.log.warn({ pool, err: r }, 'scrub failed')
        : this.log.info({ pool, errors: r.errors, repaired: r.repairedBytes }, 'scrub finished'),
    );
    this.api = api;
    this.sub = busServe(
      this.nc,
      subjects.zfsAny('*'),
      (body, ctx) => api.handle(ctx.caller, ctx.subject.split('.')[3], body),
      {
        onInternalError: (e, subject) => this.log.warn({ err: e, subject }, 'zfs request failed'),
      },
    );
    this.grpc = await startGrpcServer(this.zfs.grpcListen, [
      blockServiceDefinition(this.pools, (e, where) => this.log.warn({ err: e, where }, 'zvol I/O failed')),
    ]);
    this.timer = setInterval(() => void this.pools.syncAll(), this.zfs.txgMs);
    this.timer.unref();
    await this.nc.flush();
    await this.publishEndpoint();
    this.log.info({ pools: this.pools.names(), dir: this.zfs.dir }, `zfs ready, block service at ${this.grpc.address}`);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.sub?.unsubscribe();
    this.api?.close();
    // Block streams never end on their own: cut them (clients re-issue what was unanswered on reconnect).
    this.grpc?.server.forceShutdown();
    await this.pools.close();
    await this.xs?.close().catch(() => undefined);
  }

  /** `/local/domain/<me>/data/zfs/block-endpoint`, when the domain has a domid (and so a XenStore home). */
  private async publishEndpoint(): Promise<void> {
    const domid = this.cfg.domid;
    if (domid === undefined) return;
    try {
      this.xs = new XenstoreClient(this.nc, { domid, onError: (e) => this.log.warn({ err: e }, 'xenstore') });
      const home = await this.xs.getDomainPath(domid);
      await this.xs.write(`${home}/${BLOCK_ENDPOINT_KEY}`, this.grpc!.address);
    } catch (e) {
      this.log.warn({ err: e }, 'cannot publish the block endpoint in XenStore');
    }
  }
}

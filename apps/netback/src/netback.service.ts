// The net driver domain's lifecycle: bridges and uplinks from the environment, then the vif backends on
// /local/domain/<me>/backend/vif over XenStore on the bus. The logic lives in the plain classes; this
// only wires them to the runtime and tears them down in reverse order.
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DomId } from '@dominion/abi';
import { errnoOf, messageOf } from '@dominion/bus';
import { HypervisorClient } from '@dominion/hypervisor';
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
import type { BridgePortStats } from './bridge-port.js';
import { Bridges } from './bridges.js';
import type { NetbackConfig } from './config.js';
import { NetbackError } from './errors.js';
import type { NetbackLogger } from './logger.js';
import { NETBACK_CONFIG } from './tokens.js';
import { Uplinks, type UplinkStatus } from './uplinks.js';
import { VifBackends } from './vif-backends.js';
import { NOAUTH_RING_KEY } from '@dominion/identity';
import { VifRings } from './vif-rings.js';

@Injectable()
export class NetbackService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly bridges: Bridges;
  readonly uplinks: Uplinks;
  vifs?: VifBackends;
  rings?: VifRings;
  grpc?: GrpcHost;
  private xs?: XenstoreClient;
  private hv?: HypervisorClient;
  private warnedNoAuth = false;
  private readonly logger: NetbackLogger;

  constructor(
    @Inject(DOMAIN_CONFIG) private readonly cfg: DomainConfig,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(NETBACK_CONFIG) private readonly netback: NetbackConfig,
  ) {
    this.logger = (level, msg, fields) => this.log[level](fields ?? {}, msg);
    this.bridges = new Bridges(netback.bridges);
    this.uplinks = new Uplinks(this.bridges, { socat: netback.socat, logger: this.logger });
  }

  async onApplicationBootstrap(): Promise<void> {
    const domid = this.cfg.domid;
    if (domid === undefined) throw new NetbackError('EINVAL', 'netback: DOMINION_DOMID is not set');
    for (const spec of this.netback.uplinks) await this.uplinks.open(spec);
    this.xs = new XenstoreClient(this.nc, { domid, onError: (e) => this.log.warn({ err: e }, 'xenstore') });
    const home = await this.xs.getDomainPath(domid);
    this.hv = new HypervisorClient(this.nc, domid);
    // A restarted driver domain owns nothing from its previous life: its old ports go back to the
    // frontends (unbound, offered to this domid again), so the vifs can bind them anew.
    await this.hv.evtchnReset().catch((e: unknown) => this.log.warn({ err: messageOf(e) }, 'evtchn_reset failed'));
    const rings = new VifRings({
      backend: domid,
      keyOf: (d) => this.keyOf(d),
      logger: this.logger,
      log: { info: (o, m) => this.log.info(o, m), warn: (o, m) => this.log.warn(o, m) },
    });
    this.rings = rings;
    this.grpc = await startGrpcServer(this.cfg.grpcListen ?? '127.0.0.1:0', [rings.service]);
    this.vifs = await VifBackends.start({
      store: this.xs,
      path: `${home}/backend/vif`,
      bridges: this.bridges,
      maxQueues: this.netback.maxQueues,
      endpoint: this.grpc.address,
      evtchn: this.hv,
      logger: this.logger,
      onConnect: (c) => rings.attach(c),
      onDisconnect: (c, why) => rings.detach(c, why),
    });
    this.log.info(
      { bridges: this.bridges.names(), uplinks: this.uplinks.status().map((u) => `${u.bridge}:${u.port}`) },
      `netback ready, rings at ${this.grpc.address}`,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.vifs?.stop();
    await this.grpc?.close();
    await this.uplinks.close();
    this.bridges.close();
    await this.xs?.close();
  }

  /** Every port of every bridge with its counters (for `xl network-list` and stats). */
  stats(): BridgePortStats[] {
    return this.bridges.stats();
  }

  /**
   * getdomainkey for the ring streams' proofs. A hypervisor that mints no identities (the bus runs without
   * auth) answers ENOSYS: there is no identity to prove, so streams are accepted on authorize alone, which
   * the well-known NOAUTH key stands for (frontends without credentials sign with its seed).
   */
  private async keyOf(domid: DomId): Promise<string | undefined> {
    try {
      return await this.hv!.getDomainKey(domid);
    } catch (e) {
      if (errnoOf(e) !== 'ENOSYS') {
        this.log.warn({ domid, err: (e as Error).message }, 'getdomainkey failed: ring stream refused');
        return undefined;
      }
      if (!this.warnedNoAuth) {
        this.warnedNoAuth = true;
        this.log.warn({}, 'getdomainkey: ENOSYS (bus without auth): ring streams are checked by XenStore only');
      }
      return NOAUTH_RING_KEY;
    }
  }

  uplinkStatus(): UplinkStatus[] {
    return this.uplinks.status();
  }
}

// The net driver domain's lifecycle: bridges and uplinks from the environment, then the vif backends on
// /local/domain/<me>/backend/vif over XenStore on the bus. The logic lives in the plain classes; this
// only wires them to the runtime and tears them down in reverse order.
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { DOMAIN_CONFIG, LOGGER, NATS_CONNECTION, type DomainConfig, type Logger } from '@dominion/runtime';
import { XenstoreClient } from '@dominion/xenstore';
import type { BridgePortStats } from './bridge-port.js';
import { Bridges } from './bridges.js';
import type { NetbackConfig } from './config.js';
import { NetbackError } from './errors.js';
import type { NetbackLogger } from './logger.js';
import { NETBACK_CONFIG } from './tokens.js';
import { Uplinks, type UplinkStatus } from './uplinks.js';
import { VifBackends } from './vif-backends.js';

@Injectable()
export class NetbackService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly bridges: Bridges;
  readonly uplinks: Uplinks;
  vifs?: VifBackends;
  private xs?: XenstoreClient;
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
    this.vifs = await VifBackends.start({
      store: this.xs,
      path: `${home}/backend/vif`,
      bridges: this.bridges,
      maxQueues: this.netback.maxQueues,
      logger: this.logger,
    });
    this.log.info(
      { bridges: this.bridges.names(), uplinks: this.uplinks.status().map((u) => `${u.bridge}:${u.port}`) },
      'netback ready',
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.vifs?.stop();
    await this.uplinks.close();
    this.bridges.close();
    await this.xs?.close();
  }

  /** Every port of every bridge with its counters (for `xl network-list` and stats). */
  stats(): BridgePortStats[] {
    return this.bridges.stats();
  }

  uplinkStatus(): UplinkStatus[] {
    return this.uplinks.status();
  }
}

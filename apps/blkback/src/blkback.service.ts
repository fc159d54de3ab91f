// The block driver domain's lifecycle: Blkback over XenStore and the hypervisor on the bus. The logic lives
// in the plain classes; this only wires them to the runtime and tears them down.
import { Inject, Injectable, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DomId } from '@dominion/abi';
import { NodeFileIO } from '@dominion/fsio';
import { HypervisorClient } from '@dominion/hypervisor';
import { DOMAIN_CONFIG, LOGGER, NATS_CONNECTION, type DomainConfig, type Logger } from '@dominion/runtime';
import { XenstoreClient } from '@dominion/xenstore';
import { Blkback } from './blkback.js';
import type { BlkbackConfig } from './config.js';
import { BlkbackError } from './errors.js';
import type { BlkbackLogger } from './logger.js';
import { BLKBACK_CONFIG, BLKBACK_KEY_OF } from './tokens.js';

export type KeyOf = (domid: DomId) => string | undefined | Promise<string | undefined>;

@Injectable()
export class BlkbackService implements OnApplicationBootstrap, OnApplicationShutdown {
  blkback?: Blkback;
  private xs?: XenstoreClient;
  private readonly logger: BlkbackLogger;

  constructor(
    @Inject(DOMAIN_CONFIG) private readonly cfg: DomainConfig,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(BLKBACK_CONFIG) private readonly blkbackCfg: BlkbackConfig,
    @Optional() @Inject(BLKBACK_KEY_OF) private readonly keyOf?: KeyOf,
  ) {
    this.logger = (level, msg, fields) => this.log[level](fields ?? {}, msg);
  }

  async onApplicationBootstrap(): Promise<void> {
    const domid = this.cfg.domid;
    if (domid === undefined) throw new BlkbackError('EINVAL', 'blkback: DOMINION_DOMID is not set');
    this.xs = new XenstoreClient(this.nc, { domid, onError: (e) => this.log.warn({ err: e }, 'xenstore') });
    this.blkback = await Blkback.start({
      domid,
      home: await this.xs.getDomainPath(domid),
      store: this.xs,
      hv: new HypervisorClient(this.nc, domid),
      io: new NodeFileIO(),
      cfg: this.blkbackCfg,
      logger: this.logger,
      ringLog: this.log,
      keyOf: this.keyOf,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.blkback?.stop();
    await this.xs?.close();
  }
}

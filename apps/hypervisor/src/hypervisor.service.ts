import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  Hypervisor,
  serveHypervisor,
  type DomainInfo,
  type HypervisorConfig,
  type HypervisorServer,
} from '@dominion/hypervisor';
import { Health, LOGGER, NATS_CONNECTION, type Logger } from '@dominion/runtime';
import type { DomainIdentities } from './domain-identities.js';
import { serveHypervisorWithIdentities } from './serve-with-identities.js';
import { DOMAIN_IDENTITIES, HYPERVISOR_CONFIG } from './tokens.js';

/**
 * Serves every hypercall on `xen.hv.*.<op>` and runs the liveness tick; publishes the engine's effects:
 * VIRQs on `xen.virq.<domid>`, port-state changes on `xen.evtchn.<dom>.ctl` (to the port's owner, before the
 * reply), EVTCHNOP_send events on `xen.evtchn.<dst>.<port>.<src>`. Console-ring lines also go to the log.
 */
@Injectable()
export class HypervisorService implements OnApplicationBootstrap, OnModuleDestroy {
  private server?: HypervisorServer;

  constructor(
    private readonly engine: Hypervisor,
    @Inject(HYPERVISOR_CONFIG) private readonly cfg: HypervisorConfig,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly health: Health,
    @Inject(DOMAIN_IDENTITIES) private readonly ids: DomainIdentities | null,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.ids) {
      // This hypervisor starts with only dom0: the users an earlier incarnation minted hold domids that are
      // free again. They are cut off before the first hypercall is served.
      const live = new Set((this.engine.getDomainInfo(0) as DomainInfo[]).map((d) => d.domid));
      const gone = await this.ids.revokeAllBut(live);
      if (gone.length > 0)
        this.log.warn({ domids: gone }, `revoked the credentials of ${gone.length} domain(s) of a previous start`);
    }
    const opts = {
      tickMs: this.cfg.tickMs,
      onLog: (line: string) => this.log.info({ dmesg: true }, line),
      onInternalError: (e: unknown, subject: string) =>
        this.log.error({ err: e, subject }, 'hypercall failed internally'),
      onRefusedReply: (caller: number | undefined, subject: string, reply: string) =>
        this.log.warn({ domid: caller, subject, reply }, 'hypercall dropped: reply subject is not the caller inbox'),
    };
    this.server = this.ids
      ? serveHypervisorWithIdentities(this.nc, this.engine, this.ids, opts)
      : serveHypervisor(this.nc, this.engine, opts);
    this.health.register('hypervisor', () => this.server !== undefined);
    const { host, liveness } = this.cfg;
    this.log.info(
      { cpus: host.nrCpus, memoryKiB: host.totalMemoryKiB, beatMs: liveness.beatMs, deadlineMs: liveness.deadlineMs },
      `hypervisor serving hypercalls${this.ids ? ", minting domains' credentials" : ' (bus without auth)'}`,
    );
  }

  async onModuleDestroy(): Promise<void> {
    this.server?.close();
    this.server = undefined;
    await this.ids?.close();
  }
}

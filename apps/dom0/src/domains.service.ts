// dom0's side of domain lifecycle that belongs to xenstored, as in Xen: dom0's own home is written at boot
// (what xen-init-dom0 does), and VIRQ_DOM_EXC is bound so that a domain that is gone from the hypervisor is
// released from XenStore (its nodes removed, @releaseDomain fired) even if no toolstack asked.
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { VIRQ } from '@dominion/abi';
import { EventChannels } from '@dominion/evtchn';
import { HypervisorClient } from '@dominion/hypervisor';
import { LOGGER, NATS_CONNECTION, type Logger } from '@dominion/runtime';
import { Dom0Xs } from './dom0-xs.js';
import { XenstoredService } from './xenstored.service.js';

const RETRY_MS = 1000;

@Injectable()
export class DomainsService implements OnApplicationBootstrap, OnModuleDestroy {
  private evtchn?: EventChannels;
  private stopped = false;
  private reconciling?: Promise<void>;
  private again = false;
  /** Resolves once VIRQ_DOM_EXC is bound (tests, readiness). */
  readonly bound: Promise<void>;
  private markBound!: () => void;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly xs: XenstoredService,
  ) {
    this.bound = new Promise((r) => (this.markBound = r));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.writeDom0Home();
    void this.bindDomExc();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    this.evtchn?.dispose();
  }

  /** /local/domain/0/{name,domid}, as xen-init-dom0 writes them. */
  private async writeDom0Home(): Promise<void> {
    const xs = new Dom0Xs(this.xs.xenstored);
    try {
      await xs.write('/local/domain/0/name', 'Domain-0');
      await xs.write('/local/domain/0/domid', '0');
    } finally {
      xs.close();
    }
  }

  /**
   * The hypervisor may come up after dom0 (compose starts them independently): keep trying. A restarted dom0
   * first resets its event channels, because its previous incarnation still holds the global VIRQ.
   */
  private async bindDomExc(): Promise<void> {
    const hv = new HypervisorClient(this.nc, 0);
    while (!this.stopped) {
      try {
        this.evtchn ??= new EventChannels(this.nc, 0, hv);
        await this.evtchn.reset();
        await this.evtchn.bindVirq(VIRQ.VIRQ_DOM_EXC, () => this.reconcile(hv));
        this.log.info('dom0: VIRQ_DOM_EXC bound');
        this.markBound();
        this.reconcile(hv);
        return;
      } catch (e) {
        this.log.debug({ err: e }, 'dom0: VIRQ_DOM_EXC not bound yet, retrying');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  /** One pass at a time; a VIRQ during a pass asks for another one after it. */
  private reconcile(hv: HypervisorClient): void {
    if (this.reconciling) {
      this.again = true;
      return;
    }
    this.reconciling = this.releaseGone(hv)
      .catch((e: unknown) => this.log.warn({ err: e }, 'dom0: reconciling domains with the hypervisor failed'))
      .finally(() => {
        this.reconciling = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.reconcile(hv);
        }
      });
  }

  private async releaseGone(hv: HypervisorClient): Promise<void> {
    const live = new Set((await hv.listDomains()).filter((d) => !d.dying).map((d) => d.domid));
    for (const domid of this.xs.xenstored.introducedDomains()) {
      if (live.has(domid)) continue;
      this.log.info({ domid }, `dom0: domain ${domid} is gone; releasing it from xenstore`);
      await this.xs.xenstored.releaseDomain(domid);
    }
  }
}

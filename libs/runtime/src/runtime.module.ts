import {
  Global,
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { HypervisorClient } from '@dominion/hypervisor';
import { loadDomainConfig, type DomainConfig } from './config.js';
import { Health } from './health.js';
import { createLogger, type Logger } from './logger.js';
import { connectBus } from './nats.js';
import { DOMAIN_CONFIG, LOGGER, NATS_CONNECTION, RUNTIME_OPTIONS } from './tokens.js';

export interface RuntimeOptions {
  service: string;
  /** Overrides of the environment-derived config (tests). */
  config?: Partial<DomainConfig>;
  /** Environment to read instead of process.env (tests). */
  env?: Record<string, string | undefined>;
  /**
   * Report liveness and CPU time to the hypervisor (default: yes, when the service has a domid). Without
   * beats the hypervisor cannot tell a hung domain from an idle one.
   */
  heartbeat?: boolean;
}

const DRAIN_TIMEOUT_MS = 2000;

/** Owns the process-wide resources: closes the bus and the health endpoint on shutdown. */
class RuntimeLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(DOMAIN_CONFIG) private readonly cfg: DomainConfig,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(RUNTIME_OPTIONS) private readonly opts: RuntimeOptions,
    private readonly health: Health,
  ) {}

  private beat?: { stop(): void };

  async onModuleInit(): Promise<void> {
    this.health.register('nats', () => !this.nc.isClosed());
    if (this.cfg.domid !== undefined && this.opts.heartbeat !== false) {
      this.beat = new HypervisorClient(this.nc, this.cfg.domid).startHeartbeat({
        onShutdown: (reason) => this.log.warn({ reason }, 'the hypervisor reports this domain shut down'),
        onError: (e) => this.log.debug({ err: e }, 'heartbeat failed'),
      });
    }
    if (this.cfg.healthPort !== undefined) await this.health.listen(this.cfg.healthPort);
    this.log.info({ nats: this.cfg.natsUrl }, `${this.cfg.service} connected to the bus`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.beat?.stop();
    await this.health.close();
    if (this.nc.isClosed()) return;
    // A drain needs the server: with the bus gone (stopped first, or unreachable) it would wait forever.
    const drained = this.nc.drain().then(
      () => true,
      () => false,
    );
    const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), DRAIN_TIMEOUT_MS).unref());
    if (!(await Promise.race([drained, timeout]))) await this.nc.close().catch(() => undefined);
  }
}

/** The module every domain service imports: config, logger, bus connection, health. */
@Global()
@Module({})
export class RuntimeModule {
  static forRoot(opts: RuntimeOptions): DynamicModule {
    return {
      module: RuntimeModule,
      providers: [
        { provide: RUNTIME_OPTIONS, useValue: opts },
        { provide: DOMAIN_CONFIG, useFactory: () => ({ ...loadDomainConfig(opts.service, opts.env), ...opts.config }) },
        { provide: LOGGER, useFactory: (cfg: DomainConfig) => createLogger(cfg), inject: [DOMAIN_CONFIG] },
        { provide: NATS_CONNECTION, useFactory: (cfg: DomainConfig) => connectBus(cfg), inject: [DOMAIN_CONFIG] },
        Health,
        RuntimeLifecycle,
      ],
      exports: [DOMAIN_CONFIG, LOGGER, NATS_CONNECTION, Health],
    };
  }
}

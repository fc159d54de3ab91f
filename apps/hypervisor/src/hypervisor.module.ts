import { Module, type DynamicModule } from '@nestjs/common';
import { cpus, totalmem } from 'node:os';
import { Hypervisor, hypervisorConfigFromEnv, type HypervisorConfig } from '@dominion/hypervisor';
import { DOMAIN_CONFIG, RuntimeModule, type DomainConfig } from '@dominion/runtime';
import { DomainIdentities } from './domain-identities.js';
import { HypervisorService } from './hypervisor.service.js';
import { DOMAIN_IDENTITIES, HYPERVISOR_CONFIG } from './tokens.js';

export interface HypervisorModuleOptions {
  /** Environment to read instead of process.env (tests). */
  env?: Record<string, string | undefined>;
}

/** The hypervisor service: the engine from libs/hypervisor served on the bus. */
@Module({})
export class HypervisorModule {
  static forRoot(opts: HypervisorModuleOptions = {}): DynamicModule {
    const env = opts.env ?? process.env;
    return {
      module: HypervisorModule,
      imports: [RuntimeModule.forRoot({ service: 'hypervisor', env })],
      providers: [
        {
          provide: HYPERVISOR_CONFIG,
          useFactory: (): HypervisorConfig =>
            hypervisorConfigFromEnv(env, { totalMemBytes: totalmem(), cpus: cpus().length }),
        },
        {
          provide: Hypervisor,
          useFactory: (cfg: HypervisorConfig, ids: DomainIdentities | null) =>
            new Hypervisor({
              host: cfg.host,
              liveness: cfg.liveness,
              domainKey: ids ? (domid) => ids.userOf(domid) : undefined,
            }),
          inject: [HYPERVISOR_CONFIG, DOMAIN_IDENTITIES],
        },
        {
          // Only the hypervisor is given the identity store: it mints and revokes domains' credentials.
          provide: DOMAIN_IDENTITIES,
          useFactory: (cfg: DomainConfig): Promise<DomainIdentities | null> | null =>
            env.DOMINION_IDENTITY_DIR ? DomainIdentities.open(env.DOMINION_IDENTITY_DIR, cfg.natsUrl) : null,
          inject: [DOMAIN_CONFIG],
        },
        HypervisorService,
      ],
      exports: [Hypervisor],
    };
  }
}

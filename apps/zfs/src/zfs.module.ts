import { Module, type DynamicModule } from '@nestjs/common';
import { DOMAIN_CONFIG, RuntimeModule, type DomainConfig } from '@dominion/runtime';
import { zfsConfigFromEnv } from './config.js';
import { ZfsService } from './zfs.service.js';
import { ZFS_CONFIG } from './tokens.js';

export interface ZfsModuleOptions {
  /** Environment to read instead of process.env (tests). */
  env?: Record<string, string | undefined>;
  /** Report liveness to the hypervisor (default: yes, when the service has a domid). */
  heartbeat?: boolean;
}

/** The ZFS storage domain: pools, the admin API and the zvol block service. */
@Module({})
export class ZfsModule {
  static forRoot(opts: ZfsModuleOptions = {}): DynamicModule {
    const env = opts.env ?? process.env;
    return {
      module: ZfsModule,
      imports: [RuntimeModule.forRoot({ service: 'zfs', env, heartbeat: opts.heartbeat })],
      providers: [
        {
          provide: ZFS_CONFIG,
          useFactory: (cfg: DomainConfig) => zfsConfigFromEnv(env, cfg.stateDir, cfg.grpcListen),
          inject: [DOMAIN_CONFIG],
        },
        ZfsService,
      ],
      exports: [ZfsService],
    };
  }
}

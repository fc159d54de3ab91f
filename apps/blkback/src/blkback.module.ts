import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DOMAIN_CONFIG, RuntimeModule, type DomainConfig } from '@dominion/runtime';
import { BlkbackService, type KeyOf } from './blkback.service.js';
import { blkbackConfigFromEnv } from './config.js';
import { BLKBACK_CONFIG, BLKBACK_KEY_OF } from './tokens.js';

export interface BlkbackModuleOptions {
  /** Environment to read instead of process.env (tests). */
  env?: Record<string, string | undefined>;
  /** Replaces getdomainkey (tests on a bus without identities). */
  keyOf?: KeyOf;
}

/** The block driver domain: vbd backends, their rings and NBD exports. */
@Module({})
export class BlkbackModule {
  static forRoot(opts: BlkbackModuleOptions = {}): DynamicModule {
    const env = opts.env ?? process.env;
    const providers: Provider[] = [
      {
        provide: BLKBACK_CONFIG,
        useFactory: (cfg: DomainConfig) => blkbackConfigFromEnv(env, cfg.stateDir, cfg.grpcListen),
        inject: [DOMAIN_CONFIG],
      },
      BlkbackService,
    ];
    if (opts.keyOf) providers.push({ provide: BLKBACK_KEY_OF, useValue: opts.keyOf });
    return {
      module: BlkbackModule,
      imports: [RuntimeModule.forRoot({ service: 'blkback', env })],
      providers,
      exports: [BlkbackService],
    };
  }
}

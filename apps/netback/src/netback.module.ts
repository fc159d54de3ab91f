import { Module, type DynamicModule } from '@nestjs/common';
import { RuntimeModule } from '@dominion/runtime';
import { netbackConfigFromEnv } from './config.js';
import { NetbackService } from './netback.service.js';
import { NETBACK_CONFIG } from './tokens.js';

export interface NetbackModuleOptions {
  /** Environment to read instead of process.env (tests). */
  env?: Record<string, string | undefined>;
}

/** The net driver domain: bridges, uplinks and vif backends. */
@Module({})
export class NetbackModule {
  static forRoot(opts: NetbackModuleOptions = {}): DynamicModule {
    const env = opts.env ?? process.env;
    return {
      module: NetbackModule,
      imports: [RuntimeModule.forRoot({ service: 'netback', env })],
      providers: [{ provide: NETBACK_CONFIG, useFactory: () => netbackConfigFromEnv(env) }, NetbackService],
      exports: [NetbackService],
    };
  }
}

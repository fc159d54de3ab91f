import { Module, type DynamicModule } from '@nestjs/common';
import { RuntimeModule } from '@dominion/runtime';
import { GUEST_OPTIONS, guestOptionsFromEnv, type GuestOptions } from './guest-options.js';
import { GuestService } from './guest.service.js';

@Module({})
export class GuestModule {
  /** `env` replaces process.env (tests); the runtime reads DOMINION_DOMID, DOMINION_NATS_URL… from it. */
  static forRoot(
    opts: { env?: Record<string, string | undefined>; guest?: Partial<GuestOptions> } = {},
  ): DynamicModule {
    return {
      module: GuestModule,
      imports: [RuntimeModule.forRoot({ service: 'guest', env: opts.env })],
      providers: [
        { provide: GUEST_OPTIONS, useValue: { ...guestOptionsFromEnv(opts.env), ...opts.guest } },
        GuestService,
      ],
      exports: [GuestService],
    };
  }
}

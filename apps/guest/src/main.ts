import { Module } from '@nestjs/common';
import { bootstrapDomain } from '@dominion/runtime';
import { bootstrapFromEnv } from './bootstrap.js';
import { GuestModule } from './guest.module.js';
import { GuestService } from './guest.service.js';

@Module({ imports: [GuestModule.forRoot()] })
class GuestAppModule {}

// started outside dom0's launcher (compose): name + one-time secret first become a domid and credentials
await bootstrapFromEnv(process.env);
const app = await bootstrapDomain('guest', GuestAppModule);
// A domain that shut itself down (halt, or the toolstack's control/shutdown) exits cleanly; a process whose
// domain is gone exits with 1.
const guest = app.get(GuestService);
const end = await Promise.race([
  guest.halted.then((reason) => ({ code: reason === 'crash' ? 1 : 0 })),
  guest.orphaned.then((why) => {
    console.error(`guest: exiting: ${why}`);
    return { code: 1 };
  }),
]);
await app.close();
process.exit(end.code);

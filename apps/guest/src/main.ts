import { Module } from '@nestjs/common';
import { bootstrapDomain } from '@dominion/runtime';
import { GuestModule } from './guest.module.js';
import { GuestService } from './guest.service.js';

@Module({ imports: [GuestModule.forRoot()] })
class GuestAppModule {}

const app = await bootstrapDomain('guest', GuestAppModule);
// A domain that shut itself down (halt, or the toolstack's control/shutdown) exits cleanly.
const reason = await app.get(GuestService).halted;
await app.close();
process.exit(reason === 'crash' ? 1 : 0);

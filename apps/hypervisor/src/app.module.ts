import { Module } from '@nestjs/common';
import { HypervisorModule } from './hypervisor.module.js';

/** What main.ts boots: the hypervisor configured from the process environment. */
@Module({ imports: [HypervisorModule.forRoot()] })
export class AppModule {}

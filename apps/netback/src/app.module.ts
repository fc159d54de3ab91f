import { Module } from '@nestjs/common';
import { NetbackModule } from './netback.module.js';

/** What main.ts boots: netback configured from the process environment. */
@Module({ imports: [NetbackModule.forRoot()] })
export class AppModule {}

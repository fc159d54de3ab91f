import { Module } from '@nestjs/common';
import { BlkbackModule } from './blkback.module.js';

/** What main.ts boots: blkback configured from the process environment. */
@Module({ imports: [BlkbackModule.forRoot()] })
export class AppModule {}

import { Module } from '@nestjs/common';
import { ZfsModule } from './zfs.module.js';

/** What main.ts boots: the ZFS domain configured from the process environment. */
@Module({ imports: [ZfsModule.forRoot()] })
export class AppModule {}

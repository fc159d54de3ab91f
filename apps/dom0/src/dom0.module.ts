import { Module } from '@nestjs/common';
import { RuntimeModule } from '@dominion/runtime';
import { XenstoredService } from './xenstored.service.js';

/** xenstored alone, for a module that brings its own RuntimeModule (tests, later the toolstack). */
@Module({ providers: [XenstoredService], exports: [XenstoredService] })
export class XenstoredModule {}

@Module({ imports: [RuntimeModule.forRoot({ service: 'dom0' }), XenstoredModule] })
export class Dom0Module {}

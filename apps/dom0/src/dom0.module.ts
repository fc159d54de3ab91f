import { Module } from '@nestjs/common';
import { RuntimeModule } from '@dominion/runtime';
import { DomainsService } from './domains.service.js';
import { ToolstackService } from './toolstack.service.js';
import { XenstoredService } from './xenstored.service.js';

/** xenstored alone, for a module that brings its own RuntimeModule (tests, later the toolstack). */
@Module({ providers: [XenstoredService], exports: [XenstoredService] })
export class XenstoredModule {}

/** Domain lifecycle as xenstored sees it: dom0's home, VIRQ_DOM_EXC, releasing domains that are gone. */
@Module({ imports: [XenstoredModule], providers: [DomainsService], exports: [DomainsService] })
export class DomainsModule {}

/** The toolstack API (`xen.toolstack.*`): creating, shutting down and destroying guests. */
@Module({ imports: [XenstoredModule], providers: [ToolstackService], exports: [ToolstackService] })
export class ToolstackModule {}

@Module({ imports: [RuntimeModule.forRoot({ service: 'dom0' }), XenstoredModule, DomainsModule, ToolstackModule] })
export class Dom0Module {}

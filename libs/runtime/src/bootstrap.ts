import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext, Type } from '@nestjs/common';
import { createLogger, PinoNestLogger } from './logger.js';
import { loadDomainConfig } from './config.js';

/**
 * Starts a domain service as a Nest application context (no HTTP server: its wires are NATS and gRPC) and
 * closes it cleanly on SIGTERM/SIGINT.
 */
export async function bootstrapDomain(service: string, appModule: Type<unknown>): Promise<INestApplicationContext> {
  const cfg = loadDomainConfig(service);
  const log = createLogger(cfg);
  const app = await NestFactory.createApplicationContext(appModule, {
    logger: new PinoNestLogger(log),
    abortOnError: false,
  });
  app.enableShutdownHooks();
  let closing = false;
  const stop = (signal: string): void => {
    if (closing) return;
    closing = true;
    log.info({ signal }, `${service} stopping`);
    app.close().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return app;
}

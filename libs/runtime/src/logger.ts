import { pino, type Logger } from 'pino';
import type { LoggerService } from '@nestjs/common';
import type { DomainConfig } from './config.js';

export type { Logger } from 'pino';

/** Structured JSON logs (pino) tagged with the service and domid. */
export function createLogger(cfg: Pick<DomainConfig, 'service' | 'domid' | 'logLevel'>): Logger {
  return pino({ level: cfg.logLevel, base: { service: cfg.service, domid: cfg.domid } });
}

/** Lets Nest's own messages go through the same pino logger. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}
  log(message: unknown, context?: string): void {
    this.pino.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.pino.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.pino.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.pino.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.pino.trace({ context }, String(message));
  }
}

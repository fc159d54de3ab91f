export * from './config.js';
export * from './logger.js';
export * from './nats.js';
export * from './health.js';
export * from './grpc.js';
export * from './tokens.js';
export * from './runtime.module.js';
export * from './bootstrap.js';

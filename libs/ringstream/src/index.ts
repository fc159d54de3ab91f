export * from './errors.js';
export * from './codec.js';
export * from './log.js';
export * from './wire.js';
export * from './wire-codec.js';
export * from './backend.js';
export * from './frontend.js';

export * from './errors.js';
export * from './logger.js';
export * from './block-backend.js';
export * from './raw-file-backend.js';
export * from './backend-keys.js';
export * from './vbd-server.js';

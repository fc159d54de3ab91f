export * from './errors.js';
export * from './block-wire.js';
export * from './target.js';
export * from './zvol-backend.js';
